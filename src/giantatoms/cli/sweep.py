"""``giantatoms sweep``: a parameter sweep declared in a TOML file (see docs/sweeps.md)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from giantatoms.cli._errors import _not_text


def register(sub: Any) -> None:
    """Add the ``sweep`` subcommand."""
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

    try:
        spec, run = SweepSpec.from_toml(args.file)
    except UnicodeDecodeError as exc:
        raise _not_text(args.file, "sweep TOML", exc) from None
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
