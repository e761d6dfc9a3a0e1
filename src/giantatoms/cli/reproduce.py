"""``giantatoms reproduce``: the experiment's analysis end to end (table, data, figures)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from giantatoms.cli._common import _load_device


def register(sub: Any) -> None:
    """Add the ``reproduce`` subcommand."""
    rep = sub.add_parser(
        "reproduce",
        help="run the experiment end to end: table paper | simulation, figures, data",
        description="Spectroscopy of each atom, coherence at the DF point, the steady-state "
        "map and stabilisation, the protocol (transfer to the DF point, storage; staying and "
        "the resonant point for comparison) and tomography with readout errors and bootstrap "
        "error bars. Prints the comparison table and writes summary.json, NetCDF data and PNG "
        "figures to --out.",
    )
    source = rep.add_mutually_exclusive_group()
    source.add_argument("--preset", default="sequential_pair", help="packaged device name")
    source.add_argument("--device", help="device TOML file")
    rep.add_argument(
        "--pair", nargs=2, metavar=("A", "B"), help="the two atoms (default: first two)"
    )
    rep.add_argument("--out", default="giantatoms-output", help="output folder")
    rep.add_argument(
        "--fast", "--quick", dest="fast", action="store_true", help="coarse settings (seconds)"
    )
    rep.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    rep.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a reconstruction assumption [R], e.g. readout_fidelity_e=0.9 or "
        "ramp_time_ns=20 (keys: giantatoms.experiments.reproduce.ASSUMPTIONS; repeatable)",
    )
    rep.add_argument("--json", action="store_true", help="print the summary as JSON")
    rep.add_argument("--quiet", action="store_true", help="no progress display")
    rep.set_defaults(func=_reproduce)


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


def _reproduce(args: argparse.Namespace) -> int:
    from giantatoms.experiments.reproduce import reproduce

    device = _load_device(args)
    figures = not args.no_figures
    progress = _Progress(total=6 if figures else 5, quiet=args.quiet or args.json)
    start = time.perf_counter()
    try:
        result = reproduce(
            device,
            pair=tuple(args.pair) if args.pair else (0, 1),
            fast=args.fast,
            figures=figures,
            assumptions=_assumption_overrides(args.set),
            progress=progress.step,
        )
    finally:
        progress.close()
    written = result.write(args.out)
    elapsed = time.perf_counter() - start
    if args.json:
        payload = {"table": result.table, **result.summary, "timings_s": result.timings}
        payload["written"] = [str(p) for p in written]
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    rows = result.table
    width = max(len(r["quantity"]) for r in rows)
    sim = max(16, *(len(r["simulation"]) for r in rows))
    print(f"{'quantity':<{width}} | {'paper':>12} | {'this simulation':>{sim}} | note")
    print("-" * (width + sim + 40))
    for r in rows:
        print(
            f"{r['quantity']:<{width}} | {r['paper']:>12} | {r['simulation']:>{sim}} | {r['note']}"
        )
    print("\n[R]: depends on reconstructed parameters (see the preset's assumptions and ")
    print("giantatoms.experiments.reproduce.ASSUMPTIONS).")
    print(f"\nwritten to {args.out}: " + ", ".join(p.name for p in written))
    print(f"total {elapsed:.1f} s")
    return 0


def _assumption_overrides(items: Sequence[str] | None) -> dict[str, float]:
    """``KEY=VALUE`` strings of ``reproduce --set`` → a mapping of numbers."""
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set takes KEY=VALUE (e.g. readout_fidelity_e=0.9), got {item!r}")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--set {key.strip()}: {value!r} is not a number") from None
    return out
