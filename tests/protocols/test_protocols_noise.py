"""Quasi-static noise averages: reproducible seeds, plumbing of each error, Ramsey-type oracle."""

from __future__ import annotations

import numpy as np
import pytest

import giantatoms as ga
from giantatoms.protocols import Protocol, Segment, quasi_static_average, run_protocol

GHZ = ga.units.GHz
MHZ = ga.units.MHz
US = 1e-6


@pytest.fixture(scope="module")
def preset() -> ga.Device:
    """The paper's device with a cold bath (so storage of Ψ⁻ is analytic)."""
    device = ga.presets.load("sequential_pair")
    for name in device.atom_names:
        device = device.replace_atom(name, n_thermal=0.0)
    return device


def psi_minus(dims: tuple[int, ...]) -> np.ndarray:
    """Ψ⁻ = (|eg⟩ − |ge⟩)/√2 embedded in the product basis of ``dims``."""
    psi = np.zeros(int(np.prod(dims)), dtype=complex)
    psi[1 * dims[1] + 0] = 1 / np.sqrt(2)
    psi[0 * dims[1] + 1] = -1 / np.sqrt(2)
    return np.outer(psi, psi.conj())


def short_drive_protocol(device: ga.Device) -> Protocol:
    """Drive at an entangling point for 300 ns, then a short cosine ramp and storage."""
    return ga.protocols.driven_dissipative(
        device,
        power_dbm=-127.0,
        detuning=2 * MHZ,
        t_drive=0.3 * US,
        ramp_time=20e-9,
        t_store=0.1 * US,
    )


def test_same_seed_gives_identical_averages(preset: ga.Device) -> None:
    protocol = short_drive_protocol(preset)
    times = np.linspace(0, float(protocol.duration), 12)
    kwargs = {
        "samples": 6,
        "frequency_noise": 0.3 * MHZ,
        "amplitude_noise": 0.05,
        "phase_noise": 0.05,
        "rtol": 1e-6,
        "atol": 1e-8,
    }
    first = quasi_static_average(preset, protocol, times, seed=7, **kwargs)
    second = quasi_static_average(preset, protocol, times, seed=7, **kwargs)
    other = quasi_static_average(preset, protocol, times, seed=8, **kwargs)
    for key, value in first.averaged_state.items():
        np.testing.assert_array_equal(value, second.averaged_state[key])
        np.testing.assert_array_equal(first.standard_error[key], second.standard_error[key])
        np.testing.assert_array_equal(first.per_shot_mean[key], second.per_shot_mean[key])
    np.testing.assert_array_equal(first.rho_mean, second.rho_mean)
    assert first.seed == 7
    assert not np.array_equal(first.frequency_offsets, other.frequency_offsets)
    assert not np.allclose(
        first.averaged_state["bell_fidelity"], other.averaged_state["bell_fidelity"], atol=1e-9
    )


def test_seed_is_recorded_when_none_is_given(preset: ga.Device) -> None:
    protocol = Protocol([Segment(50e-9, np.full(2, 5.0 * GHZ))])
    times = np.array([0.0, 50e-9])
    drawn = quasi_static_average(preset, protocol, times, samples=3, frequency_noise=MHZ)
    again = quasi_static_average(
        preset, protocol, times, samples=3, frequency_noise=MHZ, seed=drawn.seed
    )
    np.testing.assert_array_equal(drawn.frequency_offsets, again.frequency_offsets)


def test_each_sample_equals_the_perturbed_protocol(preset: ga.Device) -> None:
    protocol = short_drive_protocol(preset)
    times = np.linspace(0, float(protocol.duration), 7)
    average = quasi_static_average(
        preset,
        protocol,
        times,
        samples=3,
        seed=3,
        frequency_noise=np.array([0.2, 0.4]) * MHZ,
        amplitude_noise=0.1,
        phase_noise=0.2,
        keep_samples=True,
        rtol=1e-9,
        atol=1e-11,
    )
    for s in range(3):
        single = run_protocol(
            preset,
            protocol.perturbed(
                frequency_offset=average.frequency_offsets[s],
                amplitude_scale=average.amplitude_scales[s],
                phase_offset=average.phase_offsets[s],
            ),
            times,
            rtol=1e-9,
            atol=1e-11,
        )
        np.testing.assert_allclose(average.result.rho[s], single.rho, atol=1e-8)
    np.testing.assert_allclose(average.rho_mean, average.result.rho.mean(axis=0), atol=1e-15)


