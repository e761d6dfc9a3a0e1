"""Benchmark: batched steady states against QuTiP and against the bare LAPACK floor.

Workload 1 (issue #2): two 3-level transmons (d = 9, Liouvillian 81×81) of the reconstructed
chip on a 100×100 grid of (drive power, detuning) at the entangling operating point, built from
the device (couplings, operating point, master equation and steady state all timed). Compared
in the same run with
  * a loop of ``qutip.steadystate`` over a random subsample of the same points (extrapolated),
  * the bare batched ``numpy.linalg.solve`` of the same complex Liouvillians with the trace row
    (the floor: no model building, no diagnostics).

Workload 2: one steady state of N = 2…7 driven two-level giant atoms, time and peak memory
against ``qutip.steadystate``; each case runs in a fresh subprocess so that peak RSS is its own.

Usage: ``python benchmarks/bench_steady_state.py [--grid 100] [--qutip-sample 200]``.
Timings are printed, with ratios; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import giantatoms as ga
from giantatoms.liouvillian import liouvillian
from giantatoms.units import MHz


def grid_workload(n_grid: int) -> tuple[ga.MasterEquation, float, object]:
    device = ga.presets.load("sequential_pair")
    t0 = time.perf_counter()
    deltas = np.linspace(0.25, 6.0, n_grid) * MHz
    powers = np.linspace(-140.0, -115.0, n_grid)
    op = ga.entangling_operating_point(device, deltas)
    drive = ga.Drive(frequency=op.drive_frequency[None, :], power_dbm=powers[:, None])
    me = ga.master_equation(device, drive, frequencies=op.frequencies[None, :, :])
    ss = ga.steady_state(me)
    elapsed = time.perf_counter() - t0
    return me, elapsed, ss


def floor(me: ga.MasterEquation) -> float:
    lv = liouvillian(me).reshape(-1, me.dimension**2, me.dimension**2)
    d = me.dimension
    m = lv.copy()
    m[:, 0, :] = 0.0
    m[:, 0, np.arange(d) * (d + 1)] = 1.0
    b = np.zeros((m.shape[0], d * d, 1), dtype=complex)
    b[:, 0, 0] = 1.0
    t0 = time.perf_counter()
    np.linalg.solve(m, b)
    return time.perf_counter() - t0


def qutip_loop(me: ga.MasterEquation, sample: int, seed: int = 0) -> tuple[float, float]:
    import qutip

    flat = me[...]  # view
    n = int(np.prod(flat.batch_shape))
    rng = np.random.default_rng(seed)
    picks = rng.choice(n, size=min(sample, n), replace=False)
    models = [me.to_qutip(np.unravel_index(p, me.batch_shape)) for p in picks]
    t0 = time.perf_counter()
    states = [qutip.steadystate(h, c) for h, c in models]
    per_point = (time.perf_counter() - t0) / len(picks)
    ours = ga.steady_state(me).rho.reshape(-1, me.dimension, me.dimension)[picks]
    worst = max(np.abs(s.full() - r).max() for s, r in zip(states, ours, strict=True))
    return per_point, worst


CHILD = r"""
import json, sys, time
import numpy as np
import giantatoms as ga
from giantatoms.units import GHz, MHz, us
n, which = int(sys.argv[1]), sys.argv[2]
v = 1.2e8
atoms = [ga.Atom(f"Q{j}", frequency=4.6 * GHz, points=[0.3 * j, 0.3 * j + 0.084],
                 point_rates=2 * MHz, t1=30 * us, t_phi=60 * us) for j in range(n)]
device = ga.Device(waveguide=ga.Waveguide(v), atoms=atoms)
drive = ga.Drive(frequency=4.6 * GHz + 2 * MHz, power_dbm=-128)
me = ga.master_equation(device, drive)
if which == "qutip":
    import qutip
    h, c = me.to_qutip()
def high_water_kb():
    # VmHWM belongs to this process image; ru_maxrss would carry over the parent's peak
    # across fork/exec (the parent holds the 100x100 grid).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
base = high_water_kb()
t0 = time.perf_counter()
if which == "qutip":
    rho = qutip.steadystate(h, c).full()
    method = "qutip.steadystate"
else:
    ss = ga.steady_state(me)
    rho, method = ss.rho, ss.method
