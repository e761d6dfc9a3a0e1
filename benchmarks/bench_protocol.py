"""Benchmark: the full driven-dissipative protocol, batched, against QuTiP and dynamiqs.

Workload: :func:`giantatoms.protocols.driven_dissipative` on the ``sequential_pair`` preset
(two 3-level transmons, d = 9, α/2π = −200 MHz, Γ/2π ≈ 4.75 MHz: |α|/Γ ≈ 42). The protocol
drives for 2 µs at the entangling point, then ramps the flux for 30 ns (cosine shape, drive off)
to the decoherence-free point at 5 GHz, then stores for 1 µs. There are 200 save times (120, 30
and 50 in the three segments, uniform within each) and a batch of 400 points. The batch is a
20 × 20 grid of drive power (−135 to −122 dBm) × detuning (δ/2π from 0.5 to 4 MHz), or, with
``--workload noise``, 400 quasi-static frequency-noise samples (σ/2π = 200 kHz per atom,
``Protocol.perturbed``).

Compared in the same run, on the same machine, all in double precision:

* giantatoms: one batched ``run_protocol`` call per tolerance, timed from device and protocol
  to states and metrics. It runs at rtol = 1e-6 (atol = 1e-8) and at a tight tolerance; the
  tight run is the accuracy reference for everything else.
* QuTiP: ``qutip.mesolve`` looped over a subsample of the points (the per-point time is
  extrapolated to the batch), segment by segment with the states chained. The constant segments
  use the constant H and collapse operators from ``giantatoms.master_equation``. The ramp uses a
  superoperator ``QobjEvo`` L(t) = L₀ + Σ_m f_m(t) L_m: the L_m come from qutip's
  spre/spost/sprepost, one per basis element of the time-dependent parts of H and of the
  waveguide Kossakowski matrix, and the f_m are cubic-spline coefficient arrays on 1001 samples.
  Three variants: Adams (the default integrator) on every segment; ``method="diag"`` (exact
  eigendecomposition) on the constant segments with Adams on the ramp; and Adams on every
  segment in the drive frame.
* dynamiqs: ``dynamiqs.mesolve`` batched over the points (``cartesian_batching=False``),
  segment by segment. The ramp is ``dq.constant(H₀) + Σ_m dq.modulated(f_m, O_m)`` for H, and
  sums of ``dq.modulated(c_t, σ_t)`` for the waveguide jumps, with Chebyshev series in JAX for
  the coefficients (64 terms). Two variants: Tsit5 (the default) on every segment, and ``Expm``
  on the constant segments with Tsit5 on the ramp. Compilation is excluded: each segment is
  solved twice and the second call is timed; the first call is reported separately.

Frames: run_protocol reports ρ in the frame of the drive. The reference solvers integrate the
undriven segments in the frame co-moving with the atoms' mean bare frequency. This is what
giantatoms does internally: otherwise the solvers have to resolve 400 MHz rotations for 1 µs,
which costs 3× the time in QuTiP and still misses 1e-6 (the "drive frame" variant shows it). The
states are then rotated back exactly: ρ_drive = e^{−iθN} ρ e^{iθN}, θ(t) = ∫(ν − ω_d) dt by
Gauss–Legendre quadrature. Every piece of the reference models is checked against
``giantatoms.master_equation`` at off-grid times; the worst relative error is printed.

Model building is timed for giantatoms but not for the references. Timings vary with load;
OpenBLAS threading matters on small machines (try ``OPENBLAS_NUM_THREADS=1``).

Usage: ``python benchmarks/bench_protocol.py [--points 400] [--qutip-points 20] [--quick]``.
Needs ``qutip`` and ``dynamiqs`` (which brings JAX). Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

import giantatoms as ga
from giantatoms.units import MHz, kHz, ns, us

SAVE_COUNTS = (120, 30, 50)  # save times per segment (drive, ramp, store): 200 in all
RTOL, ATOL = 1e-6, 1e-8
TIGHT_RTOL, TIGHT_ATOL = 1e-9, 1e-11
QUTIP_SAMPLES = 1001  # spline samples of the ramp coefficients for QuTiP
CHEBYSHEV_TERMS = 64  # Chebyshev terms of the ramp coefficients for dynamiqs
DYNAMIQS_VECTORIZED = False  # dynamiqs: integrate ρ as a matrix (faster here, see report)
GAUSS_X, GAUSS_W = np.polynomial.legendre.leggauss(24)


# --------------------------------------------------------------------------------------------
# Workload
# --------------------------------------------------------------------------------------------


def build_workload(kind: str, n_points: int, seed: int = 0) -> tuple[Any, Any, str]:
    device = ga.presets.load("sequential_pair")
    common = {"t_drive": 2 * us, "ramp_time": 30 * ns, "t_store": 1 * us}
    if kind == "grid":
        rows = max(1, round(np.sqrt(n_points)))
        cols = max(1, n_points // rows)
        powers = np.linspace(-135.0, -122.0, rows)
        deltas = np.linspace(0.5, 4.0, cols) * MHz
        protocol = ga.protocols.driven_dissipative(
            device, power_dbm=powers[:, None], detuning=deltas[None, :], **common
        )
        text = (
            f"{rows}×{cols} grid: power {powers[0]:.0f}…{powers[-1]:.0f} dBm × "
            f"δ/2π {deltas[0] / MHz:.1f}…{deltas[-1] / MHz:.1f} MHz"
        )
    else:
        rng = np.random.default_rng(seed)
        sigma = 200 * kHz
        protocol = ga.protocols.driven_dissipative(
            device, power_dbm=-128.0, detuning=2 * MHz, **common
        ).perturbed(frequency_offset=rng.normal(0.0, sigma, (n_points, device.n_atoms)))
        text = f"{n_points} quasi-static frequency-noise samples, σ/2π = 200 kHz per atom"
    return device, protocol, text


def save_times(protocol: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    """200 save times, uniform within each segment; and each segment's local save times."""
    durations = [float(seg.duration) for seg in protocol.segments]
    local = [
        np.linspace(0.0, dur, count, endpoint=i == len(durations) - 1)
        for i, (dur, count) in enumerate(zip(durations, SAVE_COUNTS, strict=True))
    ]
    starts = np.concatenate([[0.0], np.cumsum(durations)[:-1]])
    return np.concatenate([s + t for s, t in zip(starts, local, strict=True)]), local


