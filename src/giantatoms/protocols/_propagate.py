"""Propagating one group of batch points (one set of segment durations) through a protocol.

``_run_group`` walks the segments: exact exponentials on constant segments, the adaptive
fourth-order Magnus integrator on time-dependent ones (dense real coordinates, or sparse
Krylov point by point for large systems), and integrates the frame phases alongside
(see :mod:`giantatoms.protocols._runner` for the frames and the numerics).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

from giantatoms.model.lindblad import assemble
from giantatoms.protocols._affine import RealGeneratorBasis
from giantatoms.protocols._schedule import _Schedule
from giantatoms.solvers.evolution import (
    _GAUSS_NODES,
    MagnusLoop,
    _krylov_propagate,
    dense_magnus_step,
    magnus_loop,
    propagate_constant_real,
)
from giantatoms.solvers.liouvillian import (
    _blas_single_thread,
    default_threads,
    sparse_liouvillian,
)

__all__: list[str] = []

#: Limit on attempted Magnus steps per segment and chunk.
MAX_STEPS = 100_000
#: Gauss–Legendre panels used to integrate the frame phases across a time-dependent segment.
PHASE_PANELS = 16
_GAUSS4_NODES, _GAUSS4_WEIGHTS = np.polynomial.legendre.leggauss(4)


# --------------------------------------------------------------------------------------------
# One group
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tolerances:
    """Accuracy options of one run (see :func:`run_protocol`)."""

    rtol: float
    atol: float
    max_step: float | None
    max_condition: float

    def magnus(
        self,
        step: Callable[[float, float, NDArray], tuple[NDArray, NDArray]],
        x: NDArray,
        run_times: NDArray[np.float64],
        trace_norm: Callable[[NDArray], NDArray[np.float64]],
    ) -> MagnusLoop:
        """Adaptive Magnus propagation of x from the segment start over ``run_times``."""
        return magnus_loop(
            step,
            x,
            run_times,
            t0=0.0,
            rtol=self.rtol,
            atol=self.atol,
            max_step=self.max_step,
            first_step=None,
            max_steps=MAX_STEPS,
            trace_norm=trace_norm,
        )


def _phase_rates(terms: dict[str, Any], reference: NDArray) -> tuple[NDArray, NDArray]:
    """Rates of the per-atom phases ω̃_j − ν (K, N, n) and of the reference ω_ref − ν (K, N)."""
    dressed_minus_frame = np.asarray(terms["dressed_detunings"], dtype=float)
    frame = np.asarray(terms["frame_frequency"], dtype=float)
    return dressed_minus_frame, reference[None, :] - frame


def _integrate_phases(
    schedule: _Schedule, index: int, local_times: NDArray, reference: NDArray, constant: bool
) -> tuple[NDArray, NDArray]:
    """∫₀^τ of the phase rates at ``local_times`` (S,): ((N, S, n), (N, S))."""
    if constant:
        terms = schedule.terms(index, np.array([0.0]))
        atoms, ref = _phase_rates(terms, reference)
        return (
            atoms[0][:, None, :] * local_times[None, :, None],
            ref[0][:, None] * local_times[None, :],
        )
    duration = schedule.durations[index]
    edges = np.union1d(np.linspace(0.0, duration, PHASE_PANELS + 1), local_times)
    lo, hi = edges[:-1], edges[1:]
    nodes = (0.5 * (hi - lo))[:, None] * _GAUSS4_NODES[None, :] + (0.5 * (hi + lo))[:, None]
    weights = (0.5 * (hi - lo))[:, None] * _GAUSS4_WEIGHTS[None, :]
    terms = schedule.terms(index, nodes.reshape(-1))
    atoms, ref = _phase_rates(terms, reference)
    panels = lo.size
    atoms = atoms.reshape(panels, 4, *atoms.shape[1:])
    ref = ref.reshape(panels, 4, -1)
    atom_cum = np.concatenate(
        [np.zeros((1, *atoms.shape[2:])), np.cumsum(np.einsum("pk,pk...->p...", weights, atoms), 0)]
    )
    ref_cum = np.concatenate(
        [np.zeros((1, ref.shape[-1])), np.cumsum(np.einsum("pk,pkn->pn", weights, ref), 0)]
    )
    pick = np.searchsorted(edges, local_times)
    return np.moveaxis(atom_cum[pick], 0, 1), np.moveaxis(ref_cum[pick], 0, 1)


def _run_group(
    schedule: _Schedule,
    basis: RealGeneratorBasis | None,
    times: NDArray[np.float64],
    rho0: NDArray[np.complex128],
    reference: NDArray[np.float64],
    *,
    tolerances: _Tolerances,
    out: tuple[NDArray, ...],
    counters: dict[str, int],
) -> tuple[str, ...]:
    rho_out, phases_out, ref_out, freqs_out, seg_out, errors_out = out
    rows = schedule.rows
    d = rho0.shape[-1]
    protocol = schedule.protocol
    starts = np.concatenate([[0.0], np.cumsum(schedule.durations)])
    last = len(protocol.segments) - 1
    state: NDArray = basis.to_coordinates(rho0) if basis is not None else rho0.reshape(-1, d * d)
    phase = np.zeros((rows.size, schedule.n))
    ref_phase = np.zeros(rows.size)
    error = np.zeros(rows.size)
    methods = []
    tone = {
        i: schedule._flat(np.asarray(seg.drive.frequency, dtype=float)[None], 1, 0)[0]
        for i, seg in enumerate(protocol.segments)
        if seg.drive is not None
    }
    for index, seg in enumerate(protocol.segments):
        if index in tone:
            # A tone is a phase-continuous CW source: in the lab its phase is ω_d t + phase.
            # In the simulation frame (phase θ(t) = ω_ref t − ref_phase) that is a constant
            # (ω_d − ω_ref) t_s + ref_phase during a segment whose frame rotates at ω_d.
            schedule.tone_phase[index] = (tone[index] - reference) * starts[index] + ref_phase
        begin, end = starts[index], starts[index + 1]
        inside = (times >= begin) & ((times < end) | (index == last))
        inside &= times <= end * (1 + 1e-12)
        local = np.clip(times[inside] - begin, 0.0, schedule.durations[index])
        run_times = np.unique(np.append(local, schedule.durations[index]))
        pick = np.searchsorted(run_times, local)
        states, seg_error, label = _propagate_segment(
            schedule, basis, index, state, run_times, tolerances, counters
        )
        seg_phase, seg_ref = _integrate_phases(schedule, index, run_times, reference, seg.constant)
        k = np.flatnonzero(inside)
        if k.size:
            if basis is not None:
                rho_out[rows[:, None], k[None, :]] = basis.from_coordinates(states[:, pick])
            else:
                rho_out[rows[:, None], k[None, :]] = states[:, pick].reshape(rows.size, -1, d, d)
            phases_out[rows[:, None], k[None, :]] = phase[:, None, :] + seg_phase[:, pick]
            ref_out[rows[:, None], k[None, :]] = ref_phase[:, None] + seg_ref[:, pick]
            errors_out[rows[:, None], k[None, :]] = error[:, None] + seg_error[:, pick]
            freqs_out[rows[:, None], k[None, :]] = np.moveaxis(
                schedule.frequencies(index, local), 0, 1
            )
            seg_out[rows[:, None], k[None, :]] = index
        state = states[:, -1]
        phase = phase + seg_phase[:, -1]
        ref_phase = ref_phase + seg_ref[:, -1]
        error = error + seg_error[:, -1]
        methods.append(label)
    return tuple(methods)


def _propagate_segment(
    schedule: _Schedule,
    basis: RealGeneratorBasis | None,
    index: int,
    state: NDArray,
    run_times: NDArray[np.float64],
    tolerances: _Tolerances,
    counters: dict[str, int],
) -> tuple[NDArray, NDArray[np.float64], str]:
    """Propagate one segment from ``state``; returns states (N, S, ·), errors (N, S), method."""
    seg = schedule.protocol.segments[index]
    n_rows = state.shape[0]
    undriven = seg.drive is None
    if basis is not None:
        sectors = basis.sectors if undriven else None

        def coefficients(tau: NDArray[np.float64]) -> NDArray[np.float64]:
            c = basis.coefficients(schedule.terms(index, tau))
            return np.broadcast_to(c, (tau.size, n_rows, c.shape[-1]))

        if seg.constant:
            r = basis.generator(coefficients(np.array([0.0]))[0])
            x, _, point_method = propagate_constant_real(
                r, state, run_times, sectors=sectors, max_condition=tolerances.max_condition
            )
            label = "+".join(sorted(set(point_method.tolist()), key=["eigen", "expm"].index))
            return x, np.zeros((n_rows, run_times.size)), label

        def blocks_of(c: NDArray[np.float64], rows: slice) -> list[NDArray[np.float64]]:
            part = c[:, rows]
            blocks = basis.generator_blocks(part.reshape(-1, part.shape[-1]), sectors)
            return [b.reshape(part.shape[0], -1, *b.shape[1:]) for b in blocks]

        # One step sequence for the batch; within a step the batch is split over threads
        # (coefficients are evaluated once per step for all rows).
        threads = min(default_threads(), n_rows)
        with _blas_single_thread(), ThreadPoolExecutor(max_workers=threads) as pool:
            loop = tolerances.magnus(
                dense_magnus_step(coefficients, blocks_of, sectors, pool, threads),
                state,
                run_times,
                lambda v: np.abs(np.linalg.eigvalsh(basis.from_coordinates(v))).sum(-1),
            )
        counters["steps"] += loop.steps
        counters["rejected"] += loop.rejected
        return loop.states, loop.errors, "magnus4"
    return _propagate_sparse(schedule, index, state, run_times, tolerances, counters)


def _propagate_sparse(
    schedule: _Schedule,
    index: int,
    state: NDArray,
    run_times: NDArray[np.float64],
    tolerances: _Tolerances,
    counters: dict[str, int],
) -> tuple[NDArray, NDArray[np.float64], str]:
    """Point-by-point Krylov propagation on complex vectorised ρ (large Hilbert spaces)."""
    seg = schedule.protocol.segments[index]
    n_rows, size = state.shape
    d = math.isqrt(size)
    out = np.empty((n_rows, run_times.size, size), dtype=complex)
    errors = np.zeros((n_rows, run_times.size))

    def operators(tau: float, row: int) -> tuple[NDArray, NDArray]:
        terms = schedule.terms(index, np.array([tau]))
        picked = {
            key: value[0, row] if key in _Schedule.TRAILING and value is not None else value
            for key, value in terms.items()
            if key != "dressed_detunings"
        }
        me = assemble(**picked)
        return me.hamiltonian, me.jump_operators

    if seg.constant:
        for row in range(n_rows):
            h, c = operators(0.0, row)
            rho = state[row].reshape(d, d)
            out[row] = _krylov_propagate(h, c, rho, run_times).reshape(run_times.size, size)
        return out, errors, "krylov"

    def trace_norm(v: NDArray) -> NDArray[np.float64]:
        m = v.reshape(-1, d, d)
        return np.abs(np.linalg.eigvalsh(0.5 * (m + np.conj(np.swapaxes(m, -1, -2))))).sum(-1)

    for row in range(n_rows):

        def step(start: float, h: float, x: NDArray, row: int = row) -> tuple[NDArray, NDArray]:
            def exponent(a: float, width: float) -> Any:
                a1 = sparse_liouvillian(*operators(a + _GAUSS_NODES[0] * width, row))
                a2 = sparse_liouvillian(*operators(a + _GAUSS_NODES[1] * width, row))
                diff = a2 - a1
                comm = diff @ a1 - a1 @ diff
                return (0.5 * width) * (a1 + a2) + (np.sqrt(3.0) / 12.0 * width * width) * comm

            full = spla.expm_multiply(exponent(start, h), x[0])
            half = 0.5 * h
            fine = spla.expm_multiply(exponent(start, half), x[0])
            fine = spla.expm_multiply(exponent(start + half, half), fine)
            return full[None, :], fine[None, :]

        loop = tolerances.magnus(step, state[row : row + 1].astype(complex), run_times, trace_norm)
        out[row] = loop.states[0]
        errors[row] = loop.errors[0]
        counters["steps"] += loop.steps
        counters["rejected"] += loop.rejected
    return out, errors, "magnus4-krylov"
