"""The package version (the ground floor: importable from every layer)."""

__version__ = "0.1.0"
