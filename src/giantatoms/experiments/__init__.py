"""Layer 6, experiments: studies end to end (``giantatoms reproduce`` in :mod:`.reproduce`).

Everything below may be used here; only the command line sits above.
"""
