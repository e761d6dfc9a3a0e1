"""Protocols: run_protocol against QuTiP, analytic results, steady states and itself.

The QuTiP references never touch the package's propagators or superoperator basis: every
segment is solved with ``qutip.mesolve`` from H(t) and c_k(t) of the public
:func:`giantatoms.master_equation` evaluated at the instantaneous bare frequencies, in one fixed
frame (the reference frequency) for the whole protocol, chaining each segment's final state into
the next. A driven segment is solved in its drive's frame and rotated into the fixed frame with
the lab-time phases exp(i(ν − ω_ref)t(N_a − N_b)).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import qutip
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad_vec

import giantatoms
from giantatoms import Atom, Device, Drive, Waveguide
from giantatoms.model.lindblad import MasterEquation
from giantatoms.protocols import (
    FunctionWaveform,
    Protocol,
    Ramp,
    Sampled,
    Segment,
    driven_dissipative,
    initial_state,
    run_protocol,
)
from giantatoms.units import GHz, MHz, ns, us

from tests.reference.analytic import storage_fidelity
from tests.reference.random_models import random_giant_pair

QUTIP_OPTIONS = {"atol": 1e-10, "rtol": 1e-9, "nsteps": 1_000_000}
TIGHT = {"rtol": 1e-9, "atol": 1e-11}


# --------------------------------------------------------------------------------------------
# Reference machinery (independent of giantatoms.protocols)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceSegment:
    """What a segment does, as plain functions of the time τ since it started."""

    duration: float
    frequencies: Callable[[float], np.ndarray]  # bare frequencies (n,), rad/s
    drive: Drive | None = None
    envelope: Callable[[float], float] | None = None  # real, ≥ 0
    constant: bool = True


def constant(value) -> Callable[[float], np.ndarray]:
    value = np.asarray(value, dtype=float)
    return lambda tau: value


def ramp_function(start, stop, duration: float, shape: str = "cosine") -> Callable:
    start, stop = np.asarray(start, dtype=float), np.asarray(stop, dtype=float)

    def f(tau: float) -> np.ndarray:
        s = min(max(tau / duration, 0.0), 1.0)
        fraction = s if shape == "linear" else 0.5 - 0.5 * np.cos(np.pi * s)
        return start + (stop - start) * fraction

    return f


def excitation_numbers(dims) -> np.ndarray:
    """n_j on the diagonal of the product basis (first atom most significant), (d, n_atoms)."""
    columns = []
    for j, levels in enumerate(dims):
        left, right = int(np.prod(dims[:j])), int(np.prod(dims[j + 1 :]))
        columns.append(np.kron(np.kron(np.ones(left), np.arange(levels)), np.ones(right)))
    return np.stack(columns, axis=-1)


def scaled_drive(drive: Drive, factor: float) -> Drive:
    """The same tone with its amplitude multiplied by ``factor`` ≥ 0 (power + 20 log10)."""
    power = -np.inf if factor <= 0 else float(drive.power_dbm) + 20 * np.log10(factor)
    return Drive(drive.frequency, power_dbm=power, port=drive.port, phase=drive.phase)


def qutip_protocol(
    device: Device,
    segments: list[ReferenceSegment],
    times: np.ndarray,
    rho0: np.ndarray,
    frame_frequency: float,
    options: dict = QUTIP_OPTIONS,
) -> np.ndarray:
    """ρ(t) at ``times`` in the frame rotating at ``frame_frequency`` (lab time origin)."""
    dims = device.dims
    total = excitation_numbers(dims).sum(axis=-1)
    difference = total[:, None] - total[None, :]
    qdims = [list(dims), list(dims)]
    out = np.empty((times.size, *np.shape(rho0)), dtype=complex)
    rho = np.asarray(rho0, dtype=complex)
    start = 0.0
    for k, seg in enumerate(segments):
        end = start + seg.duration
        inside = (times >= start) & ((times < end) | (k == len(segments) - 1))
        local = np.concatenate([[0.0], times[inside] - start, [seg.duration]])
        nu = frame_frequency if seg.drive is None else float(seg.drive.frequency)

        def operators(tau: float, seg: ReferenceSegment = seg) -> tuple:
            drive = seg.drive
            if drive is not None and seg.envelope is not None:
                drive = scaled_drive(drive, seg.envelope(tau))
            me = giantatoms.master_equation(
                device, drive, frequencies=seg.frequencies(tau), frame_frequency=frame_frequency
            )
            h, cs = me.to_qutip()
            # sparse data: QuTiP's own matrix-vector products, no BLAS threads on tiny matrices
            return h.to("CSR"), [c.to("CSR") for c in cs]

        start_state = qutip.Qobj(
            rho * np.exp(1j * (nu - frame_frequency) * start * difference), dims=qdims
        )
        if seg.constant:
            h, cs = operators(0.0)
            result = qutip.mesolve(h, start_state, local, cs, options=options)
        else:
            generator = qutip.QobjEvo(
                lambda t, operators=operators: qutip.liouvillian(*operators(t))
            )
            result = qutip.mesolve(generator, start_state, local, options=options)
        states = np.array([s.full() for s in result.states])
        back = -1j * (nu - frame_frequency) * (start + local)[:, None, None] * difference
        states = states * np.exp(back)
        out[inside] = states[1:-1]
        rho = states[-1]
        start = end
    return out


def random_density_matrix(rng: np.random.Generator, d: int, rank: int = 2) -> np.ndarray:
    a = rng.normal(size=(d, rank)) + 1j * rng.normal(size=(d, rank))
    rho = a @ a.conj().T
    return rho / np.trace(rho)


def with_boundaries(times: np.ndarray, durations) -> np.ndarray:
    """Sorted unique save times including 0, every segment boundary and the end."""
    edges = np.concatenate([[0.0], np.cumsum(durations)])
    return np.unique(np.concatenate([times, edges]))


def small_pair(levels: int = 2) -> Device:
    """The preset's geometry with two-level (or weakly anharmonic) atoms and distinct losses."""
    return Device(
        Waveguide(1.2e8),
        [
            Atom(
                "A",
                frequency=4.6 * GHz,
                points=[0.0, 0.084],
                point_rates=2 * MHz,
                levels=levels,
                anharmonicity=-40 * MHz if levels == 3 else None,
                t1=20 * us,
                t2=15 * us,
                n_thermal=0.02,
            ),
            Atom(
                "B",
                frequency=4.6 * GHz,
                points=[0.1043, 0.1883],
                point_rates=2 * MHz,
                levels=levels,
                anharmonicity=-45 * MHz if levels == 3 else None,
                t1=25 * us,
                t2=20 * us,
                n_thermal=0.01,
            ),
        ],
    )


def two_level_preset() -> Device:
    device = giantatoms.model.presets.load("sequential_pair")
    return device.replace_atom("A", levels=2).replace_atom("B", levels=2)


def dressed(device: Device, frequencies) -> np.ndarray:
    """Lamb-shifted g→e frequencies ω̃_j at bare ``frequencies`` (n,)."""
    return frequencies + device.couplings(frequencies=frequencies).lamb_shift


def check_physical(result, tol: float = 1e-8) -> None:
    assert np.all(result.trace_error <= tol)
    assert np.all(result.hermiticity_error <= tol)
    assert np.all(result.min_eigenvalue >= -tol)


