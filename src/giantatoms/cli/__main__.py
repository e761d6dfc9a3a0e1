"""``python -m giantatoms.cli``: run the command line."""

from __future__ import annotations

import sys

from giantatoms.cli._main import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