def test_amplitude_and_phase_errors_act_like_power_and_phase(preset: ga.Device) -> None:
    op = ga.entangling_operating_point(preset, 2 * MHZ)
    scale, phase = 1.3, 0.7
    times = np.linspace(0, 0.2 * US, 5)
    perturbed = Protocol([Segment(0.2 * US, op.frequencies, op.drive(-127.0))]).perturbed(
        amplitude_scale=scale, phase_offset=phase
    )
    explicit = Protocol(
        [
            Segment(
                0.2 * US,
                op.frequencies,
                ga.Drive(
                    frequency=op.drive_frequency,
                    power_dbm=-127.0 + 20 * np.log10(scale),
                    phase=phase,
                ),
            )
        ]
    )
    a = run_protocol(preset, perturbed, times)
    b = run_protocol(preset, explicit, times)
    np.testing.assert_allclose(a.rho, b.rho, atol=1e-10)


def test_zero_noise_has_no_spread(preset: ga.Device) -> None:
    protocol = short_drive_protocol(preset)
    times = np.linspace(0, float(protocol.duration), 5)
    average = quasi_static_average(preset, protocol, times, samples=3, seed=1)
    plain = run_protocol(preset, protocol, times)
    for name in ("bell_fidelity", "bell_fidelity_optimized", "concurrence"):
        np.testing.assert_allclose(average.averaged_state[name], getattr(plain, name), atol=1e-12)
        np.testing.assert_allclose(average.per_shot_mean[name], getattr(plain, name), atol=1e-12)
        assert np.max(average.standard_error[name]) < 1e-14  # identical shots
    np.testing.assert_allclose(average.per_shot_std["concurrence"], 0.0, atol=1e-12)


def test_frequency_offsets_follow_the_requested_distribution() -> None:
    device = ga.presets.load("sequential_pair")
    protocol = Protocol([Segment(1e-9, np.full(2, 5.0 * GHZ))])
    average = quasi_static_average(
        device,
        protocol,
        np.array([0.0]),
        samples=4000,
        seed=11,
        frequency_noise=np.array([1.0, 2.0]) * MHZ,
        frequency_correlation=0.5,
    )
    offsets = average.frequency_offsets / MHZ
    np.testing.assert_allclose(offsets.std(axis=0), [1.0, 2.0], rtol=0.05)
    assert abs(np.corrcoef(offsets.T)[0, 1] - 0.5) < 0.05
    common = quasi_static_average(
        device,
        protocol,
        np.array([0.0]),
        samples=5,
        seed=2,
        frequency_noise=MHZ,
        frequency_correlation=1.0,
    )
    np.testing.assert_allclose(
        common.frequency_offsets[:, 0], common.frequency_offsets[:, 1], atol=1e-6
    )


def test_dephasing_by_quasi_static_detuning_at_the_df_point(preset: ga.Device) -> None:
    """Ψ⁻ stored at the DF point: the averaged coherence is the sample mean of cos(Δδ t)."""
    df = np.full(2, 5.0 * GHZ)
    protocol = Protocol([Segment(2 * US, df, label="store")])
    times = np.linspace(0, 2 * US, 9)
    rho0 = psi_minus(preset.dims)
    average = quasi_static_average(
        preset,
        protocol,
        times,
        initial_state=rho0,
        samples=40,
        seed=5,
        frequency_noise=0.2 * MHZ,
    )
    gamma1 = np.array([np.asarray(a.intrinsic_decay_rate) for a in preset.atoms])
    gamma2 = gamma1 / 2 + np.array([np.asarray(a.dephasing_rate) for a in preset.atoms])
    # The offsets move the atoms along their Lamb-shift curves too: use dressed frequencies.
    # They also reopen the waveguide decay, ∝ (Δx·δω/v)² ~ 1e-5 over 2 µs at 0.2 MHz rms.
    dressed = df + average.frequency_offsets
    dressed = dressed + preset.couplings(frequencies=dressed).lamb_shift
    split = dressed[:, 0] - dressed[:, 1]
    populations = 0.25 * (np.exp(-gamma1[0] * times) + np.exp(-gamma1[1] * times))
    envelope = 0.5 * np.exp(-(gamma2[0] + gamma2[1]) * times)
    coherence = np.exp(1j * split[:, None] * times[None, :]).mean(axis=0)
    np.testing.assert_allclose(
        average.averaged_state["bell_fidelity"], populations + envelope * coherence.real, atol=2e-5
    )
    np.testing.assert_allclose(
        average.averaged_state["bell_fidelity_optimized"],
        populations + envelope * np.abs(coherence),
        atol=2e-5,
    )
    # Each shot's own optimised fidelity does not see the detuning at all (an upper bound).
    np.testing.assert_allclose(
        average.per_shot_mean["bell_fidelity_optimized"], populations + envelope, atol=2e-5
    )
    assert average.per_shot_std["bell_fidelity_optimized"].max() < 5e-5