# --------------------------------------------------------------------------------------------
# 1. Against QuTiP on random time-dependent models
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("levels", "shape", "seed"),
    [(2, "cosine", 1), (2, "linear", 2), (3, "cosine", 3)],
    ids=["qubits-cosine", "qubits-linear", "qutrits-cosine"],
)
def test_protocol_with_flux_ramp_matches_qutip(levels, shape, seed):
    rng = np.random.default_rng(seed)
    device = random_giant_pair(rng, levels)
    w0 = device.frequencies
    w1 = w0 + rng.uniform(-40.0, 40.0, size=2) * MHz  # second operating point
    drive = Drive(
        frequency=np.mean(w0) + rng.uniform(-5.0, 5.0) * MHz,
        power_dbm=rng.uniform(-132.0, -125.0),
        phase=rng.uniform(0.0, 2 * np.pi),
    )
    durations = (rng.uniform(60, 120) * ns, rng.uniform(20, 50) * ns, rng.uniform(20, 50) * ns)
    protocol = Protocol(
        [
            Segment(durations[0], w0, drive, label="drive"),
            Segment(durations[1], Ramp(w1, shape=shape), label="ramp"),
            Segment(durations[2], label="store"),
        ]
    )
    reference_segments = [
        ReferenceSegment(durations[0], constant(w0), drive),
        ReferenceSegment(durations[1], ramp_function(w0, w1, durations[1], shape), constant=False),
        ReferenceSegment(durations[2], constant(w1)),
    ]
    times = with_boundaries(rng.uniform(0.0, sum(durations), size=8), durations)
    rho0 = random_density_matrix(rng, int(np.prod(device.dims)))

    result = run_protocol(device, protocol, times, rho0, frame="drive", rtol=1e-9)
    reference = qutip_protocol(
        device, reference_segments, times, rho0, float(drive.frequency), QUTIP_OPTIONS
    )

    assert result.methods == ("eigen", "magnus4", "eigen")
    assert result.steps > 0
    np.testing.assert_allclose(result.reference_frequency, drive.frequency)
    np.testing.assert_allclose(result.rho, reference, atol=1e-6, rtol=0)
    # the error estimate is a (leading-order) bound, not a decoration
    assert np.all(result.error_estimate <= 1e-5)
    assert np.all(np.diff(result.error_estimate) >= 0)
    # the metrics are those of the states
    np.testing.assert_allclose(
        result.bell_fidelity_optimized,
        giantatoms.bell_fidelity(reference, "psi-", optimize_phases=True),
        atol=1e-6,
    )
    # frequencies and segment indices at the save times
    starts = np.concatenate([[0.0], np.cumsum(durations)])
    expected_segment = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, 2)
    np.testing.assert_array_equal(result.segment, expected_segment)
    for t, k, freq in zip(times, result.segment, result.frequencies, strict=True):
        np.testing.assert_allclose(
            freq, reference_segments[k].frequencies(t - starts[k]), rtol=1e-12
        )


def test_time_dependent_drive_and_perturbations_match_qutip():
    # A driven segment with a rising envelope, a driven flux ramp, quasi-static errors.
    rng = np.random.default_rng(11)
    device = random_giant_pair(rng, 2)
    w0 = device.frequencies
    w1 = w0 + np.array([6.0, -4.0]) * MHz
    drive = Drive(frequency=np.mean(w0) + 1 * MHz, power_dbm=-128.0, phase=0.4)
    offset, scale, phase = np.array([0.7, -0.3]) * MHz, 0.9, 0.25
    durations = (40 * ns, 50 * ns, 30 * ns)
    protocol = Protocol(
        [
            Segment(durations[0], w0, drive, drive_envelope=Ramp(1.0, start=0.0), label="rise"),
            Segment(durations[1], Ramp(w1, shape="linear"), drive, label="driven ramp"),
            Segment(durations[2], label="store"),
        ]
    ).perturbed(frequency_offset=offset, amplitude_scale=scale, phase_offset=phase)
    perturbed_drive = Drive(
        drive.frequency, power_dbm=drive.power_dbm + 20 * np.log10(scale), phase=drive.phase + phase
    )
    rise = ramp_function(0.0, 1.0, durations[0])
    reference_segments = [
        ReferenceSegment(
            durations[0], constant(w0 + offset), perturbed_drive, envelope=rise, constant=False
        ),
        ReferenceSegment(
            durations[1],
            ramp_function(w0 + offset, w1 + offset, durations[1], "linear"),
            perturbed_drive,
            constant=False,
        ),
        ReferenceSegment(durations[2], constant(w1 + offset)),
    ]
    times = with_boundaries(np.array([15, 33, 61, 99, 111]) * ns, durations)
    rho0 = initial_state(device, "thermal")
    result = run_protocol(device, protocol, times, "thermal", rtol=1e-9)
    reference = qutip_protocol(device, reference_segments, times, rho0, float(drive.frequency))
    assert result.methods == ("magnus4", "magnus4", "eigen")
    np.testing.assert_allclose(result.rho, reference, atol=1e-6, rtol=0)
    np.testing.assert_allclose(result.frequencies[-1], w1 + offset, rtol=1e-13)


def _drive_after_undriven(scenario: str):
    """Protocols in which a driven segment does not start at t = 0 in its own frame."""
    device = small_pair()
    op = giantatoms.entangling_operating_point(device, 3 * MHz)
    w0 = op.frequencies
    w1 = w0 + np.array([20.0, -20.0]) * MHz
    drive = Drive(op.drive_frequency, power_dbm=-130)
    if scenario == "redrive":  # drive, move away, wait, come back, drive again
        d = (100 * ns, 40 * ns, 30 * ns, 40 * ns, 60 * ns)
        protocol = [
            Segment(d[0], w0, drive),
            Segment(d[1], Ramp(w1)),
            Segment(d[2]),
            Segment(d[3], Ramp(w0)),
            Segment(d[4], None, drive),
        ]
        reference = [
            ReferenceSegment(d[0], constant(w0), drive),
            ReferenceSegment(d[1], ramp_function(w0, w1, d[1]), constant=False),
            ReferenceSegment(d[2], constant(w1)),
            ReferenceSegment(d[3], ramp_function(w1, w0, d[3]), constant=False),
            ReferenceSegment(d[4], constant(w0), drive),
        ]
        rho0 = initial_state(device, "ground")
    elif scenario == "bias_then_drive":  # PHYSICS.md §1 steps 1–3: bias, then drive
        d = (40 * ns, 150 * ns)
        protocol = [Segment(d[0], Ramp(w0, start=w1)), Segment(d[1], w0, drive)]
        reference = [
            ReferenceSegment(d[0], ramp_function(w1, w0, d[0]), constant=False),
            ReferenceSegment(d[1], constant(w0), drive),
        ]
        rho0 = initial_state(device, "thermal")
    else:  # "two_tones": a second tone at another frequency right after the first
        second = Drive(op.drive_frequency + 3 * MHz, power_dbm=-128)
        d = (80 * ns, 80 * ns)
        protocol = [Segment(d[0], w0, drive), Segment(d[1], w0, second)]
        reference = [
            ReferenceSegment(d[0], constant(w0), drive),
            ReferenceSegment(d[1], constant(w0), second),
        ]
        rho0 = initial_state(device, "ground")
    return device, Protocol(protocol), reference, d, rho0, float(drive.frequency)


@pytest.mark.parametrize("scenario", ["redrive", "bias_then_drive", "two_tones"])
def test_drive_that_starts_later_matches_qutip(scenario):
    # The propagation frame's phase θ(t) = ∫ν is not ω_d·t when a driven segment starts after
    # an undriven one (ν = mean atom frequency) or after a tone at another frequency: the tone
    # must then act with the phase θ(t_s) − ω_d·t_s, or the state picks up a spurious rotation
    # (and a re-drive acts with the wrong phase on the stored coherences).
    device, protocol, reference_segments, durations, rho0, frame = _drive_after_undriven(scenario)
    times = with_boundaries(np.linspace(0.0, sum(durations), 7), durations)
    result = run_protocol(device, protocol, times, rho0, rtol=1e-9)
    reference = qutip_protocol(device, reference_segments, times, rho0, frame)
    np.testing.assert_allclose(result.rho, reference, atol=1e-6, rtol=0)


