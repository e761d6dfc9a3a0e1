"""Benchmark: throughput of the sweep layer against the core batched call, Dask and QuTiP.

Workload (issue: sweep throughput): a 10⁵-point steady-state sweep of two 3-level transmons
(preset ``sequential_pair``, d = 9, Liouvillian 81×81) at the entangling operating point, on a
50 × 50 × 40 grid of drive power (−140…−115 dBm) × detuning δ (0.25…6 MHz) × T1 of both atoms
(15…60 µs; the preset's T2 = 29.5 µs needs T1 ≥ 14.75 µs), with ``quantities=["steady"]``.
Every run is timed end to end and reported in points per second:

  * core batched: the same points computed by the lower layers in ONE batched call — the
    operating point, drive, master equation, ``steady_state(on_failure="flag")`` and the same
    metrics as the sweep (Bell fidelity optimised over local Z phases and in the drive frame,
    concurrence, purity, excited population of each atom), on flat arrays of all points;
  * ``sweep(..., executor="serial")`` (spec creation + chunks + dataset assembly);
  * ``sweep(..., executor="processes", workers=2)``, including the pool start-up;
  * a ``ProcessExecutor(2)`` reused: its first run (start-up included) and a second identical
    run on the warm pool;
  * a 2-worker Dask ``LocalCluster`` (``threads_per_worker=1``) through its ``Client``; the
    cluster start-up (cluster + client + importing the package on the workers) is timed
    separately and not counted in the sweep;
  * ``qutip.parallel_map`` with 2 processes over a random subsample of the points (each task
    builds its point's master equation with this package, exports it with ``to_qutip`` and
    calls ``qutip.steadystate``, then the same metrics on ``rho.full()``), extrapolated to the
    full point count.

The issue's target: the serial sweep stays within 1.5× of the core batched time (no overhead
from the sweep layer). Also checked: the serial sweep's Bell fidelities equal the core's, the
parallel sweeps are identical to the serial one, and QuTiP's states agree with ours on the
subsample.

The machine this was written for has 2 cores. Nothing is pinned here: the benchmark process
keeps the package's defaults (the dense steady-state solver uses a thread pool of CPU-count
threads in the core call and in the serial sweep alike; the sweep's worker processes pin BLAS
and the solver to one thread each; QuTiP's forked workers inherit the parent's settings).

Usage: ``python benchmarks/bench_sweeps.py [--grid 50 50 40 | --scale 0.1] [--chunk-size N]
[--qutip-sample 200] [--seed 0] [--out benchmarks/results]``. Timings are printed, with ratios,
and written to ``benchmarks/results/sweeps.json``; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import giantatoms as ga
from giantatoms.sweeps import ProcessExecutor, sweep
from giantatoms.units import MHz, us

DEFAULT_GRID = (50, 50, 40)
POWER_DBM = (-140.0, -115.0)
DETUNING_MHZ = (0.25, 6.0)
T1_US = (15.0, 60.0)
PATHS = ("drive.power_dbm", "drive.detuning", "atoms.*.t1")
#: The issue's target for serial sweep time / core batched time (printed, not enforced).
WITHIN = 1.5


# ------------------------------------------------------------------------------------------
# Grid


def grid_axes(shape: tuple[int, int, int]) -> dict[str, np.ndarray]:
    n_p, n_d, n_t = shape
    return {
        "drive.power_dbm": np.linspace(*POWER_DBM, n_p),
        "drive.detuning": np.linspace(*DETUNING_MHZ, n_d) * MHz,
        "atoms.*.t1": np.linspace(*T1_US, n_t) * us,
    }


def scaled_grid(scale: float) -> tuple[int, int, int]:
    factor = scale ** (1.0 / 3.0)
    return tuple(max(1, round(n * factor)) for n in DEFAULT_GRID)  # type: ignore[return-value]


def flat_points(axes: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every grid point as flat arrays, in the sweep's C order over (power, detuning, t1)."""
    mesh = np.meshgrid(*(axes[p] for p in PATHS), indexing="ij")
    return tuple(m.ravel() for m in mesh)  # type: ignore[return-value]


# ------------------------------------------------------------------------------------------
# Core: the same work as the sweep's ``_evaluate`` / ``_steady``, in one batched call


@functools.cache
def load_device() -> ga.Device:
    return ga.presets.load("sequential_pair")


def correlation_frequency(device: ga.Device) -> float:
    return float(ga.entangling_operating_point(device, 0.0).correlation_frequency)


def with_t1(device: ga.Device, t1: np.ndarray | float) -> ga.Device:
    return dataclasses.replace(device, atoms=[a.replace(t1=t1) for a in device.atoms])