def run_ours(device: Any, protocol: Any, times: np.ndarray, rtol: float, atol: float) -> tuple:
    t0 = time.perf_counter()
    result = ga.run_protocol(device, protocol, times, rtol=rtol, atol=atol)
    return result, time.perf_counter() - t0


# --------------------------------------------------------------------------------------------
# Reference models (numpy; shared by the QuTiP and dynamiqs references)
# --------------------------------------------------------------------------------------------


def excitations(dims: tuple[int, ...]) -> np.ndarray:
    """Total excitation number of each product-basis state, shape (d,)."""
    total = np.zeros(1)
    for levels in dims:
        total = (total[:, None] + np.arange(levels)[None, :]).reshape(-1)
    return total


def transition_operators(dims: tuple[int, ...]) -> np.ndarray:
    """σ = √ℓ |ℓ−1⟩⟨ℓ| of every atom and level ℓ ≥ 1, embedded: shape (T, d, d)."""
    ops = []
    for j, levels in enumerate(dims):
        left = np.eye(int(np.prod(dims[:j], dtype=int)))
        right = np.eye(int(np.prod(dims[j + 1 :], dtype=int)))
        for level in range(1, levels):
            local = np.zeros((levels, levels))
            local[level - 1, level] = np.sqrt(level)
            ops.append(np.kron(np.kron(left, local), right).astype(complex))
    return np.array(ops)


def hermitian_params(h: np.ndarray) -> np.ndarray:
    """Real coordinates (…, d²) of Hermitian matrices (…, d, d)."""
    d = h.shape[-1]
    iu, ju = np.triu_indices(d, 1)
    diag = np.real(np.diagonal(h, axis1=-2, axis2=-1))
    return np.concatenate([diag, np.real(h[..., iu, ju]), np.imag(h[..., iu, ju])], axis=-1)


def hermitian_from(p: np.ndarray, d: int) -> np.ndarray:
    """Inverse of :func:`hermitian_params`."""
    iu, ju = np.triu_indices(d, 1)
    m = iu.size
    h = np.zeros((*p.shape[:-1], d, d), dtype=complex)
    h[..., np.arange(d), np.arange(d)] = p[..., :d]
    h[..., iu, ju] = p[..., d : d + m] + 1j * p[..., d + m :]
    h[..., ju, iu] = p[..., d : d + m] - 1j * p[..., d + m :]
    return h