# --------------------------------------------------------------------------------------------
# 2. Steady states, and physical states along random protocols
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def preset():
    return giantatoms.model.presets.load("sequential_pair")


def test_long_constant_drive_reaches_the_steady_state(preset):
    op = giantatoms.entangling_operating_point(preset, 2 * MHz)
    drive = op.drive(-128.0)
    me = giantatoms.master_equation(preset, drive, frequencies=op.frequencies)
    expected = giantatoms.steady_state(me).rho
    gap = float(giantatoms.liouvillian_gap(me).gap)
    t_end = 60 / gap  # e^{-60}: converged far below the tolerance
    protocol = Protocol([Segment(t_end, op.frequencies, drive)])
    times = np.array([0.0, 1 / gap, t_end / 2, t_end])
    for start in ("ground", "thermal"):
        result = run_protocol(preset, protocol, times, start)
        check_physical(result, tol=1e-10)
        assert result.methods in (("eigen",), ("expm",))  # exact either way (expm on uniform grids)
        assert result.error_estimate.max() == 0.0
        np.testing.assert_allclose(result.rho[-2:], [expected, expected], atol=1e-9, rtol=0)
        assert np.abs(result.rho[1] - expected).max() > 1e-3  # not there after 1/gap yet
        f_ss = giantatoms.bell_fidelity(expected, op.dark_state)
        np.testing.assert_allclose(result.bell_fidelity[-1], f_ss, atol=1e-9)


def test_steady_state_does_not_depend_on_how_the_atoms_got_there():
    # Same unique steady state whatever came before the long drive: here a bias ramp into the
    # operating point (PHYSICS.md §1 step 2) before the drive is switched on (the tone phase of
    # test_drive_that_starts_later_matches_qutip).
    device = small_pair()
    op = giantatoms.entangling_operating_point(device, 2 * MHz)
    drive = op.drive(-130.0)
    me = giantatoms.master_equation(device, drive, frequencies=op.frequencies)
    expected = giantatoms.steady_state(me).rho
    t_end = 60 / float(giantatoms.liouvillian_gap(me).gap)
    start = op.frequencies + np.array([25.0, -15.0]) * MHz
    protocol = Protocol(
        [Segment(30 * ns, Ramp(op.frequencies, start=start)), Segment(t_end, None, drive)]
    )
    result = run_protocol(device, protocol, [30 * ns + t_end])
    np.testing.assert_allclose(result.rho[-1], expected, atol=1e-8, rtol=0)


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    levels=st.sampled_from([2, 3]),
    shape=st.sampled_from(["cosine", "linear"]),
    power=st.floats(-140.0, -118.0),
    durations=st.tuples(*(st.floats(5.0, 80.0) for _ in range(3))),
    move=st.tuples(st.floats(-60.0, 60.0), st.floats(-60.0, 60.0)),
    start=st.sampled_from(["ground", "thermal"]),
)
def test_random_protocols_keep_states_physical(seed, levels, shape, power, durations, move, start):
    rng = np.random.default_rng(seed)
    device = random_giant_pair(rng, levels)
    w0 = device.frequencies
    drive = Drive(np.mean(w0) + rng.uniform(-5.0, 5.0) * MHz, power_dbm=power)
    d = np.array(durations) * ns
    protocol = Protocol(
        [
            Segment(d[0], w0, drive, drive_envelope=Ramp(1.0, start=0.0)),
            Segment(d[1], Ramp(w0 + np.array(move) * MHz, shape=shape)),
            Segment(d[2]),
        ]
    )
    times = np.linspace(0.0, d.sum(), 9)
    result = run_protocol(device, protocol, times, start)
    check_physical(result)
    assert np.all(result.bell_fidelity >= -1e-8)
    assert np.all(result.bell_fidelity <= result.bell_fidelity_optimized + 1e-12)
    assert np.all(result.bell_fidelity_optimized <= 1 + 1e-8)
    assert np.all((result.leakage >= -1e-8) & (result.leakage <= 1 + 1e-8))


# --------------------------------------------------------------------------------------------
# 3. Storage at the decoherence-free point (PHYSICS.md §6)
# --------------------------------------------------------------------------------------------


def test_df_storage_of_psi_minus_matches_analytic(preset):
    df = 5.0 * GHz
    # unequal atoms, so that both terms of the formula are tested
    device = preset.replace_atom("A", n_thermal=0.0, frequency=df)
    device = device.replace_atom("B", n_thermal=0.0, frequency=df, t1=40 * us, t2=33 * us)
    c = device.couplings()
    gamma = 2 * MHz
    assert np.abs(c.decay_matrix).max() < 1e-9 * gamma  # DF: no waveguide decay at all
    assert np.abs(c.lamb_shift).max() < 1e-9 * gamma
    assert np.abs(c.exchange).max() < 1e-9 * gamma
    d = 9
    psi = np.zeros(d, dtype=complex)
    psi[3], psi[1] = 1 / np.sqrt(2), -1 / np.sqrt(2)  # (|eg⟩ − |ge⟩)/√2, |eg⟩ = 1·3 + 0
    rho0 = np.outer(psi, psi.conj())
    times = np.linspace(0.0, 60 * us, 13)
    result = run_protocol(device, Protocol([Segment(60 * us, label="store")]), times, rho0)
    assert result.methods in (("eigen",), ("expm",))  # exact either way (expm on uniform grids)
    np.testing.assert_allclose(result.reference_frequency, df)  # no drive: mean bare frequency
    a, b = device.atoms
    t1 = [1 / atom.intrinsic_decay_rate for atom in (a, b)]
    t2 = [1 / (atom.intrinsic_decay_rate / 2 + atom.dephasing_rate) for atom in (a, b)]
    np.testing.assert_allclose(t2, [29.5 * us, 33 * us], rtol=1e-12)
    expected = storage_fidelity(times, t1[0], t1[1], t2[0], t2[1])
    np.testing.assert_allclose(result.bell_fidelity, expected, rtol=1e-6)
    np.testing.assert_allclose(result.bell_fidelity_optimized, expected, rtol=1e-6)
    np.testing.assert_allclose(result.leakage, 0.0, atol=1e-12)
    np.testing.assert_allclose(result.local_phases, 0.0, atol=1e-6)


# --------------------------------------------------------------------------------------------
# 4. The paper's protocol, qualitatively (PHYSICS.md §1)
# --------------------------------------------------------------------------------------------

DELTA, POWER = 2 * MHz, -128.0  # F_ss(Ψ⁻) ≈ 0.88 on the preset
GAMMA = 2 * np.pi * 4.75e6  # Γ of one atom at the entangling point


@pytest.fixture(scope="module")
def paper_runs(preset):
    t_drive, ramp, t_store = 20 * us, 20 * ns, 1 * us
    runs = {}
    for after in ("stay", "move_to_df", "resonant"):
        protocol = driven_dissipative(
            preset,
            power_dbm=POWER,
            detuning=DELTA,
            t_drive=t_drive,
            ramp_time=ramp,
            t_store=t_store,
            after_drive=after,
        )
        after_times = np.array([0.0, 1 / GAMMA, 3 / GAMMA, 10 / GAMMA, ramp + t_store])
        runs[after] = run_protocol(preset, protocol, t_drive + after_times)
    return runs


def test_driven_dissipative_drive_reaches_the_dark_steady_state(preset, paper_runs):
    op = giantatoms.entangling_operating_point(preset, DELTA)
    me = giantatoms.master_equation(preset, op.drive(POWER), frequencies=op.frequencies)
    f_ss = giantatoms.bell_fidelity(giantatoms.steady_state(me).rho, "psi-", optimize_phases=True)
    assert f_ss > 0.8
    for result in paper_runs.values():
        assert result.target == "psi-"
        np.testing.assert_allclose(result.bell_fidelity_optimized[0], f_ss, atol=1e-7)