def fidelities(rho: np.ndarray, target: np.ndarray, dims: tuple[int, ...]) -> dict:
    """Bell fidelity (optimised and in the drive frame) to each point's dark state."""
    names = np.broadcast_to(target, rho.shape[:-2])
    out = {"optimized": np.full(names.shape, np.nan), "frame": np.full(names.shape, np.nan)}
    for name in np.unique(names):
        mask = names == name
        for key, optimize in (("optimized", True), ("frame", False)):
            out[key][mask] = ga.bell_fidelity(
                rho[mask], str(name), optimize_phases=optimize, atoms=(0, 1), dims=dims
            )
    return out


def metrics(rho: np.ndarray, theta: np.ndarray, dims: tuple[int, ...]) -> dict[str, np.ndarray]:
    target = np.where(np.cos(theta) > 0, "psi-", "psi+")
    fid = fidelities(rho, target, dims)
    return {
        "bell_fidelity": fid["optimized"],
        "bell_fidelity_frame": fid["frame"],
        "concurrence": ga.concurrence(rho, atoms=(0, 1), dims=dims),
        "purity": ga.purity(rho),
        "excited_population": np.stack(
            [ga.excited_population(rho, atom=k, dims=dims) for k in range(len(dims))], axis=-1
        ),
    }


def core_batched(axes: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
    """Time the whole grid as one batched call of the lower layers (flat arrays of points)."""
    device = load_device()
    t0 = time.perf_counter()
    power, delta, t1 = flat_points(axes)
    w0 = correlation_frequency(device)
    batched = with_t1(device, t1)
    op = ga.entangling_operating_point(batched, delta, correlation_frequency=w0)
    drive = ga.Drive(frequency=op.drive_frequency, power_dbm=power, port="left", phase=0.0)
    me = ga.master_equation(batched, drive, frequencies=op.frequencies)
    ss = ga.steady_state(me, on_failure="flag")
    rho = ss.rho
    finite = np.isfinite(rho).all(axis=(-2, -1))
    d = rho.shape[-1]
    safe = np.where(finite[..., None, None], rho, np.eye(d) / d)
    out = metrics(safe, op.theta, device.dims)
    for name in ("bell_fidelity", "bell_fidelity_frame", "concurrence", "purity"):
        out[name][~finite] = np.nan
    out["excited_population"][~finite] = np.nan
    elapsed = time.perf_counter() - t0
    out["rho"] = rho
    out["converged"] = ss.converged
    return elapsed, out


# ------------------------------------------------------------------------------------------
# Sweeps


def timed_sweep(axes: dict[str, np.ndarray], chunk_size: int | None, **run) -> tuple[float, object]:
    device = load_device()
    t0 = time.perf_counter()
    ds = sweep(device, axes, quantities=["steady"], chunk_size=chunk_size, progress=False, **run)
    return time.perf_counter() - t0, ds


def import_package() -> None:
    """Run on each Dask worker at start-up: the package's imports belong to the start-up."""
    import giantatoms.sweeps  # noqa: F401


def dask_sweep(axes: dict[str, np.ndarray], chunk_size: int | None, workers: int) -> dict:
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
    client = Client(cluster)
    client.run(import_package)
    startup = time.perf_counter() - t0
    try:
        seconds, ds = timed_sweep(axes, chunk_size, executor=client)
    finally:
        t1 = time.perf_counter()
        client.close()
        cluster.close()
        shutdown = time.perf_counter() - t1
    return {"startup": startup, "seconds": seconds, "shutdown": shutdown, "dataset": ds}


# ------------------------------------------------------------------------------------------
# QuTiP


def qutip_point(point: tuple[float, float, float], w0: float) -> dict[str, object]:
    """One point: our master equation, exported to QuTiP, solved by ``qutip.steadystate``."""
    import qutip

    power, delta, t1 = point
    device = with_t1(load_device(), t1)
    op = ga.entangling_operating_point(device, delta, correlation_frequency=w0)
    drive = ga.Drive(frequency=op.drive_frequency, power_dbm=power, port="left", phase=0.0)
    me = ga.master_equation(device, drive, frequencies=op.frequencies)
    h, c_ops = me.to_qutip()
    rho = qutip.steadystate(h, c_ops).full()
    out = metrics(rho[None], np.atleast_1d(op.theta), device.dims)
    return {"rho": rho, **{k: v[0] for k, v in out.items()}}


def qutip_sweep(axes: dict[str, np.ndarray], sample: int, seed: int, workers: int) -> dict:
    """``parallel_map`` over a random subsample; the pool start-up is measured on its own."""
    from qutip import parallel_map

    power, delta, t1 = flat_points(axes)
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(power.size, size=min(sample, power.size), replace=False))
    values = [(float(power[k]), float(delta[k]), float(t1[k])) for k in picks]
    w0 = correlation_frequency(load_device())
    # Warm-up in the parent: the forked workers inherit QuTiP's imports and lazy set-up.
    qutip_point(values[0], w0)
    t0 = time.perf_counter()
    parallel_map(abs, list(range(workers)), map_kw={"num_cpus": workers})
    startup = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = parallel_map(
        qutip_point, values, task_kwargs={"w0": w0}, map_kw={"num_cpus": workers}
    )
    seconds = time.perf_counter() - t0
    per_point = max(seconds - startup, 0.0) / len(picks)
    return {
        "picks": picks,
        "results": results,
        "seconds": seconds,
        "startup": startup,
        "extrapolated": startup + per_point * power.size,
    }