def uncoupled_pair(levels: int) -> ga.Device:
    """Two atoms with no waveguide coupling at different frequencies (no Lamb shifts)."""
    atoms = [
        ga.Atom("A", frequency=4.9 * GHZ, points=[0.0], point_rates=0.0, levels=levels,
                anharmonicity=-200 * MHZ, t1=30 * US, t_phi=60 * US),
        ga.Atom("B", frequency=5.1 * GHZ, points=[0.05], point_rates=0.0, levels=levels,
                anharmonicity=-200 * MHZ, t1=25 * US, t_phi=50 * US),
    ]  # fmt: skip
    return ga.Device(waveguide=ga.Waveguide(phase_velocity=1.2e8), atoms=atoms)


@pytest.mark.parametrize("levels", [2, 3])
@pytest.mark.parametrize("frame", ["drive", "atoms", 5.3 * GHZ])
def test_stored_singlet_under_correlated_noise_matches_the_closed_form(levels, frame) -> None:
    """Ψ⁻ stored in two uncoupled atoms: F_opt(ρ̄) = (P_eg + P_ge)/2 + |⟨e^{−iΔδt}⟩|·½e^{−Γt}.

    The shot average keeps only |mean_s e^{−i(δ_A,s − δ_B,s)t}| of the singlet coherence, in
    every frame (the per-shot optimum would undo each shot's phase and see none of it).
    """
    device = uncoupled_pair(levels)
    protocol = Protocol([Segment(5 * US, device.frequencies, label="store")])
    times = np.array([0.0, 1 * US, 2 * US, 4 * US])
    average = quasi_static_average(
        device, protocol, times, samples=300, seed=11, frequency_noise=0.2 * MHZ,
        frequency_correlation=0.3, initial_state=psi_minus(device.dims), frame=frame,
    )  # fmt: skip
    t1 = np.array([30.0, 25.0]) * US
    t2 = 1 / (1 / (2 * t1) + 1 / (np.array([60.0, 50.0]) * US))
    delta = average.frequency_offsets[:, 0] - average.frequency_offsets[:, 1]
    coherence = np.abs(np.exp(-1j * delta[:, None] * times[None, :]).mean(axis=0))
    incoherent = 0.25 * (np.exp(-times / t1[0]) + np.exp(-times / t1[1]))
    expected = incoherent + coherence * 0.5 * np.exp(-times * np.sum(1 / t2))
    np.testing.assert_allclose(
        average.averaged_state["bell_fidelity_optimized"], expected, rtol=0, atol=1e-9
    )
    assert expected[-1] == pytest.approx(0.4710, abs=1e-4)  # the bug report's figure
    per_shot = incoherent + 0.5 * np.exp(-times * np.sum(1 / t2))
    np.testing.assert_allclose(
        average.per_shot_mean["bell_fidelity_optimized"], per_shot, rtol=0, atol=1e-9
    )