def test_entanglement_is_lost_when_staying_and_kept_at_the_df_point(paper_runs):
    end_of_drive = paper_runs["stay"].bell_fidelity_optimized[0]
    stay = paper_runs["stay"].bell_fidelity_optimized
    df = paper_runs["move_to_df"].bell_fidelity_optimized
    resonant = paper_runs["resonant"].bell_fidelity_optimized
    assert np.all(np.diff(stay) < 0)  # radiates away ...
    assert stay[3] < 0.3  # ... within 10/Γ
    assert stay[-1] < 0.05
    assert df[-1] >= 0.8 * end_of_drive  # after 1 µs of storage
    assert resonant[-1] > stay[-1] + 0.5  # subradiant but not decoupled: in between
    assert df[-1] < end_of_drive  # the move and T1/T2 are not free
    for result in paper_runs.values():
        check_physical(result)


# --------------------------------------------------------------------------------------------
# 5. Batches equal loops
# --------------------------------------------------------------------------------------------

BATCH_BASE = {
    "power_dbm": -128.0,
    "detuning": 2 * MHz,
    "t_drive": 300 * ns,
    "ramp_time": 20 * ns,
    "t_store": 60 * ns,
}


@pytest.mark.parametrize(
    "batched",
    [
        {"detuning": np.array([1.0, 2.0, 3.0]) * MHz},
        {"ramp_time": np.array([10.0, 20.0, 30.0]) * ns},
        {"power_dbm": np.array([-134.0, -128.0, -122.0])},
        {"detuning": np.array([[1.5], [3.0]]) * MHz, "ramp_time": np.array([10.0, 25.0]) * ns},
    ],
    ids=["detuning", "ramp_time", "power", "detuning-x-ramp_time"],
)
def test_batched_run_equals_loop_over_points(batched):
    device = two_level_preset()
    protocol = driven_dissipative(device, **(BATCH_BASE | batched))
    shape = np.broadcast_shapes(*(np.shape(v) for v in batched.values()))
    total = np.min(protocol.duration)
    times = np.linspace(0.0, total, 9)
    result = run_protocol(device, protocol, times, **TIGHT)
    assert result.batch_shape == shape
    assert result.rho.shape == (*shape, times.size, 4, 4)
    n_durations = np.unique(np.broadcast_to(protocol.durations[1], shape)).size
    assert result.info["groups"] == n_durations
    for index in np.ndindex(shape):
        point = {k: np.broadcast_to(v, shape)[index] for k, v in batched.items()}
        single_protocol = driven_dissipative(device, **(BATCH_BASE | point))
        single = run_protocol(device, single_protocol, times, **TIGHT)
        assert single.batch_shape == ()
        np.testing.assert_allclose(result.rho[index], single.rho, atol=1e-7, rtol=0)
        np.testing.assert_allclose(result.frequencies[index], single.frequencies, rtol=1e-12)
        np.testing.assert_allclose(result.local_phases[index], single.local_phases, atol=1e-6)
        np.testing.assert_array_equal(result.segment[index], single.segment)
        np.testing.assert_allclose(
            result.reference_frequency[index], single.reference_frequency, rtol=1e-15
        )


def test_batched_waveforms_equal_loop_over_points():
    device = small_pair()
    op = giantatoms.entangling_operating_point(device, 2 * MHz)
    w0 = op.frequencies
    stops = w0 + np.array([[30.0, -20.0], [-10.0, 15.0]]) * MHz  # (batch 2, atoms 2)
    ramp = 30 * ns
    tau = np.linspace(0.0, ramp, 201)
    fraction = (0.5 - 0.5 * np.cos(np.pi * tau / ramp))[:, None, None]
    samples = w0 + (stops - w0) * fraction  # (K, 2, 2)

    def make(frequencies) -> Protocol:
        drive = op.drive(np.array([-132.0, -126.0]))
        return Protocol([Segment(40 * ns, w0, drive), Segment(ramp, frequencies), Segment(10 * ns)])

    times = np.array([20, 40, 55, 70, 80]) * ns
    batched = {
        "ramp": run_protocol(device, make(Ramp(stops)), times, **TIGHT),
        "sampled": run_protocol(device, make(Sampled(tau, samples)), times, **TIGHT),
    }
    for i in range(2):
        drive = op.drive([-132.0, -126.0][i])
        single = run_protocol(
            device,
            Protocol(
                [Segment(40 * ns, w0, drive), Segment(ramp, Ramp(stops[i])), Segment(10 * ns)]
            ),
            times,
            **TIGHT,
        )
        for name, result in batched.items():
            assert result.batch_shape == (2,)
            np.testing.assert_allclose(result.rho[i], single.rho, atol=1e-7, err_msg=name)
            np.testing.assert_allclose(result.frequencies[i], single.frequencies, rtol=1e-9)


def test_batched_initial_states_and_device_parameters():
    # Batch axes from ρ(0) and from the device broadcast with the protocol's.
    device = small_pair().replace_atom("A", t1=np.array([10.0, 30.0]) * us)
    op = giantatoms.entangling_operating_point(small_pair(), 2 * MHz)
    protocol = Protocol(
        [
            Segment(50 * ns, op.frequencies, op.drive(-130.0)),
            Segment(20 * ns, Ramp(op.frequencies + 30 * MHz)),
            Segment(10 * ns),
        ]
    )
    rng = np.random.default_rng(5)
    rho0 = np.stack([random_density_matrix(rng, 4) for _ in range(3)])[:, None]  # (3, 1, 4, 4)
    times = np.array([10, 50, 60, 75]) * ns
    result = run_protocol(device, protocol, times, rho0, **TIGHT)
    assert result.batch_shape == (3, 2)
    for i, j in np.ndindex(3, 2):
        point = small_pair().replace_atom("A", t1=[10.0, 30.0][j] * us)
        single = run_protocol(point, protocol, times, rho0[i, 0], **TIGHT)
        np.testing.assert_allclose(result.rho[i, j], single.rho, atol=1e-7, rtol=0)


# --------------------------------------------------------------------------------------------
# 6. Frames
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def frame_setup():
    device = small_pair(levels=3)
    op = giantatoms.entangling_operating_point(small_pair(), 2 * MHz)
    w0 = op.frequencies
    w1 = np.array([4.75, 4.68]) * GHz
    durations = (80 * ns, 30 * ns, 40 * ns)
    protocol = Protocol(
        [
            Segment(durations[0], w0, op.drive(-130.0)),
            Segment(durations[1], Ramp(w1)),
            Segment(durations[2]),
        ]
    )
    times = with_boundaries(np.array([17, 55, 93, 101, 127]) * ns, durations)
    rng = np.random.default_rng(8)
    rho0 = random_density_matrix(rng, 9, rank=3)
    runs = {
        frame: run_protocol(device, protocol, times, rho0, frame=frame)
        for frame in ("drive", "atoms")
    }
    return device, protocol, times, rho0, (w0, w1, durations), runs