elapsed = time.perf_counter() - t0
peak = high_water_kb()
np.save(sys.argv[3], rho)
print(json.dumps({"seconds": elapsed, "peak_extra_mb": (peak - base) / 1024, "method": method}))
"""


def n_atom_workload(max_atoms: int, tmp: Path, timeout: float) -> list[dict]:
    rows = []
    for n in range(2, max_atoms + 1):
        row = {"n_atoms": n, "d": 2**n}
        for which in ("giantatoms", "qutip"):
            out = tmp / f"rho_{n}_{which}.npy"
            try:
                res = subprocess.run(
                    [sys.executable, "-c", CHILD, str(n), which, str(out)],
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=timeout,
                )
                row[which] = json.loads(res.stdout.strip().splitlines()[-1])
            except subprocess.TimeoutExpired:
                row[which] = {
                    "seconds": float("inf"),
                    "peak_extra_mb": float("nan"),
                    "method": f"did not finish in {timeout:.0f} s",
                }
            except subprocess.CalledProcessError as exc:  # e.g. out of memory
                last = (exc.stderr or "").strip().splitlines()[-1:] or ["no message"]
                row[which] = {
                    "seconds": float("inf"),
                    "peak_extra_mb": float("nan"),
                    "method": f"failed: {last[0][:80]}",
                }
        finished = all(np.isfinite(row[w]["seconds"]) for w in ("giantatoms", "qutip"))
        row["max_abs_difference"] = float("nan")
        if finished:
            ours = np.load(tmp / f"rho_{n}_giantatoms.npy")
            row["max_abs_difference"] = float(
                np.abs(ours - np.load(tmp / f"rho_{n}_qutip.npy")).max()
            )
        rows.append(row)
        g, q = row["giantatoms"], row["qutip"]
        print(
            f"N={n} d={2**n:4d}  giantatoms {g['seconds'] * 1e3:9.1f} ms "
            f"{g['peak_extra_mb']:8.1f} MB ({g['method']})   qutip {q['seconds'] * 1e3:9.1f} ms "
            f"{q['peak_extra_mb']:8.1f} MB ({q['method']})   "
            f"ratio {q['seconds'] / g['seconds']:6.2f}x   max|Δρ| {row['max_abs_difference']:.1e}",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=100)
    parser.add_argument("--qutip-sample", type=int, default=200)
    parser.add_argument("--max-atoms", type=int, default=7)
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--timeout", type=float, default=900.0, help="per N-atom case, s")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    print(f"cores: {os.cpu_count()}, numpy {np.__version__}")
    ga.steady_state(grid_workload(4)[0])  # warm-up (imports, thread pool)
    me, ours, ss = grid_workload(args.grid)
    n = int(np.prod(me.batch_shape))
    t_floor = floor(me)
    t_qutip, worst = qutip_loop(me, args.qutip_sample)
    result = {
        "points": n,
        "method": ss.method,
        "giantatoms_us_per_point": ours / n * 1e6,
        "floor_us_per_point": t_floor / n * 1e6,
        "qutip_us_per_point": t_qutip * 1e6,
        "speedup_vs_qutip": t_qutip / (ours / n),
        "ratio_to_floor": ours / t_floor,
        "max_abs_difference_vs_qutip": worst,
        "max_relative_residual": float(np.max(ss.relative_residual)),
    }
    print(f"\n{args.grid}x{args.grid} grid of two 3-level transmons (d=9), method {ss.method}")
    print(f"  giantatoms (device → steady state): {result['giantatoms_us_per_point']:8.1f} µs/pt")
    print(
        f"  bare numpy.linalg.solve (floor):    {result['floor_us_per_point']:8.1f} µs/pt"
        f"   ours/floor = {result['ratio_to_floor']:.2f}  (target ≤ 3)"
    )
    print(
        f"  qutip.steadystate loop ({args.qutip_sample} pts):  "
        f"{result['qutip_us_per_point']:8.1f} µs/pt   "
        f"speed-up = {result['speedup_vs_qutip']:.0f}x  (target ≥ 100)"
    )
    print(
        f"  max |ρ − ρ_qutip| = {worst:.1e}, max relative residual = "
        f"{result['max_relative_residual']:.1e}\n"
    )
    rows = n_atom_workload(args.max_atoms, out, args.timeout)
    (out / "steady_state.json").write_text(json.dumps({"grid": result, "n_atoms": rows}, indent=2))
    print(f"\nwritten: {out / 'steady_state.json'}")


if __name__ == "__main__":
    main()
