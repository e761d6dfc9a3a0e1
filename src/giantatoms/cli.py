"""The ``giantatoms`` command line.

Subcommands: ``reproduce`` (the experiment's analysis as far as the package implements it),
``sweep`` (a parameter sweep declared in a TOML file, see docs/sweeps.md) and ``presets``
(list / show / export the packaged devices). Bad input exits with status 2 and a
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


_HEADLINE = ("bell_fidelity", "protocol_bell_fidelity_optimized", "concurrence")
_ALSO = ("concurrence", "purity", "stabilisation_time", "protocol_bell_fidelity_optimized")


def _best(ds: Any) -> dict[str, Any] | None:
    """The point of highest fidelity (last save instant for protocols) and its other metrics."""
    name = next((n for n in _HEADLINE if n in ds), None)
    if name is None:
        return None

    def last(var: Any) -> Any:
        return var.isel(time=-1) if "time" in var.dims else var

    values = last(ds[name]).where(~ds["failed"])
    if not np.isfinite(values.values).any():
        return None
    where = np.unravel_index(int(np.nanargmax(values.values)), values.shape)
    index = dict(zip(values.dims, where, strict=True))
    at = {
        dim: {"value": float(ds[dim].values[i]), "units": ds[dim].attrs.get("units", "")}
        if dim in ds.coords
        else {"value": int(i), "units": "index"}
        for dim, i in index.items()
    }
    metrics = {
        n: {"value": float(last(ds[n]).isel(index).values), "units": ds[n].attrs.get("units", "")}
        for n in (name, *_ALSO)
        if n in ds
    }
    return {"variable": name, "at": at, "metrics": metrics}


def _with_unit(value: float, units: str) -> str:
    return f"{value:.6g}" if units in ("", "1") else f"{value:.6g} {units}"


def _sweep(args: argparse.Namespace) -> int:
    from giantatoms.sweeps import SweepSpec, run_sweep

    spec, run = SweepSpec.from_toml(args.file)
    allowed = {"executor", "workers", "store", "retries", "overwrite"}
    unknown = sorted(set(run) - allowed)
    if unknown:
        raise ValueError(
            f"{args.file}: unknown keys in [run]: {unknown} (allowed: {sorted(allowed)})"
        )
    executor = args.executor or run.get("executor", "serial")
    workers = args.workers if args.workers is not None else run.get("workers")
    store = args.store or run.get("store")
    if store is None:
        store = Path(args.file).with_suffix(".zarr").name
    elif args.store is None and not Path(store).is_absolute():
        store = str(Path(args.file).parent / store)
    start = time.perf_counter()
    ds = run_sweep(
        spec,
        executor=executor,
        workers=workers,
        store=store,
        overwrite=args.overwrite or bool(run.get("overwrite", False)),
        retries=int(run.get("retries", 2)),
        progress=False if (args.quiet or args.json) else None,
    )
    elapsed = time.perf_counter() - start
    failed = int(ds["failed"].sum())
    summary = {
        "file": str(args.file),
        "store": str(store),
        "dims": {d: int(n) for d, n in zip(spec.dims, spec.shape, strict=True)},
        "points": spec.n_points,
        "failed": failed,
        "quantities": list(spec.quantities),
        "seconds": round(elapsed, 3),
        "best": _best(ds),
    }
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return 0
    shape = " × ".join(f"{d} {n}" for d, n in summary["dims"].items())
    print(f"sweep: {spec.n_points} points ({shape}), {failed} failed, {elapsed:.1f} s")
    best = summary["best"]
    if best is not None:
        at = ", ".join(f"{d} = {_with_unit(c['value'], c['units'])}" for d, c in best["at"].items())
        print(f"  best {best['variable']} at {at}:")
        for n, m in best["metrics"].items():
            print(f"    {n} = {_with_unit(m['value'], m['units'])}")
    if failed:
        errors = sorted({str(e) for e in np.asarray(ds["error"].values).ravel() if e})
        print(f"  failures: {'; '.join(errors[:3])}{' …' if len(errors) > 3 else ''}")
    print(f"written: {store}")
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

    swp = sub.add_parser(
        "sweep",
        help="run a parameter sweep declared in a TOML file",
        description="Run a sweep file (format: docs/sweeps.md). The labelled dataset is "
        "written to the store (Zarr directory or .nc file); rerunning resumes.",
    )
    swp.add_argument("file", help="sweep TOML file")
    swp.add_argument(
        "--executor",
        help="serial, processes, dask, or a Dask scheduler address (default: [run] or serial)",
    )
    swp.add_argument("--workers", type=int, help="worker processes for processes/dask")
    swp.add_argument("--store", help="Zarr directory or .nc file (default: [run] or FILE.zarr)")
    swp.add_argument("--overwrite", action="store_true", help="discard an existing store")
    swp.add_argument("--json", action="store_true", help="print the summary as JSON")
    swp.add_argument("--quiet", action="store_true", help="no progress bar")
    swp.set_defaults(func=_sweep)

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