def test_atoms_and_drive_frames_differ_by_the_local_phases(frame_setup):
    device, _, _, _, _, runs = frame_setup
    drive, atoms = runs["drive"], runs["atoms"]
    assert (drive.frame, atoms.frame) == ("drive", "atoms")
    np.testing.assert_allclose(atoms.local_phases, drive.local_phases, atol=1e-9)
    # level populations are frame-independent; the Bell populations only in pairs
    pops_a, pops_d = atoms.populations, drive.populations
    for key in ("gg", "ge", "eg", "ee", "leakage"):
        np.testing.assert_allclose(pops_a[key], pops_d[key], atol=1e-12, err_msg=key)
    for pair in (("psi+", "psi-"), ("phi+", "phi-")):
        np.testing.assert_allclose(
            sum(pops_a[k] for k in pair), sum(pops_d[k] for k in pair), atol=1e-12
        )
    assert np.abs(pops_a["psi-"] - pops_d["psi-"]).max() > 1e-2  # ... each one is not
    np.testing.assert_allclose(atoms.bell_fidelity_optimized, drive.bell_fidelity_optimized)
    np.testing.assert_allclose(atoms.concurrence, drive.concurrence, atol=1e-12)
    np.testing.assert_allclose(atoms.leakage, drive.leakage, atol=1e-12)
    # ρ_atoms[a, b] = ρ_drive[a, b] exp(i Σ_j φ_j (n_j,a − n_j,b))
    angle = np.einsum("tj,aj->ta", drive.local_phases, excitation_numbers(device.dims))
    rotated = drive.rho * np.exp(1j * (angle[:, :, None] - angle[:, None, :]))
    np.testing.assert_allclose(atoms.rho, rotated, atol=1e-12)
    # and the difference is not trivial: the atoms are far from the drive after the ramp
    assert np.abs(atoms.rho - drive.rho).max() > 1e-2


def test_local_phases_integrate_the_dressed_frequencies(frame_setup):
    device, _, times, _, (w0, w1, durations), runs = frame_setup
    reference = float(runs["drive"].reference_frequency)
    starts = np.concatenate([[0.0], np.cumsum(durations)])
    pieces = [constant(w0), ramp_function(w0, w1, durations[1]), constant(w1)]

    def phase(t: float) -> np.ndarray:
        total = np.zeros(2)
        for k, piece in enumerate(pieces):
            upper = min(t, starts[k + 1]) - starts[k]
            if upper > 0:
                total += quad_vec(
                    lambda tau, piece=piece: dressed(device, piece(tau)) - reference,
                    0.0,
                    upper,
                    epsabs=1e-10,
                    epsrel=1e-13,
                )[0]
        return total

    expected = np.array([phase(t) for t in times])
    assert np.abs(expected).max() > 10  # radians: the check has teeth
    np.testing.assert_allclose(runs["drive"].local_phases, expected, atol=1e-7, rtol=0)


def test_numeric_frames(frame_setup):
    device, protocol, times, rho0, _, runs = frame_setup
    drive = runs["drive"]
    reference = float(drive.reference_frequency)
    same = run_protocol(device, protocol, times, rho0, frame=reference)
    assert same.frame == "fixed"
    np.testing.assert_allclose(same.rho, drive.rho, atol=1e-13)
    np.testing.assert_allclose(same.local_phases, drive.local_phases, atol=1e-12)
    # another fixed frame, and the same frame requested through the protocol
    other = reference + 7 * MHz
    shifted = run_protocol(device, protocol, times, rho0, frame=other)
    via_protocol = run_protocol(
        device,
        Protocol(protocol.segments, reference_frequency=other),
        times,
        rho0,
    )
    n = excitation_numbers(device.dims).sum(axis=-1)
    angle = (other - reference) * times[:, None, None] * (n[:, None] - n[None, :])
    np.testing.assert_allclose(shifted.rho, drive.rho * np.exp(1j * angle), atol=1e-11)
    np.testing.assert_allclose(
        shifted.local_phases, drive.local_phases - (other - reference) * times[:, None], atol=1e-7
    )
    np.testing.assert_allclose(via_protocol.rho, shifted.rho, atol=1e-13)
    np.testing.assert_allclose(via_protocol.reference_frequency, other)


def test_default_reference_without_drive_is_the_mean_bare_frequency():
    device = small_pair().with_frequencies(np.array([4.61, 4.59]) * GHz)
    protocol = Protocol([Segment(30 * ns, Ramp(np.array([4.7, 4.65]) * GHz))])
    rng = np.random.default_rng(3)
    rho0 = random_density_matrix(rng, 4)
    times = [10 * ns, 25 * ns]
    result = run_protocol(device, protocol, times, rho0)
    np.testing.assert_allclose(result.reference_frequency, 4.6 * GHz, rtol=1e-15)
    fixed = run_protocol(device, protocol, times, rho0, frame=4.6 * GHz)
    np.testing.assert_allclose(result.rho, fixed.rho, atol=1e-13)


# --------------------------------------------------------------------------------------------
# 7. Waveforms
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ramp_setup():
    device = small_pair()
    op = giantatoms.entangling_operating_point(device, 2 * MHz)
    w0, w1 = op.frequencies, op.frequencies + np.array([30.0, -20.0]) * MHz
    ramp = 40 * ns

    def make(frequencies) -> Protocol:
        return Protocol(
            [
                Segment(60 * ns, w0, op.drive(-130.0)),
                Segment(ramp, frequencies),
                Segment(20 * ns),
            ]
        )

    times = np.array([30, 60, 70, 85, 100, 110, 120]) * ns
    reference = run_protocol(device, make(Ramp(w1, shape="cosine")), times, **TIGHT)
    return device, make, times, (w0, w1, ramp), reference


def test_sampled_function_and_callable_waveforms_match_ramp(ramp_setup):
    device, make, times, (w0, w1, ramp), reference = ramp_setup
    cosine = ramp_function(w0, w1, ramp)
    tau = np.linspace(0.0, ramp, 401)
    waveforms = {
        "sampled-cubic": Sampled(tau, np.array([cosine(x) for x in tau])),
        "function": FunctionWaveform(cosine),
        "callable": cosine,
        "ramp-explicit-start": Ramp(w1, start=w0),
    }
    for name, waveform in waveforms.items():
        result = run_protocol(device, make(waveform), times, **TIGHT)
        assert result.methods[1] == "magnus4", name
        np.testing.assert_allclose(result.rho, reference.rho, atol=1e-7, rtol=0, err_msg=name)
        np.testing.assert_allclose(result.frequencies, reference.frequencies, rtol=1e-9)
    # a visibly different waveform does change the answer (the comparison has teeth)
    linear = run_protocol(device, make(Ramp(w1, shape="linear")), times, **TIGHT)
    assert np.abs(linear.rho - reference.rho).max() > 1e-4


def test_linear_sampled_and_callable_shape(ramp_setup):
    device, make, times, (w0, w1, ramp), _ = ramp_setup
    linear = run_protocol(device, make(Ramp(w1, shape="linear")), times, **TIGHT)
    sampled = Sampled([0.0, ramp], np.stack([w0, w1]), kind="linear")
    np.testing.assert_allclose(
        run_protocol(device, make(sampled), times, **TIGHT).rho, linear.rho, atol=1e-8
    )

    def smoothstep(s):
        return s * s * (3 - 2 * s)

    shaped = run_protocol(device, make(Ramp(w1, shape=smoothstep)), times, **TIGHT)
    function = run_protocol(
        device,
        make(FunctionWaveform(lambda t: w0 + (w1 - w0) * smoothstep(t / ramp))),
        times,
        **TIGHT,
    )
    np.testing.assert_allclose(shaped.rho, function.rho, atol=1e-8)
    assert np.abs(shaped.rho - linear.rho).max() > 1e-4


def test_ramp_with_explicit_start_jumps():
    device = small_pair()
    w0 = np.array([4.6, 4.6]) * GHz
    jump, w2 = w0 + np.array([10.0, -10.0]) * MHz, w0 + np.array([30.0, 5.0]) * MHz
    explicit = Protocol(
        [Segment(20 * ns, w0), Segment(30 * ns, Ramp(w2, start=jump)), Segment(10 * ns)]
    )
    function = Protocol(
        [
            Segment(20 * ns, w0),
            Segment(30 * ns, FunctionWaveform(ramp_function(jump, w2, 30 * ns))),
            Segment(10 * ns),
        ]
    )
    times = np.array([10, 19.999, 20, 35, 55]) * ns
    rng = np.random.default_rng(4)
    rho0 = random_density_matrix(rng, 4)
    a = run_protocol(device, explicit, times, rho0, **TIGHT)
    b = run_protocol(device, function, times, rho0, **TIGHT)
    np.testing.assert_allclose(a.rho, b.rho, atol=1e-8)
    np.testing.assert_allclose(a.frequencies[1], w0, rtol=1e-15)
    np.testing.assert_allclose(a.frequencies[2], jump, rtol=1e-15)  # the jump at t = 20 ns
    np.testing.assert_allclose(a.frequencies[-1], w2, rtol=1e-15)


