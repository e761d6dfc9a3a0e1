"""Benchmark: exact single-excitation dynamics with propagation delays (giantatoms.delay).

Workloads (issue 12's figures):

1. Two giant atoms × four coupling points each, interleaved at irregular spacings (points at
   0, 0.15, 0.30, 0.50, 0.71, 0.90, 1.20, 1.50 m, v = 1.2e8 m/s: delays from 1.25 ns to
   12.5 ns; γ/2π = 1 MHz per point), atom A excited; 10⁴ steps of h = τ_min/4 (t = 3.1 µs),
   one parameter point. Timed with and without the step-doubling error estimate; the accuracy
   is measured against the same problem at h/8.
2. The same device batched over 1000 parameter points (both atoms' frequencies drawn with
   σ/2π = 1 MHz), 10⁴ steps each, no error estimate.
3. Accuracy and cost against the exact series of a two-point giant atom (γτ = 1, φ = 2.2)
   and, when installed (``pip install ddeint``, CC0), against ddeint — an independent DDE
   integrator (scipy's odeint with a linearly interpolated history) — on the same problem,
   same machine, same run. Complex amplitudes are split into real and imaginary parts for it.
4. For scale, when QuTiP is installed: the *Markovian* single-excitation dynamics of
   workload 1 with ``qutip.sesolve`` (non-Hermitian H_eff) — the model that neglects the delays —
   and how far it is from the exact one.

Run: ``python benchmarks/bench_delay.py`` (about a minute).
"""

from __future__ import annotations

import math
import platform
import time

import numpy as np

import giantatoms as ga
from giantatoms.solvers import delay

V = 1.2e8
GAMMA = 2 * np.pi * 1e6
W = 2 * np.pi * 4.6e9


def braided_device() -> ga.Device:
    xa = np.array([0.0, 0.30, 0.71, 1.20])
    xb = np.array([0.15, 0.50, 0.90, 1.50])
    return ga.Device(ga.Waveguide(V), [ga.Atom("A", W, xa, GAMMA), ga.Atom("B", W, xb, GAMMA)])