def test_phase_optimised_noise_averages_do_not_depend_on_the_frame(preset: ga.Device) -> None:
    """Driven protocol with every kind of noise: frame changes only deterministic phases."""
    protocol = short_drive_protocol(preset)
    times = np.linspace(0, float(protocol.duration), 6)
    kwargs = {
        "samples": 8, "seed": 4, "frequency_noise": np.array([0.4, 0.6]) * MHZ,
        "frequency_correlation": -0.2, "amplitude_noise": 0.05, "phase_noise": 0.1,
        "rtol": 1e-9, "atol": 1e-11,
    }  # fmt: skip
    runs = {
        frame: quasi_static_average(preset, protocol, times, frame=frame, **kwargs)
        for frame in ("drive", "atoms", 4.7 * GHZ)
    }
    reference = runs["drive"]
    for frame, run in runs.items():
        assert run.frame == {"drive": "drive", "atoms": "atoms"}.get(frame, "fixed")
        for name in ("bell_fidelity_optimized", "concurrence", "leakage", "population:gg"):
            np.testing.assert_allclose(
                run.averaged_state[name], reference.averaged_state[name], atol=1e-8
            )
            np.testing.assert_allclose(
                run.standard_error[name], reference.standard_error[name], atol=1e-8
            )
    # The noise costs fidelity that per-shot optimisation would hide.
    gap = (
        reference.per_shot_mean["bell_fidelity_optimized"]
        - reference.averaged_state["bell_fidelity_optimized"]
    )
    assert gap.min() > -1e-12


def test_nominal_atoms_frame_equals_run_protocol_without_noise(preset: ga.Device) -> None:
    protocol = short_drive_protocol(preset)
    times = np.linspace(0, float(protocol.duration), 5)
    average = quasi_static_average(
        preset, protocol, times, samples=2, seed=1, frame="atoms", keep_samples=True
    )
    plain = run_protocol(preset, protocol, times, frame="atoms")
    np.testing.assert_allclose(average.rho_mean, plain.rho, atol=1e-10)
    np.testing.assert_allclose(average.result.rho[1], plain.rho, atol=1e-10)
    np.testing.assert_allclose(average.result.local_phases[0], plain.local_phases, atol=1e-9)
    assert average.result.batch_shape == (2,) and average.result.frame == "atoms"
    np.testing.assert_allclose(
        average.averaged_state["bell_fidelity"], plain.bell_fidelity, atol=1e-10
    )


def test_jackknife_errors_are_the_standard_error_for_linear_metrics(preset: ga.Device) -> None:
    protocol = short_drive_protocol(preset)
    times = np.linspace(0, float(protocol.duration), 4)
    average = quasi_static_average(
        preset, protocol, times, samples=12, seed=2, frequency_noise=0.5 * MHZ,
        phase_noise=0.2, rtol=1e-7, atol=1e-9,
    )  # fmt: skip
    for name in ("bell_fidelity", "leakage", "population:gg", "population:psi-"):
        np.testing.assert_allclose(
            average.averaged_state[name], average.per_shot_mean[name], atol=1e-12
        )
        np.testing.assert_allclose(
            average.standard_error[name], average.per_shot_std[name] / np.sqrt(12), atol=1e-12
        )


def test_shot_average_validates_its_input(preset: ga.Device) -> None:
    protocol = short_drive_protocol(preset)
    rho = psi_minus(preset.dims)
    with pytest.raises(ValueError, match="at least 2 samples"):
        ga.protocols.shot_average(rho[None], preset.dims, protocol)
    with pytest.raises(ValueError, match="shape"):
        ga.protocols.shot_average(np.ones(3), preset.dims, protocol)
    with pytest.raises(ValueError, match="frame"):
        quasi_static_average(preset, protocol, np.array([0.0]), samples=2, frame="lab")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"samples": 1}, "samples"),
        ({"samples": 2.5}, "samples"),
        ({"seed": -1}, "seed"),
        ({"frequency_noise": -1.0}, "frequency_noise"),
        ({"frequency_noise": np.ones(3)}, "one value per atom"),
        ({"frequency_correlation": 1.5}, "frequency_correlation"),
        ({"amplitude_noise": -0.1}, "amplitude_noise"),
        ({"phase_noise": np.nan}, "phase_noise"),
    ],
)
def test_bad_noise_parameters_fail_early(kwargs: dict, match: str) -> None:
    device = ga.presets.load("sequential_pair")
    protocol = Protocol([Segment(1e-9, np.full(2, 5.0 * GHZ))])
    options = {"samples": 2, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        quasi_static_average(device, protocol, np.array([0.0]), **options)


def test_wrong_types_are_rejected() -> None:
    device = ga.presets.load("sequential_pair")
    protocol = Protocol([Segment(1e-9, np.full(2, 5.0 * GHZ))])
    with pytest.raises(TypeError, match="device"):
        quasi_static_average("chip", protocol, np.array([0.0]))
    with pytest.raises(TypeError, match="protocol"):
        quasi_static_average(device, [protocol], np.array([0.0]))