def test_splitting_a_segment_changes_nothing():
    device = small_pair()
    op = giantatoms.entangling_operating_point(device, 2 * MHz)
    drive = op.drive(-130.0)
    w1 = op.frequencies + np.array([20.0, 10.0]) * MHz
    whole = Protocol([Segment(100 * ns, op.frequencies, drive), Segment(60 * ns, w1)])
    split = Protocol(
        [
            Segment(30 * ns, op.frequencies, drive),
            Segment(70 * ns, None, drive),
            Segment(25 * ns, w1),
            Segment(35 * ns),
        ]
    )
    times = np.array([10, 30, 64, 100, 120, 160]) * ns
    a = run_protocol(device, whole, times, "thermal")
    b = run_protocol(device, split, times, "thermal")
    assert a.methods == ("eigen", "eigen")
    np.testing.assert_allclose(a.rho, b.rho, atol=1e-11)
    np.testing.assert_allclose(a.local_phases, b.local_phases, atol=1e-9)
    assert b.segment.tolist() == [0, 1, 1, 2, 2, 3]


@pytest.mark.parametrize("where", ["at the protocol end", "one ulp before", "one ulp after"])
def test_save_times_at_the_edges_of_a_ramp(where):
    # A save time at the end of a time-dependent segment (e.g. the end of a protocol that ends
    # with a ramp) or within rounding of either edge of one (times from np.linspace or sums of
    # durations) is an ordinary request. The Magnus loop must not be handed two save times
    # (the last one and the appended segment end, or 0 and the first one) a few ulp apart:
    # that raises "evolve: step size underflow".
    device = small_pair()
    w0 = device.frequencies
    w1 = w0 + np.array([30.0, 20.0]) * MHz
    ends_with_ramp = Protocol([Segment(20 * ns, w0), Segment(30 * ns, Ramp(w1))])
    with_store = Protocol([Segment(20 * ns, w0), Segment(30 * ns, Ramp(w1)), Segment(10 * ns)])
    edges = with_store.boundaries()
    rho0 = random_density_matrix(np.random.default_rng(9), 4)
    # the states at the ramp's two edges, with save times that fall exactly on segment starts
    exact = run_protocol(device, with_store, [edges[1], edges[2]], rho0)
    if where == "at the protocol end":
        result = run_protocol(device, ends_with_ramp, [10 * ns, float(edges[2])], rho0)
        expected = exact.rho[1]
    elif where == "one ulp before":  # the end of the ramp, by rounding
        result = run_protocol(device, with_store, [10 * ns, np.nextafter(edges[2], 0)], rho0)
        expected = exact.rho[1]
    else:  # the start of the ramp, by rounding
        result = run_protocol(device, with_store, [10 * ns, np.nextafter(edges[1], 1)], rho0)
        expected = exact.rho[0]
    np.testing.assert_allclose(result.rho[-1], expected, atol=1e-9)


# --------------------------------------------------------------------------------------------
# 8. Krylov path
# --------------------------------------------------------------------------------------------


def test_krylov_equals_dense_on_a_ramp():
    device = small_pair()
    op = giantatoms.entangling_operating_point(device, 2 * MHz)
    w1 = op.frequencies + np.array([25.0, -15.0]) * MHz
    protocol = Protocol(
        [
            Segment(40 * ns, op.frequencies, op.drive(np.array([-134.0, -128.0]))),
            Segment(15 * ns, Ramp(w1)),
            Segment(20 * ns),
        ]
    )
    times = np.array([20, 40, 50, 55, 75]) * ns
    rho0 = random_density_matrix(np.random.default_rng(6), 4)
    dense = run_protocol(device, protocol, times, rho0, method="dense", rtol=1e-9)
    krylov = run_protocol(device, protocol, times, rho0, method="krylov", rtol=1e-9)
    assert dense.methods[1] == "magnus4"
    assert set(dense.methods[::2]) <= {"eigen", "expm"}  # exact propagators
    assert krylov.methods == ("krylov", "magnus4-krylov", "krylov")
    assert krylov.rho.shape == (2, times.size, 4, 4)
    np.testing.assert_allclose(krylov.rho, dense.rho, atol=1e-7, rtol=0)
    np.testing.assert_allclose(krylov.local_phases, dense.local_phases, atol=1e-12)
    check_physical(krylov)


def test_amplitude_phase_and_frequency_controls_agree():
    # Three ways to scale the tone, two to shift its phase, two to offset the atoms.
    device = small_pair()
    op = giantatoms.entangling_operating_point(device, 2 * MHz)
    w0, offset = op.frequencies, np.array([0.4, -0.2]) * MHz
    times = np.array([30, 80, 100]) * ns
    rho0 = random_density_matrix(np.random.default_rng(12), 4)

    def run(drive, w=w0, envelope=None, **perturbation):
        protocol = Protocol(
            [Segment(80 * ns, w, drive, drive_envelope=envelope), Segment(20 * ns)]
        ).perturbed(**perturbation)
        return run_protocol(device, protocol, times, rho0).rho

    weaker = Drive(op.drive_frequency, power_dbm=-130.0 + 20 * np.log10(0.6), phase=0.7)
    expected = run(weaker, w=w0 + offset)
    drive = Drive(op.drive_frequency, power_dbm=-130.0)
    for rho in (
        run(drive, envelope=0.6, phase_offset=0.7, frequency_offset=offset),
        run(Drive(op.drive_frequency, -130.0, phase=0.7), w=w0 + offset, amplitude_scale=0.6),
    ):
        np.testing.assert_allclose(rho, expected, atol=1e-10)
    assert np.abs(run(drive) - expected).max() > 1e-3


def test_max_step_is_respected():
    device = small_pair()
    protocol = Protocol([Segment(20 * ns, Ramp(device.frequencies + 5 * MHz)), Segment(5 * ns)])
    free = run_protocol(device, protocol, [25 * ns])
    capped = run_protocol(device, protocol, [25 * ns], max_step=1 * ns)
    assert free.steps < 20 <= capped.steps
    assert capped.info["max_step"] == 1 * ns
    np.testing.assert_allclose(capped.rho, free.rho, atol=1e-7)


# --------------------------------------------------------------------------------------------
# 9. Bad input: clear errors before any work
# --------------------------------------------------------------------------------------------