def best_of(repeat: int, fn):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def two_point_series(t: np.ndarray, gamma: float, tau: float, phase: float) -> np.ndarray:
    out = np.zeros(t.shape, dtype=complex)
    for n in range(int(np.max(t) // tau) + 1):
        s = np.clip(t - n * tau, 0.0, None)
        with np.errstate(divide="ignore"):
            size = (
                np.exp(n * np.log(gamma * s) - math.lgamma(n + 1) - gamma * s)
                if n
                else np.exp(-gamma * s)
            )
        out += np.where(t >= n * tau, (-np.exp(1j * phase)) ** n * size, 0.0)
    return out


def main() -> None:
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    dev = braided_device()
    diag = delay.diagnostics(dev)
    print(f"device: {diag.verdict()}")
    tau_min = 0.15 / V
    h = tau_min / 4
    t_end = 1e4 * h
    times = np.linspace(0.0, t_end, 201)

    # 1. One point, 10⁴ steps.
    t_plain, plain = best_of(
        3, lambda: delay.single_excitation(dev, "A", times, step=h, error_estimate=False)
    )
    t_est, est = best_of(3, lambda: delay.single_excitation(dev, "A", times, step=h))
    fine = delay.single_excitation(dev, "A", times, step=h / 8, error_estimate=False)
    err = np.max(np.abs(plain.amplitudes - fine.amplitudes))
    print("\n1. 2 atoms × 4 points, 10⁴ steps (h = τ_min/4), one point")
    print(
        f"   steps {plain.diagnostics['steps']}, delayed terms "
        f"{plain.diagnostics['delayed_terms']}, chunk {plain.diagnostics['chunk']}"
    )
    print(
        f"   time: {t_plain * 1e3:.1f} ms without, {t_est * 1e3:.1f} ms with the error estimate"
        f" (target < 100 ms)"
    )
    print(f"   error vs h/8: {err:.2e}; estimated {float(est.error):.2e}")

    # 2. Batch of 1000.
    rng = np.random.default_rng(0)
    freqs = W + 2 * np.pi * 1e6 * rng.normal(size=(1000, 2))
    t_batch, batch = best_of(
        1, lambda: delay.single_excitation(dev, "A", times, freqs, step=h, error_estimate=False)
    )
    k = 123
    one = delay.single_excitation(dev, "A", times, freqs[k], step=h, error_estimate=False)
    print("\n2. the same, batched over 1000 parameter points")
    same = np.abs(batch.amplitudes[k] - one.amplitudes).max()
    print(
        f"   time: {t_batch:.2f} s (target < 10 s), {t_batch / 1000 * 1e3:.2f} ms per point; "
        f"point {k} equals its single run to {same:.1e}"
    )

    # 3. Exact series and ddeint.
    gt, phase = 1.0, 2.2
    tau = gt / GAMMA
    m = math.floor(W * tau / (2 * np.pi))
    atom = ga.Atom("A", (2 * np.pi * m + phase) / tau, [0.0, tau * V], GAMMA)
    single = ga.Device(ga.Waveguide(V), [atom])
    t3 = np.linspace(0.0, 10 * tau, 401)
    exact = two_point_series(t3, GAMMA, tau, phase)
    print("\n3. two-point atom, γτ = 1, φ = 2.2, t = 10τ: error against the exact series")
    print("   solver                      steps    time (ms)   max |Δc|")
    for div in (10, 40, 160):
        tt, r = best_of(
            3,
            lambda div=div: delay.single_excitation(
                single, "A", t3, step=tau / div, error_estimate=False
            ),
        )
        e = np.max(np.abs(r.amplitudes[:, 0] - exact))
        print(
            f"   giantatoms h = τ/{div:<4d}        {r.diagnostics['steps']:6d}   {tt * 1e3:9.2f}"
            f"   {e:.2e}"
        )
    try:
        from ddeint import ddeint
    except ImportError:
        print("   ddeint not installed (pip install ddeint): skipped")
    else:

        def model(Y, t):
            c = Y(t)[0] + 1j * Y(t)[1]
            past = Y(t - tau)
            cd = past[0] + 1j * past[1] if t >= tau else 0.0
            dc = -GAMMA * c - GAMMA * np.exp(1j * phase) * cd
            return np.array([dc.real, dc.imag])

        for n_grid in (401, 1601):
            grid = np.linspace(0.0, 10 * tau, n_grid)
            t0 = time.perf_counter()
            y = ddeint(model, lambda t: np.array([1.0, 0.0]) if t >= 0 else np.zeros(2), grid)
            td = time.perf_counter() - t0
            c = y[:, 0] + 1j * y[:, 1]
            e = np.max(np.abs(c - two_point_series(grid, GAMMA, tau, phase)))
            print(
                f"   ddeint, {n_grid} grid points     {n_grid - 1:6d}   {td * 1e3:9.2f}   {e:.2e}"
            )
        ours = delay.single_excitation(single, "A", grid, step=tau / 40)
        print(
            f"   giantatoms vs ddeint (1601 points): {np.abs(ours.amplitudes[:, 0] - c).max():.2e}"
        )

    # 4. QuTiP, Markovian.
    try:
        import qutip
    except ImportError:
        print("\n4. QuTiP not installed: skipped")
        return
    kernel = delay.delay_kernel(dev)
    h_eff = 1j * kernel.markov_generator  # ċ = G c  ⇔  i ċ = (iG) c
    psi0 = qutip.basis(2, 0)
    t0 = time.perf_counter()
    res = qutip.sesolve(
        qutip.Qobj(h_eff),
        psi0,
        times,
        options={"atol": 1e-10, "rtol": 1e-8, "normalize_output": False},
    )
    tq = time.perf_counter() - t0
    markov = np.array([s.full()[:, 0] for s in res.states])
    gap = np.max(np.abs(np.abs(markov) ** 2 - np.abs(fine.amplitudes) ** 2))
    print("\n4. the Markovian model of workload 1 (qutip.sesolve, non-Hermitian H_eff)")
    print(
        f"   time {tq * 1e3:.1f} ms; giantatoms exact with delays {t_plain * 1e3:.1f} ms "
        f"(ratio {t_plain / tq:.2f})"
    )
    print(
        f"   largest population difference Markov vs exact: {gap:.3f} "
        f"(the delays this chip has: Γτ = {float(diag.Gamma_tau):.2f})"
    )


if __name__ == "__main__":
    main()
