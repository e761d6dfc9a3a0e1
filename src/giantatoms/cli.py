"""The ``giantatoms`` command line.

Subcommands: ``reproduce`` (the experiment's analysis as far as the package implements it) and
``presets`` (list / show / export the packaged devices). Bad input exits with status 2 and a
one-line message; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main"]


class _Progress:
    """Step progress on stderr, silent when stderr is not a terminal or with --quiet."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.done = total, 0
        self.enabled = not quiet and sys.stderr.isatty()
        self.start = time.perf_counter()

    def step(self, label: str) -> None:
        self.done += 1
        if self.enabled:
            elapsed = time.perf_counter() - self.start
            sys.stderr.write(f"\r[{self.done}/{self.total}] {label:<60s} {elapsed:6.1f} s")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _load_device(args: argparse.Namespace) -> Any:
    from giantatoms import presets
    from giantatoms.device import Device

    if args.device is not None:
        return Device.from_toml(Path(args.device))
    return presets.load(args.preset)


def _reproduce(args: argparse.Namespace) -> int:
    from giantatoms.experiment import reproduce_steady_state

    device = _load_device(args)
    progress = _Progress(total=5, quiet=args.quiet or args.json)
    report = reproduce_steady_state(device, quick=args.quick, progress=progress.step)
    progress.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(report["summary"], indent=2) + "\n")
    np.savez_compressed(out / "fidelity_map.npz", **report["map"])
    if args.json:
        print(json.dumps(report["summary"], indent=2))
        return 0
    rows = report["summary"]["table"]
    width = max(len(r["quantity"]) for r in rows)
    print(f"{'quantity':<{width}} | {'paper':>14} | {'this simulation':>16} | note")
    print("-" * (width + 60))
    for r in rows:
        print(f"{r['quantity']:<{width}} | {r['paper']:>14} | {r['simulation']:>16} | {r['note']}")
    print(f"\nwritten: {out / 'summary.json'}, {out / 'fidelity_map.npz'}")
    return 0


def _presets(args: argparse.Namespace) -> int:
    from giantatoms import presets

    if args.action == "list":
        for name in presets.names():
            print(f"{name:<28s} {presets.describe(name).splitlines()[0]}")
    elif args.action == "show":
        print(presets.text(args.name), end="")
    else:
        target = Path(args.to or f"{args.name}.toml")
        target.write_text(presets.text(args.name))
        print(f"written: {target}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="giantatoms",
        description="Driven-dissipative entanglement of giant atoms in waveguide QED.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    rep = sub.add_parser("reproduce", help="reproduce the experiment's analysis")
    source = rep.add_mutually_exclusive_group()
    source.add_argument("--preset", default="sequential_pair", help="packaged device name")
    source.add_argument("--device", help="device TOML file")
    rep.add_argument("--out", default="giantatoms-output", help="output folder")
    rep.add_argument("--quick", action="store_true", help="coarse grids (seconds)")
    rep.add_argument("--json", action="store_true", help="print the summary as JSON")
    rep.add_argument("--quiet", action="store_true", help="no progress display")
    rep.set_defaults(func=_reproduce)

    pre = sub.add_parser("presets", help="list, show or export packaged devices")
    pre.add_argument("action", choices=["list", "show", "export"])
    pre.add_argument("name", nargs="?", default="sequential_pair")
    pre.add_argument("--to", help="export path (default NAME.toml)")
    pre.set_defaults(func=_presets)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as exc:
        if args.debug:
            raise
        print(f"giantatoms: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