W = np.array([4.6, 4.6]) * GHz
GOOD = Protocol([Segment(10 * ns, W)])


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: Protocol([]), ValueError, "segments must not be empty"),
        (lambda: Protocol([Segment(10 * ns), "store"]), TypeError, r"segments\[1\] must be"),
        (lambda: Protocol([Segment(10 * ns)], pair=(1, 1)), ValueError, "two different"),
        (lambda: Protocol([Segment(10 * ns)], target="bell"), ValueError, "target"),
        (lambda: Segment(-1 * ns), ValueError, "duration must be > 0"),
        (lambda: Segment(0.0), ValueError, "duration must be > 0"),
        (lambda: Segment(10 * ns, drive="on"), TypeError, "drive must be a Drive"),
        (lambda: Ramp(W, shape="quadratic"), ValueError, "shape must be one of"),
        (lambda: Ramp(W, shape=lambda s: 0.5 * s), ValueError, r"f\(1\) = 1"),
        (lambda: Ramp(W, shape=lambda s: s + 0.1), ValueError, r"f\(0\) = 0"),
        (lambda: Sampled([0.0, 1e-9, 2e-9], [1.0, 2.0, 3.0]), ValueError, "≥ 4 samples"),
        (lambda: Sampled([0.0], [1.0]), ValueError, "≥ 2 samples"),
        (lambda: Sampled([1e-9, 2e-9, 3e-9, 4e-9], [1, 2, 3, 4]), ValueError, "start at 0"),
        (lambda: Sampled([0.0, 2e-9, 1e-9, 3e-9], [1, 2, 3, 4]), ValueError, "increase"),
        (lambda: Sampled([0.0, 1e-9, 2e-9, 3e-9], [1, 2, 3]), ValueError, "values must have"),
        (lambda: FunctionWaveform(3.0), TypeError, "must be callable"),
    ],
)
def test_invalid_protocols(build, error, match):
    with pytest.raises(error, match=match):
        build()


def _no_work(*args, **kwargs):
    raise AssertionError("propagation started before the arguments were checked")


@pytest.mark.parametrize(
    ("protocol", "kwargs", "error", "match"),
    [
        (GOOD, {"times": [0.0, 20 * ns]}, ValueError, "after the protocol ends"),
        (GOOD, {"times": [5 * ns, 2 * ns]}, ValueError, "strictly increasing"),
        (GOOD, {"times": [5 * ns, 5 * ns]}, ValueError, "strictly increasing"),
        (GOOD, {"times": [-1 * ns, 5 * ns]}, ValueError, "times must be ≥"),
        (Protocol([Segment(10 * ns, W[:1])]), {}, ValueError, "one per atom"),
        (Protocol([Segment(10 * ns, lambda t: np.ones(3))]), {}, ValueError, "one per atom"),
        (Protocol([Segment(10 * ns, -W)]), {}, ValueError, "finite and > 0"),
        (GOOD, {"frame": "lab"}, ValueError, "frame must be one of"),
        (GOOD, {"frame": -1.0}, ValueError, "frame must be"),
        (GOOD, {"initial_state": np.eye(3) / 3}, ValueError, "shape"),
        (GOOD, {"initial_state": np.eye(4)}, ValueError, "unit trace"),
        (GOOD, {"initial_state": np.triu(np.ones((4, 4))) / 4}, ValueError, "Hermitian"),
        (GOOD, {"initial_state": "excited"}, ValueError, "'ground' or 'thermal'"),
        (GOOD, {"method": "rk4"}, ValueError, "method must be"),
        (GOOD, {"rtol": 0.0}, ValueError, "rtol"),
        (GOOD, {"atol": -1.0}, ValueError, "atol"),
        (Protocol([Segment(10 * ns)], pair=(0, 2)), {}, ValueError, "beyond the device"),
        (
            Protocol([Segment(10 * ns, Sampled(np.linspace(0, 5e-9, 6), np.tile(W, (6, 1))))]),
            {},
            ValueError,
            "before the segment's duration",
        ),
        (
            Protocol([Segment([10 * ns, 20 * ns], W), Segment([1 * ns, 2 * ns, 3 * ns])]),
            {},
            ValueError,
            "do not broadcast",
        ),
        (Protocol([Segment(10 * ns, lambda t: W * np.nan)]), {}, ValueError, "non-finite"),
    ],
)
def test_invalid_run_arguments(monkeypatch, protocol, kwargs, error, match):
    from giantatoms.protocols import _runner

    monkeypatch.setattr(_runner, "_run_group", _no_work)
    arguments = {"times": [5 * ns]} | kwargs
    with pytest.raises(error, match=match):
        run_protocol(small_pair(), protocol, **arguments)


def test_wrong_ramp_shape_gives_a_clear_error(monkeypatch):
    # A Ramp whose stop has the wrong number of atoms fails inside numpy broadcasting with
    # "operands could not be broadcast together" instead of naming the problem.
    from giantatoms.protocols import _runner

    monkeypatch.setattr(_runner, "_run_group", _no_work)
    protocol = Protocol([Segment(10 * ns, Ramp(np.array([4.6, 4.6, 4.6]) * GHz))])
    with pytest.raises(ValueError, match="one per atom"):
        run_protocol(small_pair(), protocol, [5 * ns])


def test_wrong_types():
    with pytest.raises(TypeError, match="protocol must be a Protocol"):
        run_protocol(small_pair(), [Segment(10 * ns)], [5 * ns])
    with pytest.raises(TypeError, match="device must be a Device"):
        run_protocol(W, GOOD, [5 * ns])
    with pytest.raises(ValueError, match="'ground' or 'thermal'"):
        initial_state(small_pair(), "hot")
    with pytest.raises(ValueError, match="after_drive must be one of"):
        driven_dissipative(
            small_pair(),
            power_dbm=-130,
            detuning=1 * MHz,
            t_drive=1 * us,
            ramp_time=10 * ns,
            t_store=1 * us,
            after_drive="fly",
        )


# --------------------------------------------------------------------------------------------
# 10. driven_dissipative: structure of the protocol
# --------------------------------------------------------------------------------------------


def test_driven_dissipative_segments(preset):
    common = {"power_dbm": -128.0, "detuning": DELTA, "t_drive": 200 * ns, "t_store": 50 * ns}
    rise = driven_dissipative(preset, **common, ramp_time=20 * ns, drive_rise_time=30 * ns)
    assert [s.label for s in rise.segments] == ["rise", "drive", "ramp", "store"]
    assert rise.segments[0].drive is not None and not rise.segments[0].constant
    envelope = rise.segments[0].drive_envelope
    np.testing.assert_allclose(envelope(np.array([0.0, 15, 30]) * ns, 1.0, 30 * ns), [0, 0.5, 1])
    assert rise.segments[1].drive is rise.segments[0].drive
    np.testing.assert_allclose(rise.duration, 300 * ns)
    no_rise = driven_dissipative(preset, **common, ramp_time=20 * ns)
    assert [s.label for s in no_rise.segments] == ["drive", "ramp", "store"]
    assert no_rise.target == "psi-" and no_rise.pair == (0, 1)
    storage = np.array([5.1, 4.9]) * GHz
    explicit = driven_dissipative(preset, **common, ramp_time=20 * ns, df_frequencies=storage)
    np.testing.assert_allclose(explicit.segments[1].frequencies.stop, storage)
    op = giantatoms.entangling_operating_point(preset, DELTA)
    np.testing.assert_allclose(rise.segments[1].drive.frequency, op.drive_frequency)
    np.testing.assert_allclose(rise.segments[1].frequencies.value, op.frequencies)


@pytest.mark.parametrize("after", ["stay", "move_to_df", "resonant"])
def test_driven_dissipative_frequencies_after_the_drive(preset, after):
    op = giantatoms.entangling_operating_point(preset, DELTA)
    protocol = driven_dissipative(
        preset,
        power_dbm=-128.0,
        detuning=DELTA,
        t_drive=100 * ns,
        ramp_time=20 * ns,
        t_store=30 * ns,
        after_drive=after,
        drive_rise_time=10 * ns,
    )
    times = np.array([0, 10, 60, 110, 120, 125, 130, 160]) * ns
    result = run_protocol(preset, protocol, times)
    freqs = result.frequencies
    np.testing.assert_allclose(freqs[:4], np.broadcast_to(op.frequencies, (4, 2)), rtol=1e-15)
    after_drive = freqs[times >= 110 * ns]
    if after == "stay":
        np.testing.assert_allclose(after_drive, np.broadcast_to(op.frequencies, after_drive.shape))
    elif after == "move_to_df":
        np.testing.assert_allclose(freqs[-2:], 5.0 * GHz, rtol=1e-9)
        np.testing.assert_allclose(
            giantatoms.decoherence_free_frequencies(preset, 0, (4.9 * GHz, 5.1 * GHz)),
            [5.0 * GHz],
            rtol=1e-9,
        )
        assert np.all(np.diff(freqs[3:6, 0]) > 0)  # moving up during the ramp
    else:
        np.testing.assert_allclose(freqs[-1, 0], freqs[-1, 1], rtol=1e-15)
        np.testing.assert_allclose(freqs[-1], op.correlation_frequency, rtol=1e-15)
    np.testing.assert_array_equal(result.segment, [0, 1, 1, 2, 2, 2, 3, 3])
    assert result.segment_labels == ("rise", "drive", "ramp", "store")