# ------------------------------------------------------------------------------------------
# Reporting


def max_abs_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |a − b| over finite entries; inf when a and b are not finite at the same points."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = np.isfinite(a) & np.isfinite(b)
    if not np.array_equal(np.isfinite(a), np.isfinite(b)):
        return float("inf")
    return float(np.abs(a[both] - b[both]).max(initial=0.0))


def identical(a: object, b: object) -> bool:
    names = ("bell_fidelity", "bell_fidelity_frame", "concurrence", "purity", "excited_population")
    return all(
        np.array_equal(a[n].values, b[n].values, equal_nan=True)  # type: ignore[index]
        for n in names
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--grid",
        type=int,
        nargs=3,
        metavar=("N_POWER", "N_DETUNING", "N_T1"),
        help=f"grid shape (default {' '.join(map(str, DEFAULT_GRID))} = 10⁵ points)",
    )
    size.add_argument(
        "--scale", type=float, help="fraction of the 10⁵ points (each axis × scale^(1/3))"
    )
    parser.add_argument("--chunk-size", type=int, default=None, help="default: the package's")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--qutip-sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0, help="of the QuTiP subsample")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    if args.scale is not None and not args.scale > 0:
        parser.error("--scale must be > 0")
    shape = tuple(args.grid) if args.grid else scaled_grid(args.scale or 1.0)
    if any(n < 1 for n in shape):
        parser.error("grid sizes must be ≥ 1")
    axes = grid_axes(shape)  # type: ignore[arg-type]
    n = int(np.prod(shape))
    workers = args.workers
    print(
        f"cores: {os.cpu_count()}, python {platform.python_version()}, numpy {np.__version__}, "
        f"giantatoms {ga.__version__}"
    )
    print(
        f"grid {shape[0]}×{shape[1]}×{shape[2]} = {n} points (power {POWER_DBM} dBm, detuning "
        f"{DETUNING_MHZ} MHz, t1 {T1_US} µs), two 3-level transmons (d=9), quantities=steady"
    )

    # Warm-up: imports (xarray, the solvers), thread pools, caches.
    tiny = {p: v[:2] for p, v in axes.items()}
    core_batched(tiny)
    timed_sweep(tiny, None, executor="serial")

    rows: list[dict] = []

    def row(name: str, seconds: float, points: int = n, **extra) -> None:
        rows.append({"run": name, "points": points, "seconds": seconds, **extra})
        print(f"  {name:<44s} {seconds:9.2f} s  {points / seconds:10.0f} points/s", flush=True)

    print("\nruns:")
    t_core, core = core_batched(axes)
    row("core batched (one call)", t_core)

    t_serial, ds_serial = timed_sweep(axes, args.chunk_size, executor="serial")
    chunk_size = int(ds_serial.attrs["chunk_size"])
    n_chunks = -(-n // chunk_size)
    row("sweep serial", t_serial)

    t_proc, ds_proc = timed_sweep(axes, args.chunk_size, executor="processes", workers=workers)
    row(f"sweep processes ({workers}, incl. pool start-up)", t_proc)

    with ProcessExecutor(workers) as pool:
        t_first, ds_first = timed_sweep(axes, args.chunk_size, executor=pool)
        row(f"sweep ProcessExecutor({workers}) 1st run", t_first)
        t_warm, ds_warm = timed_sweep(axes, args.chunk_size, executor=pool)
        row(f"sweep ProcessExecutor({workers}) warm 2nd run", t_warm)

    dask = dask_sweep(axes, args.chunk_size, workers)
    row(
        f"sweep Dask LocalCluster({workers}) (excl. start-up)",
        dask["seconds"],
        startup_seconds=dask["startup"],
        shutdown_seconds=dask["shutdown"],
    )
    print(
        f"    (LocalCluster + Client + package import on workers: {dask['startup']:.2f} s, "
        f"close: {dask['shutdown']:.2f} s)"
    )

    qutip = qutip_sweep(axes, args.qutip_sample, args.seed, workers)
    picks, qres = qutip["picks"], qutip["results"]
    row(
        f"qutip parallel_map ({workers}) extrapolated",
        qutip["extrapolated"],
        measured_points=len(picks),
        measured_seconds=qutip["seconds"],
        pool_startup_seconds=qutip["startup"],
    )
    print(
        f"    (measured: {len(picks)} points in {qutip['seconds']:.2f} s; extrapolated as pool "
        f"start-up {qutip['startup']:.2f} s + per-point time × {n})"
    )

    # Agreement checks.
    flat_fid = ds_serial["bell_fidelity"].values.ravel()
    fid_diff = max_abs_difference(core["bell_fidelity"], flat_fid)
    frame_diff = max_abs_difference(
        core["bell_fidelity_frame"], ds_serial["bell_fidelity_frame"].values.ravel()
    )
    same = {
        "processes": identical(ds_serial, ds_proc),
        "process_executor_first": identical(ds_serial, ds_first),
        "process_executor_warm": identical(ds_serial, ds_warm),
        "dask": identical(ds_serial, dask["dataset"]),
    }
    q_rho = np.stack([r["rho"] for r in qres])
    rho_diff = float(np.abs(q_rho - core["rho"][picks]).max())
    q_fid = np.array([r["bell_fidelity"] for r in qres])
    q_fid_diff = max_abs_difference(q_fid, core["bell_fidelity"][picks])
    failed = int(ds_serial["failed"].values.sum())

    # Table.
    print(
        f"\nchunk_size {chunk_size} ({n_chunks} chunks), {workers} workers, {failed} failed points"
    )
    header = (
        f"{'run':<46s} {'points':>8s} {'seconds':>9s} {'points/s':>10s} "
        f"{'vs core':>8s} {'vs serial':>9s}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        r["points_per_second"] = r["points"] / r["seconds"]
        r["ratio_vs_core"] = r["seconds"] / t_core
        r["ratio_vs_serial_sweep"] = r["seconds"] / t_serial
        print(
            f"{r['run']:<46s} {r['points']:>8d} {r['seconds']:>9.2f} "
            f"{r['points_per_second']:>10.0f} {r['ratio_vs_core']:>8.2f} "
            f"{r['ratio_vs_serial_sweep']:>9.2f}"
        )
    print("(vs core, vs serial: seconds ÷ the reference's seconds; > 1 is slower)")
    overhead = t_serial / t_core
    within = overhead <= WITHIN
    print(
        f"\nserial sweep / core batched = {overhead:.2f}  →  within {WITHIN}× of core: "
        f"{'yes' if within else 'no'}"
    )
    print(f"speed-up, warm 2-process sweep vs serial sweep: {t_serial / t_warm:.2f}×")
    print(
        f"speed-up, warm 2-process sweep vs QuTiP parallel_map: "
        f"{qutip['extrapolated'] / t_warm:.0f}×"
    )
    print(f"max |bell_fidelity core − sweep| = {fid_diff:.1e} (frame: {frame_diff:.1e})")
    print(
        "parallel sweeps identical to the serial one: "
        + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in same.items())
    )
    print(
        f"QuTiP subsample: max |ρ_qutip − ρ| = {rho_diff:.1e}, max |F_qutip − F| = {q_fid_diff:.1e}"
    )

    result = {
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "giantatoms": ga.__version__,
        },
        "workload": {
            "device": "sequential_pair",
            "grid": list(shape),
            "points": n,
            "power_dbm": list(POWER_DBM),
            "detuning_mhz": list(DETUNING_MHZ),
            "t1_us": list(T1_US),
            "quantities": ["steady"],
            "operating_point": "entangling",
            "chunk_size": chunk_size,
            "chunks": n_chunks,
            "workers": workers,
            "qutip_sample": len(picks),
        },
        "runs": rows,
        "serial_over_core": overhead,
        "within_1_5x_of_core": bool(within),
        "failed_points": failed,
        "max_abs_bell_fidelity_difference_core_vs_sweep": fid_diff,
        "max_abs_bell_fidelity_frame_difference_core_vs_sweep": frame_diff,
        "identical_to_serial_sweep": same,
        "qutip_max_abs_rho_difference": rho_diff,
        "qutip_max_abs_bell_fidelity_difference": q_fid_diff,
    }
    path = out / "sweeps.json"
    path.write_text(json.dumps(result, indent=2, allow_nan=True))
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