def span_basis(samples: np.ndarray, tol: float = 1e-13) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal real basis (M, F) of the rows of ``samples`` (rows, F) and coefficients."""
    _, s, vt = np.linalg.svd(samples, full_matrices=False)
    if s.size == 0 or s[0] == 0:
        return np.zeros((0, samples.shape[-1])), np.zeros((samples.shape[0], 0))
    basis = vt[s > tol * s[0]]
    return basis, samples @ basis.T


@dataclass
class RampModel:
    """Time-dependent segment, in the reference frame, sampled at ``tau`` (K,) for R points.

    H(τ) = H0 + Σ_m h_m(τ) O_m; jumps: the constant ones, plus c_c(τ) = Σ_t C_ct(τ) σ_t.
    """

    tau: np.ndarray
    h0: np.ndarray  # (R, d, d)
    ops: np.ndarray  # (M, d, d) Hermitian, orthonormal coordinates
    h: np.ndarray  # (K, R, M)
    constant_jumps: np.ndarray  # (R, J0, d, d)
    coefficients: np.ndarray  # (K, R, C, T) complex
    sigma: np.ndarray  # (T, d, d)
    projection_residual: float


class References:
    """Per-point models of every segment of a batched protocol, for the reference solvers.

    Undriven segments are written in the frame co-moving with the atoms' mean bare frequency
    (``frame="moving"``) or in the drive frame (``frame="drive"``); driven segments always in the
    drive frame. :meth:`frame_phase` gives θ to rotate back to the drive frame.
    """

    def __init__(self, device: Any, protocol: Any, result: Any, frame: str) -> None:
        self.device, self.protocol, self.frame = device, protocol, frame
        self.batch = result.batch_shape
        self.n = device.n_atoms
        self.dims = device.dims
        self.reference = np.broadcast_to(result.reference_frequency, self.batch).reshape(-1)
        offset = np.asarray(protocol.frequency_offset, dtype=float) * np.ones(self.n)
        self.offset = np.broadcast_to(offset, (*self.batch, self.n)).reshape(-1, self.n)
        if np.any(np.asarray(protocol.amplitude_scale) != 1) or np.any(
            np.asarray(protocol.phase_offset) != 0
        ):
            raise NotImplementedError("references: amplitude_scale / phase_offset not supported")
        self.starts = []
        value = np.asarray(device.frequencies, dtype=float)
        for seg in protocol.segments:
            if np.ndim(seg.duration):
                raise NotImplementedError("references: batched durations not supported")
            if seg.drive is not None and not seg.constant:
                raise NotImplementedError("references: time-dependent driven segments")
            self.starts.append(value)
            duration = float(seg.duration)
            value = np.asarray(seg.frequencies(np.array([duration]), value, duration))[0]
        self.sigma = transition_operators(self.dims)

    def frequencies(self, i: int, tau: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Bare frequencies (K, R, n) at local times ``tau`` of segment ``i``."""
        seg = self.protocol.segments[i]
        values = np.asarray(seg.frequencies(tau, self.starts[i], float(seg.duration)), float)
        missing = len(self.batch) - (values.ndim - 2)  # batch axes the waveform lacks
        values = values.reshape(values.shape[0], *(1,) * missing, *values.shape[1:])
        values = np.broadcast_to(values, (tau.size, *self.batch, self.n))
        return values.reshape(tau.size, -1, self.n)[:, rows] + self.offset[rows]

    def _drive(self, i: int, rows: np.ndarray) -> Any:
        drive = self.protocol.segments[i].drive

        def flat(x: Any) -> np.ndarray:
            return np.broadcast_to(np.asarray(x, dtype=float), self.batch).reshape(-1)[rows]

        return ga.Drive(
            frequency=flat(drive.frequency),
            power_dbm=flat(drive.power_dbm),
            port=drive.port,
            phase=flat(drive.phase),
        )

    def model(self, i: int, tau: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """H (K, R, d, d) and jumps (K, R, J, d, d) at local times ``tau`` of segment ``i``."""
        seg = self.protocol.segments[i]
        omega = self.frequencies(i, tau, rows)
        if seg.drive is not None:
            me = ga.master_equation(self.device, self._drive(i, rows), frequencies=omega)
        else:
            if self.frame == "drive":
                nu = np.broadcast_to(self.reference[rows], omega.shape[:-1])
            else:
                nu = omega.mean(axis=-1)
            me = ga.master_equation(self.device, None, frequencies=omega, frame_frequency=nu)
        k, r, d = tau.size, rows.size, me.dimension
        h = np.broadcast_to(me.hamiltonian, (k, r, d, d))
        c = np.broadcast_to(me.jump_operators, (k, r, me.n_jumps, d, d))
        return h, c

    def frame_phase(self, i: int, tau: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """θ(τ) = ∫₀^τ (ν − ω_ref) over segment ``i``, shape (R, K) (0 in the drive frame)."""
        seg = self.protocol.segments[i]
        out = np.zeros((rows.size, tau.size))
        if self.frame == "drive" or seg.drive is not None:
            return out
        for q, t in enumerate(tau):
            nodes = 0.5 * t * (GAUSS_X + 1.0)
            nu = self.frequencies(i, nodes, rows).mean(axis=-1)  # (24, R)
            out[:, q] = 0.5 * t * np.einsum("k,kr->r", GAUSS_W, nu - self.reference[rows])
        return out

    def ramp(self, i: int, tau: np.ndarray, rows: np.ndarray) -> RampModel:
        """Decompose the time-dependent segment ``i`` into constant operators × scalars."""
        h, c = self.model(i, tau, rows)
        d = h.shape[-1]
        varying = np.abs(c - c[:1]).max(axis=(0, 1, 3, 4)) > 0
        sigma = self.sigma
        cv = c[:, :, varying]
        norms = np.einsum("tij,tij->t", sigma.conj(), sigma).real
        coefficients = np.einsum("tij,krcij->krct", sigma.conj(), cv) / norms
        rebuilt = np.einsum("krct,tij->krcij", coefficients, sigma)
        residual = float(np.abs(rebuilt - cv).max() / max(np.abs(cv).max(), 1e-300))
        h0 = h[0]
        params = hermitian_params(h - h0).reshape(-1, d * d)
        basis, coords = span_basis(params)
        return RampModel(
            tau=tau,
            h0=np.array(h0),
            ops=hermitian_from(basis, d),
            h=coords.reshape(tau.size, rows.size, -1),
            constant_jumps=np.array(c[0][:, ~varying]),
            coefficients=coefficients,
            sigma=sigma,
            projection_residual=residual,
        )


def to_drive_frame(states: np.ndarray, theta: np.ndarray, n_exc: np.ndarray) -> np.ndarray:
    """ρ_drive = e^{−iθN} ρ e^{iθN} for states (R, K, d, d) and θ (R, K)."""
    phase = np.exp(-1j * theta[..., None, None] * (n_exc[:, None] - n_exc[None, :]))
    return states * phase


def liouvillian_np(h: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Column-stacking Liouvillian (QuTiP's convention) of H (d, d) and jumps (J, d, d)."""
    d = h.shape[-1]
    eye = np.eye(d)
    out = -1j * (np.kron(eye, h) - np.kron(h.T, eye))
    for op in c:
        cdc = op.conj().T @ op
        out += np.kron(op.conj(), op) - 0.5 * np.kron(eye, cdc) - 0.5 * np.kron(cdc.T, eye)
    return out


# --------------------------------------------------------------------------------------------
# QuTiP
# --------------------------------------------------------------------------------------------


@dataclass
class Variant:
    name: str
    frame: str
    constant_method: str  # "ode" (the adaptive default) or "exact" (qutip diag / dynamiqs Expm)


def qutip_ramp_evo(model: RampModel, row: int, dims: tuple[int, ...]) -> Any:
    """L(t) = L₀ + Σ f_m(t) L_m for one point, as a QuTiP superoperator QobjEvo."""
    import qutip

    qd = [list(dims), list(dims)]
    sigma = [qutip.Qobj(s, dims=qd) for s in model.sigma]
    n_t = len(sigma)
    coef = model.coefficients[:, row]  # (K, C, T)
    kossakowski = np.einsum("kct,kcu->ktu", coef, coef.conj())  # Σ_c C_ct conj(C_cu)
    k_basis, k_coords = span_basis(hermitian_params(kossakowski - kossakowski[0]))
    k_ops = hermitian_from(k_basis, n_t)
    jumps0 = [*model.constant_jumps[row], *np.einsum("ct,tij->cij", coef[0], model.sigma)]
    terms: list[Any] = [
        qutip.liouvillian(
            qutip.Qobj(model.h0[row], dims=qd), [qutip.Qobj(c, dims=qd) for c in jumps0]
        )
    ]
    for m, op in enumerate(model.ops):
        o = qutip.Qobj(op, dims=qd)
        terms.append([-1j * (qutip.spre(o) - qutip.spost(o)), model.h[:, row, m]])
    for m, v in enumerate(k_ops):
        sup = 0
        for t in range(n_t):
            for u in range(n_t):
                if v[t, u] != 0:
                    prod = sigma[u].dag() * sigma[t]
                    sup = sup + v[t, u] * (
                        qutip.sprepost(sigma[t], sigma[u].dag())
                        - 0.5 * qutip.spre(prod)
                        - 0.5 * qutip.spost(prod)
                    )
        terms.append([sup, k_coords[:, m]])
    return qutip.QobjEvo(terms, tlist=model.tau)


def run_qutip(
    refs: References,
    rows: np.ndarray,
    local_times: list[np.ndarray],
    variant: Variant,
    rtol: float,
    atol: float,
) -> dict[str, Any]:
    import qutip

    dims = refs.dims
    d = int(np.prod(dims))
    qd = [list(dims), list(dims)]
    n_exc = excitations(dims)
    ode = {"method": "adams", "atol": atol, "rtol": rtol, "nsteps": 10**6, "store_states": True}
    exact = {"method": "diag", "store_states": True}
    states = np.empty((rows.size, sum(t.size for t in local_times), d, d), dtype=complex)
    seconds = 0.0
    check = 0.0
    # Segment models for all rows at once (numpy, not timed).
    models = []
    for i, seg in enumerate(refs.protocol.segments):
        if seg.constant:
            models.append(refs.model(i, np.array([0.0]), rows))
        else:
            tau = np.linspace(0.0, float(seg.duration), QUTIP_SAMPLES)
            models.append(refs.ramp(i, tau, rows))
    for p, row in enumerate(rows):
        rho = np.zeros((d, d), dtype=complex)
        rho[0, 0] = 1.0
        rho_q = qutip.Qobj(rho, dims=qd)
        theta0 = 0.0
        col = 0
        for i, seg in enumerate(refs.protocol.segments):
            duration = float(seg.duration)
            local = local_times[i]
            tl = local if local[-1] >= duration else np.append(local, duration)
            if seg.constant:
                h, c = models[i]
                hq = qutip.Qobj(h[0, p], dims=qd)
                cq = [qutip.Qobj(x, dims=qd) for x in c[0, p]]
                options = exact if variant.constant_method == "exact" else ode
                t0 = time.perf_counter()
                res = qutip.mesolve(hq, rho_q, tl, cq, options=options)
                seconds += time.perf_counter() - t0
            else:
                evo = qutip_ramp_evo(models[i], p, dims)
                if p == 0:
                    check = max(check, qutip_check(refs, i, row, evo, duration))
                t0 = time.perf_counter()
                res = qutip.mesolve(evo, rho_q, tl, options=ode)
                seconds += time.perf_counter() - t0
            theta = theta0 + refs.frame_phase(i, tl, np.array([row]))[0]
            theta0 = theta[-1]
            seg_states = np.array([s.full() for s in res.states[: local.size]])
            seg_states = to_drive_frame(seg_states, theta[: local.size], n_exc)
            states[p, col : col + local.size] = seg_states
            col += local.size
            rho_q = res.states[-1]
    return {"states": states, "seconds": seconds, "check": check}


def qutip_check(refs: References, i: int, row: int, evo: Any, duration: float) -> float:
    """Largest relative error of the ramp QobjEvo against master_equation at off-grid times."""
    worst = 0.0
    for frac in (0.0123, 0.377, 0.5001, 0.8881, 0.9999):
        t = frac * duration
        h, c = refs.model(i, np.array([t]), np.array([row]))
        exact = liouvillian_np(h[0, 0], c[0, 0])
        got = evo(t).full()
        worst = max(worst, float(np.abs(got - exact).max() / np.abs(exact).max()))
    return worst


# --------------------------------------------------------------------------------------------
# dynamiqs
# --------------------------------------------------------------------------------------------


def chebyshev_nodes(duration: float) -> np.ndarray:
    k = np.arange(CHEBYSHEV_TERMS)
    x = np.cos(np.pi * (k + 0.5) / CHEBYSHEV_TERMS)
    return 0.5 * duration * (x + 1.0)


def chebyshev_coefficients(values: np.ndarray) -> np.ndarray:
    """Chebyshev coefficients (N, …) from values (N, …) at :func:`chebyshev_nodes`."""
    n = CHEBYSHEV_TERMS
    cos = np.cos(np.pi * np.outer(np.arange(n), np.arange(n) + 0.5) / n)
    a = 2.0 / n * np.tensordot(cos, values, axes=(1, 0))
    a[0] *= 0.5
    return a


def dynamiqs_ramp(model: RampModel, duration: float) -> tuple[Any, list[Any], float]:
    """H(t) and the jumps of the ramp as dynamiqs TimeQArrays; and the Chebyshev tail."""
    import dynamiqs as dq
    import jax.numpy as jnp

    a_h = chebyshev_coefficients(model.h)  # (N, R, M)
    a_c = chebyshev_coefficients(model.coefficients)  # (N, R, C, T)
    tail = max(
        float(np.abs(a[-4:]).max() / max(np.abs(a).max(), 1e-300)) if a.size else 0.0
        for a in (a_h, a_c)
    )
    a_h, a_c = jnp.asarray(a_h), jnp.asarray(a_c)
    orders = jnp.arange(CHEBYSHEV_TERMS)

    def basis(t: Any) -> Any:
        x = jnp.clip(2.0 * t / duration - 1.0, -1.0, 1.0)
        return jnp.cos(orders * jnp.arccos(x))

    h = dq.constant(jnp.asarray(model.h0))
    for m, op in enumerate(model.ops):
        h = h + dq.modulated(lambda t, m=m: basis(t) @ a_h[:, :, m], jnp.asarray(op))
    jumps: list[Any] = list(jnp.asarray(np.moveaxis(model.constant_jumps, 1, 0)))
    for c in range(model.coefficients.shape[2]):
        total = None
        for t_index, op in enumerate(model.sigma):
            term = dq.modulated(
                lambda t, c=c, t_index=t_index: basis(t) @ a_c[:, :, c, t_index], jnp.asarray(op)
            )
            total = term if total is None else total + term
        jumps.append(total)
    return h, jumps, tail


def dynamiqs_check(refs: References, i: int, rows: np.ndarray, h: Any, jumps: list[Any]) -> float:
    """Largest relative error of the ramp TimeQArrays against master_equation (a few points)."""
    duration = float(refs.protocol.segments[i].duration)
    pick = rows[:: max(1, rows.size // 4)]
    where = np.searchsorted(rows, pick)
    worst = 0.0
    for frac in (0.0123, 0.377, 0.5001, 0.8881, 0.9999):
        t = frac * duration
        hx, cx = refs.model(i, np.array([t]), pick)
        got_h = np.asarray(h(t).to_jax())[where]
        got_c = np.stack(
            [np.asarray(j(t).to_jax() if callable(j) else j)[where] for j in jumps], axis=1
        )
        for q in range(pick.size):  # compare Liouvillians, as for QuTiP
            ref = liouvillian_np(hx[0, q], cx[0, q])
            got = liouvillian_np(got_h[q], got_c[q])
            worst = max(worst, float(np.abs(got - ref).max() / np.abs(ref).max()))
    return worst


def run_dynamiqs(
    refs: References,
    rows: np.ndarray,
    local_times: list[np.ndarray],
    variant: Variant,
    rtol: float,
    atol: float,
) -> dict[str, Any]:
    import dynamiqs as dq
    import jax.numpy as jnp

    dims = refs.dims
    d = int(np.prod(dims))
    n_exc = excitations(dims)
    tsit5 = dq.method.Tsit5(rtol=rtol, atol=atol, max_steps=10**7)
    rho0 = np.zeros((rows.size, d, d), dtype=complex)
    rho0[:, 0, 0] = 1.0
    rho = jnp.asarray(rho0)
    states = np.empty((rows.size, sum(t.size for t in local_times), d, d), dtype=complex)
    first = second = 0.0
    check = tail = 0.0
    theta0 = np.zeros(rows.size)
    col = 0
    for i, seg in enumerate(refs.protocol.segments):
        duration = float(seg.duration)
        local = local_times[i]
        tl = local if local[-1] >= duration else np.append(local, duration)
        if seg.constant:
            h_np, c_np = refs.model(i, np.array([0.0]), rows)
            h: Any = jnp.asarray(h_np[0])
            jumps: list[Any] = [jnp.asarray(c_np[0, :, j]) for j in range(c_np.shape[2])]
            method = dq.method.Expm() if variant.constant_method == "exact" else tsit5
        else:
            model = refs.ramp(i, chebyshev_nodes(duration), rows)
            h, jumps, seg_tail = dynamiqs_ramp(model, duration)
            tail = max(tail, seg_tail)
            check = max(check, dynamiqs_check(refs, i, rows, h, jumps))
            method = tsit5
        tsave = jnp.asarray(tl)
        timings = []
        for _ in range(2):  # the first call compiles
            t0 = time.perf_counter()
            res = dq.mesolve(
                h,
                jumps,
                rho,
                tsave,
                method=method,
                cartesian_batching=False,
                vectorized=DYNAMIQS_VECTORIZED,
            )
            out = res.states.to_jax().block_until_ready()
            timings.append(time.perf_counter() - t0)
        first += timings[0]
        second += timings[1]
        out = np.asarray(out)
        theta = theta0[:, None] + refs.frame_phase(i, tl, rows)
        theta0 = theta[:, -1]
        states[:, col : col + local.size] = to_drive_frame(
            out[:, : local.size], theta[:, : local.size], n_exc
        )
        col += local.size
        rho = jnp.asarray(out[:, -1])
    return {"states": states, "seconds": second, "first_call": first, "check": check, "tail": tail}


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def spread(n_total: int, n: int) -> np.ndarray:
    return np.unique(np.linspace(0, n_total - 1, min(n, n_total)).round().astype(int))


def versions() -> str:
    parts = [f"python {platform.python_version()}"]
    for name in ("numpy", "scipy", "giantatoms", "qutip", "dynamiqs", "jax", "jaxlib"):
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} missing")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=400, help="batch size (grid: ~square)")
    parser.add_argument("--workload", choices=("grid", "noise"), default="grid")
    parser.add_argument("--qutip-points", type=int, default=20, help="QuTiP adams subsample")
    parser.add_argument(
        "--qutip-diag-points", type=int, default=400, help="QuTiP diag+adams subsample"
    )
    parser.add_argument(
        "--qutip-drive-frame-points", type=int, default=5, help="subsample, drive-frame variant"
    )
    parser.add_argument("--dynamiqs-points", type=int, default=400, help="Expm+Tsit5 batch")
    parser.add_argument("--dynamiqs-ode-points", type=int, default=40, help="all-Tsit5 batch")
    parser.add_argument("--ref-rtol", type=float, default=RTOL, help="QuTiP and dynamiqs")
    parser.add_argument("--ref-atol", type=float, default=ATOL, help="QuTiP and dynamiqs")
    parser.add_argument("--skip-qutip", action="store_true")
    parser.add_argument("--skip-dynamiqs", action="store_true")
    parser.add_argument("--quick", action="store_true", help="tiny smoke test (writes nothing)")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    if args.quick:
        args.points, args.qutip_points, args.qutip_drive_frame_points = 4, 2, 1
        args.qutip_diag_points = 4
        args.dynamiqs_points, args.dynamiqs_ode_points = 4, 2

    threads = {k: os.environ.get(k, "-") for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    print(f"cores: {os.cpu_count()}, {versions()}, threads env {threads}")
    device, protocol, text = build_workload(args.workload, args.points)
    times, local_times = save_times(protocol)
    print(f"workload: {text}; {times.size} save times over {times[-1] * 1e6:.2f} µs; {protocol!r}")

    # Ours: warm-up (imports, caches), then the timed runs.
    small, small_protocol, _ = build_workload(args.workload, 4)
    run_ours(small, small_protocol, save_times(small_protocol)[0], RTOL, ATOL)
    ours, t_ours = run_ours(device, protocol, times, RTOL, ATOL)
    tight, t_tight = run_ours(device, protocol, times, TIGHT_RTOL, TIGHT_ATOL)
    n = int(np.prod(ours.batch_shape))
    d = ours.rho.shape[-1]
    rho_ours = ours.rho.reshape(n, times.size, d, d)
    rho_tight = tight.rho.reshape(n, times.size, d, d)

    rows_out: list[dict[str, Any]] = []

    def record(name: str, points: int, seconds: float, rows: Any, states: Any, note: str) -> None:
        per_point = seconds / points
        row = {
            "name": name,
            "points": points,
            "seconds": seconds,
            "ms_per_point": per_point * 1e3,
            "note": note,
        }
        if states is not None:
            row["max_dev_vs_ours"] = float(np.abs(states - rho_ours[rows]).max())
            row["max_dev_vs_tight"] = float(np.abs(states - rho_tight[rows]).max())
        rows_out.append(row)

    record(f"giantatoms rtol={RTOL:g} atol={ATOL:g}", n, t_ours, slice(None), rho_ours, "")
    record(
        f"giantatoms rtol={TIGHT_RTOL:g} atol={TIGHT_ATOL:g}",
        n,
        t_tight,
        slice(None),
        rho_tight,
        "accuracy reference",
    )
    rows_out[1]["max_dev_vs_tight"] = 0.0
    print(
        f"ours: methods {ours.methods}, {ours.steps} Magnus steps ({ours.rejected_steps} "
        f"rejected), max error_estimate {np.max(ours.error_estimate):.1e} (rtol {RTOL:g}), "
        f"{np.max(tight.error_estimate):.1e} (rtol {TIGHT_RTOL:g}); "
        f"final F_opt in [{np.min(ours.bell_fidelity_optimized[..., -1]):.3f}, "
        f"{np.max(ours.bell_fidelity_optimized[..., -1]):.3f}]",
        flush=True,
    )

    checks: dict[str, float] = {}
    if not args.skip_qutip:
        variants = [
            (Variant("qutip mesolve adams, co-moving frame", "moving", "ode"), args.qutip_points),
            (
                Variant("qutip diag (constant) + adams (ramp)", "moving", "exact"),
                args.qutip_diag_points,
            ),
            (
                Variant("qutip mesolve adams, drive frame", "drive", "ode"),
                args.qutip_drive_frame_points,
            ),
        ]
        for variant, count in variants:
            refs = References(device, protocol, ours, variant.frame)
            rows = spread(n, count)
            out = run_qutip(refs, rows, local_times, variant, args.ref_rtol, args.ref_atol)
            checks[f"{variant.name}: ramp L(t) vs master_equation"] = out["check"]
            note = f"loop over {rows.size} of {n} points, extrapolated" if rows.size < n else "loop"
            record(variant.name, rows.size, out["seconds"], rows, out["states"], note)
            print(f"  done: {variant.name} ({out['seconds']:.1f} s)", flush=True)
    if not args.skip_dynamiqs:
        import jax

        jax.config.update("jax_enable_x64", True)
        import dynamiqs as dq

        dq.set_precision("double")
        dq.set_progress_meter(False)
        variants = [
            (
                Variant("dynamiqs Expm (constant) + Tsit5 (ramp)", "moving", "exact"),
                args.dynamiqs_points,
            ),
            (Variant("dynamiqs Tsit5, co-moving frame", "moving", "ode"), args.dynamiqs_ode_points),
        ]
        for variant, count in variants:
            refs = References(device, protocol, ours, variant.frame)
            rows = spread(n, count)
            out = run_dynamiqs(refs, rows, local_times, variant, args.ref_rtol, args.ref_atol)
            checks[f"{variant.name}: ramp L(t) vs master_equation"] = out["check"]
            checks[f"{variant.name}: Chebyshev tail"] = out["tail"]
            note = f"batch of {rows.size}; first call (compiles) {out['first_call']:.1f} s"
            if rows.size < n:
                note += f"; {rows.size} of {n} points, extrapolated"
            record(variant.name, rows.size, out["seconds"], rows, out["states"], note)
            print(f"  done: {variant.name} ({out['seconds']:.1f} s)", flush=True)

    base = rows_out[0]["ms_per_point"]
    base_tight = rows_out[1]["ms_per_point"]
    print(f"\n{n} points, d = {d}, {times.size} save times. ratio = that solver's time per point")
    print(f"/ ours per point (ours at rtol {RTOL:g}; in brackets: ours at rtol {TIGHT_RTOL:g}).")
    print("Δ ours, Δ tight = max|ρ − ρ_ours| over all save times and the points that solver ran,")
    print(f"against ours at rtol {RTOL:g} and at rtol {TIGHT_RTOL:g}. References: rtol ")
    print(
        f"{args.ref_rtol:g}, atol {args.ref_atol:g}; model building not timed (timed for ours).\n"
    )
    header = (
        f"{'solver':42s} {'points':>6s} {'total s':>8s} {'ms/point':>9s} {'ratio':>16s} "
        f"{'Δ ours':>8s} {'Δ tight':>8s}  note"
    )
    print(header)
    print("-" * len(header))
    for row in rows_out:
        speed = row["ms_per_point"] / base
        speed_tight = row["ms_per_point"] / base_tight
        print(
            f"{row['name']:42s} {row['points']:6d} {row['seconds']:8.2f} "
            f"{row['ms_per_point']:9.2f} {speed:7.1f}x ({speed_tight:5.1f}x) "
            f"{row['max_dev_vs_ours']:8.1e} {row['max_dev_vs_tight']:8.1e}  {row['note']}"
        )
        row["speedup_vs_ours"] = speed
        row["speedup_vs_ours_tight"] = speed_tight
    print("\nchecks of the reference models (relative):")
    for key, value in checks.items():
        print(f"  {key}: {value:.1e}")
    print("targets: ≥ 30x vs qutip.mesolve, ≥ 10x vs dynamiqs, at equal accuracy (1e-6)")
    if args.quick:
        return  # smoke test: nothing written
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "protocol.json"
    path.write_text(
        json.dumps(
            {
                "workload": text,
                "points": n,
                "save_times": int(times.size),
                "cores": os.cpu_count(),
                "versions": versions(),
                "threads_env": threads,
                "error_estimate_max": float(np.max(ours.error_estimate)),
                "error_estimate_max_tight": float(np.max(tight.error_estimate)),
                "rows": rows_out,
                "checks": checks,
            },
            indent=2,
        )
    )
    print(f"written: {path}")


if __name__ == "__main__":
    main()