# --------------------------------------------------------------------------------------------
# Plumbing: results, initial states, protocol helpers
# --------------------------------------------------------------------------------------------


def test_result_fields_and_exact_segments():
    device = small_pair(levels=3)
    op = giantatoms.entangling_operating_point(small_pair(), 2 * MHz)
    protocol = Protocol(
        [
            Segment(40 * ns, op.frequencies, op.drive(-130.0), label="drive"),
            Segment(20 * ns, Ramp(op.frequencies + 5 * MHz)),
            Segment(20 * ns),
        ],
        target="psi+",
    )
    times = np.array([0.0, 40, 45, 60, 80]) * ns
    result = run_protocol(device, protocol, times, "thermal")
    assert result.rho.shape == (5, 9, 9)
    assert result.batch_shape == ()
    assert result.dims == (3, 3)
    assert result.target == "psi+"
    assert result.segment_labels == ("drive", "segment 1", "segment 2")
    np.testing.assert_array_equal(result.times, times)
    np.testing.assert_allclose(result.rho[0], initial_state(device, "thermal"), atol=1e-15)
    np.testing.assert_allclose(result.final_state, result.rho[-1])
    assert result.local_phases.shape == result.frequencies.shape == (5, 2)
    np.testing.assert_allclose(result.local_phases[0], 0.0, atol=1e-15)
    assert result.error_estimate[1] == 0.0  # exact through the first segment
    assert result.error_estimate[-1] > 0.0
    np.testing.assert_allclose(
        result.bell_fidelity,
        giantatoms.bell_fidelity(result.rho, "psi+", dims=(3, 3)),
        atol=1e-15,
    )
    np.testing.assert_allclose(result.leakage, result.populations["leakage"])
    assert "ProtocolResult" in repr(result)
    assert "Protocol(target='psi+'" in repr(protocol)


def test_initial_states():
    device = small_pair(levels=3).replace_atom("B", n_thermal=np.array([0.0, 0.1]))
    ground = initial_state(device, "ground")
    assert ground.shape == (9, 9) and ground[0, 0] == 1 and np.trace(ground) == 1
    thermal = initial_state(device, "thermal")
    assert thermal.shape == (2, 9, 9)
    for k, n_b in enumerate([0.0, 0.1]):
        pa = (0.02 / 1.02) ** np.arange(3)
        pb = (n_b / (1 + n_b)) ** np.arange(3)
        expected = np.kron(pa / pa.sum(), pb / pb.sum())
        np.testing.assert_allclose(thermal[k], np.diag(expected), atol=1e-15)


def test_protocol_helpers():
    protocol = Protocol(
        [Segment(10 * ns), Segment(np.array([20.0, 30.0]) * ns), Segment(5 * ns)],
        frequency_offset=np.array([1.0, 2.0]),
    )
    np.testing.assert_allclose(protocol.duration, np.array([35.0, 45.0]) * ns)
    np.testing.assert_allclose(
        protocol.boundaries(), np.array([[0, 0], [10, 10], [30, 40], [35, 45]]) * ns
    )
    twice = protocol.perturbed(frequency_offset=1.0, amplitude_scale=0.5, phase_offset=0.1)
    twice = twice.perturbed(amplitude_scale=0.5, phase_offset=0.2)
    np.testing.assert_allclose(twice.frequency_offset, [2.0, 3.0])
    np.testing.assert_allclose(twice.amplitude_scale, 0.25)
    np.testing.assert_allclose(twice.phase_offset, 0.3)
    assert twice.segments == protocol.segments


# --------------------------------------------------------------------------------------------
# master_equation_at: the protocol's generator for other solvers
# --------------------------------------------------------------------------------------------


def test_master_equation_at_a_driven_constant_segment_is_the_drive_frame_model() -> None:
    device = giantatoms.model.presets.load("sequential_pair")
    op = giantatoms.entangling_operating_point(device, 2 * MHz)
    protocol = Protocol([Segment(1 * us, op.frequencies, op.drive(-127.0))])
    me = giantatoms.protocols.master_equation_at(device, protocol, 0.4 * us)
    ref = giantatoms.master_equation(device, op.drive(-127.0), frequencies=op.frequencies)
    np.testing.assert_allclose(me.hamiltonian, ref.hamiltonian, atol=1e-6)
    np.testing.assert_allclose(me.jump_operators, ref.jump_operators, atol=1e-9)
    assert me.info["segment"] == 0


def test_master_equation_at_integrated_by_evolve_reproduces_run_protocol() -> None:
    """An independent path: evolve() on H(t), c(t) from master_equation_at (fixed frame)."""
    rng = np.random.default_rng(4)
    device = random_giant_pair(rng, levels=2)
    w = np.asarray(device.frequencies)
    tone = Drive(frequency=w.mean() + 1 * MHz, power_dbm=-128.0)
    protocol = Protocol(
        [
            Segment(60 * ns, w, tone),
            Segment(20 * ns, Ramp(w + np.array([40.0, -30.0]) * MHz)),
            Segment(30 * ns, None, tone, drive_envelope=Ramp(1.0, start=0.0, shape="linear")),
        ]
    ).perturbed(amplitude_scale=1.1, phase_offset=0.3, frequency_offset=np.array([0.2, 0]) * MHz)
    times = np.linspace(0, 110 * ns, 12)
    ours = giantatoms.run_protocol(device, protocol, times, rtol=1e-10, atol=1e-12)
    # Break the reference at the segment boundaries (the generator jumps there).
    edges = [0.0, 60 * ns, 80 * ns, 110 * ns]
    rho = giantatoms.protocols.initial_state(device)
    states = []
    for start, stop in itertools.pairwise(edges):
        inside = times[(times >= start) & (times < stop)]
        grid = np.unique(np.concatenate([[start], inside, [stop]]))

        def generator(t: float, lo: float = start, hi: float = stop) -> MasterEquation:
            # A boundary belongs to the later segment: evaluate just inside this one.
            clamped = min(max(t, lo), float(np.nextafter(hi, lo)))
            return giantatoms.protocols.master_equation_at(device, protocol, clamped)

        ev = giantatoms.evolve(generator, rho, grid, t0=start, rtol=1e-10, atol=1e-12)
        keep = np.isin(grid, inside)
        states.extend(ev.rho[keep])
        rho = ev.rho[-1]
    np.testing.assert_allclose(np.array(states), ours.rho[: len(states)], atol=1e-8)


def test_master_equation_at_rejects_bad_input() -> None:
    device = giantatoms.model.presets.load("sequential_pair")
    protocol = Protocol([Segment(np.array([1.0, 2.0]) * us, np.full(2, 5.0 * GHz))])
    with pytest.raises(ValueError, match="scalar segment durations"):
        giantatoms.protocols.master_equation_at(device, protocol, 0.0)
    single = Protocol([Segment(1 * us, np.full(2, 5.0 * GHz))])
    with pytest.raises(ValueError, match="within"):
        giantatoms.protocols.master_equation_at(device, single, 2 * us)
    with pytest.raises(ValueError, match="number of seconds"):
        giantatoms.protocols.master_equation_at(device, single, "soon")
