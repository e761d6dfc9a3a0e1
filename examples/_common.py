"""Shared command-line options of the examples: ``--fast`` (CI settings) and ``--out``."""

from __future__ import annotations

import argparse
from pathlib import Path


def options(description: str) -> argparse.Namespace:
    """Parse ``--fast`` and ``--out DIR`` (created)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--fast", action="store_true", help="coarse settings (seconds)")
    parser.add_argument("--out", default="example-output", help="folder for figures and data")
    args = parser.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    return args
