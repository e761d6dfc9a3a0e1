"""Exact single-excitation dynamics with delays: closed forms, Markov limit, invariants."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

import giantatoms as ga
from giantatoms.solvers import delay
from giantatoms.solvers.delay import _dde

from tests.solvers.delay._devices import (
    GAMMA,
    V,
    braided_pair,
    two_point_atom,
    two_point_series,
)


@pytest.mark.parametrize("phase", [0.0, 0.7, np.pi / 2, np.pi, 2.5])
@pytest.mark.parametrize("gamma_tau", [0.05, 0.6, 2.0])
def test_two_point_atom_matches_the_exact_series(gamma_tau, phase):
    dev = two_point_atom(gamma_tau, phase)
    tau = gamma_tau / GAMMA
    t = np.linspace(0.0, max(8 / GAMMA, 6 * tau), 61)
    result = delay.single_excitation(dev, "A", t, step=min(tau / 40, 0.004 / GAMMA))
    exact = two_point_series(t, gamma_tau, phase)
    error = np.max(np.abs(result.amplitudes[:, 0] - exact))
    assert error < 2e-5
    # The reported estimate is of the right size (not a bound: within a factor of a few).
    assert result.error < 5 * error + 1e-9 and error < 5 * result.error + 1e-9


def test_delays_that_are_not_multiples_of_the_step():
    gamma_tau, phase = 0.8, 1.1
    dev = two_point_atom(gamma_tau, phase)
    tau = gamma_tau / GAMMA
    t = np.linspace(0.0, 6 * tau, 37)
    exact = two_point_series(t, gamma_tau, phase)
    errors = []
    for ratio in (13.7, 27.4, 54.8):
        r = delay.single_excitation(dev, "A", t, step=tau / ratio)
        errors.append(np.max(np.abs(r.amplitudes[:, 0] - exact)))
    assert errors[-1] < 1e-5
    assert errors[0] / errors[-1] > 8  # at least second order


def test_convergence_is_second_order_on_aligned_grids():
    dev = two_point_atom(0.5, np.pi)
    tau = 0.5 / GAMMA
    t = np.linspace(0.0, 10 * tau, 21)
    exact = two_point_series(t, 0.5, np.pi)
    e = [
        np.max(np.abs(delay.single_excitation(dev, 0, t, step=tau / k).amplitudes[:, 0] - exact))
        for k in (8, 16, 32)
    ]
    assert 3.5 < e[0] / e[1] < 4.5 and 3.5 < e[1] / e[2] < 4.5


def test_markov_limit_is_the_exponential_of_the_markovian_generator():
    """All delays → 0 at fixed phases: the DDE tends to expm(−(iΔ + γ_nr/2 + G/2)t)."""
    device = ga.presets.load("sequential_pair")
    errors = []
    for scale in (1.0, 0.1, 0.01):
        dev = ga.Device(
            device.waveguide,
            [a.replace(point_rates=np.asarray(a.point_rates) * scale) for a in device.atoms],
        )
        kernel = delay.delay_kernel(dev)
        t = np.linspace(0.0, 3 / (GAMMA * scale), 13)
        r = delay.single_excitation(dev, "A", t)
        exact = np.array([sla.expm(kernel.markov_generator * x) @ [1.0, 0.0] for x in t])
        errors.append(np.max(np.abs(r.amplitudes - exact)))
        assert r.error < 1e-5
    # The Markov error is first order in Γτ: a factor ~10 per decade of rate.
    assert errors[2] < 3e-4
    assert 6 < errors[0] / errors[1] < 14 and 6 < errors[1] / errors[2] < 17


def test_trapping_at_the_decoherence_free_point():
    for gamma_tau in (0.3, 1.0):
        dev = two_point_atom(gamma_tau, np.pi)
        t = np.linspace(0.0, 60 / GAMMA, 7)
        r = delay.single_excitation(dev, "A", t)
        assert r.populations[-1, 0] == pytest.approx(1 / (1 + gamma_tau) ** 2, abs=3e-4)


def test_intrinsic_loss_matches_the_series_with_local_damping():
    """ċ = −(γ + γ_nr/2)c − γe^{iφ}c(t − τ): loss is not a factor e^{−γ_nr t/2} on the
    lossless solution (the delayed term carries e^{γ_nr τ/2}), so test the exact series."""
    t1 = 0.2e-6
    gamma_tau, phase = 0.4, np.pi
    dev = two_point_atom(gamma_tau, phase, t1=t1)
    t = np.linspace(0, 1e-6, 11)
    r = delay.single_excitation(dev, "A", t, step=2e-10)
    exact = two_point_series(t, gamma_tau, phase, loss=1 / t1)
    np.testing.assert_allclose(r.amplitudes[:, 0], exact, atol=2e-6)
    assert delay.trapped_state(dev, "A").population == 0.0


def test_cascaded_atoms_translate_in_time():
    """Chiral (cascaded) A → B: B sees A's emission τ later; nothing else depends on τ."""
    w = 2 * np.pi * 4.6e9

    def pair(distance):
        atoms = [
            ga.Atom("A", w, [0.0], GAMMA, right_fraction=1.0),
            ga.Atom("B", w, [distance], GAMMA, right_fraction=1.0),
        ]
        return ga.Device(ga.Waveguide(V), atoms)

    t = np.linspace(0.0, 3e-6, 301)
    near, far = 0.5, 20.5
    shift = (far - near) / V
    a = delay.single_excitation(pair(near), "A", t, step=near / V / 4)
    b = delay.single_excitation(pair(far), "A", t, step=near / V / 4)
    np.testing.assert_allclose(a.populations[:, 0], b.populations[:, 0], atol=1e-12)
    # |c_B(t)| with the long link equals |c_B(t − Δτ)| with the short one.
    shifted = delay.single_excitation(
        pair(near), "A", np.clip(t - shift, 0, None), step=near / V / 4
    )
    mask = t >= shift
    np.testing.assert_allclose(b.populations[mask, 1], shifted.populations[mask, 1], atol=2e-6)
    assert np.all(b.populations[~mask, 1] < 1e-20)
    trapped = delay.trapped_state(pair(far), "A")
    assert trapped.population == pytest.approx(0.0, abs=1e-20)


def test_batches_equal_single_runs_and_both_marching_paths_agree(monkeypatch):
    dev = braided_pair()
    rng = np.random.default_rng(3)
    freqs = 2 * np.pi * 4.6e9 + 2 * np.pi * 3e6 * rng.normal(size=(40, 2))
    t = np.linspace(0.0, 1e-6, 9)
    step = 0.15 / V / 3
    batch = delay.single_excitation(dev, "A", t, freqs, step=step, error_estimate=False)
    assert batch.amplitudes.shape == (40, 9, 2)
    for k in (0, 17, 39):
        one = delay.single_excitation(dev, "A", t, freqs[k], step=step, error_estimate=False)
        np.testing.assert_allclose(batch.amplitudes[k], one.amplitudes, atol=1e-13)
    monkeypatch.setattr(_dde, "_GATHER_ELEMENTS", 1)
    gathered = delay.single_excitation(dev, "A", t, freqs, step=step, error_estimate=False)
    np.testing.assert_allclose(gathered.amplitudes, batch.amplitudes, atol=1e-13)


def test_batched_geometry_with_different_delays_per_point():
    spacings = np.array([0.3, 0.45])
    w = 2 * np.pi * 4.6e9
    atom = ga.Atom("A", w, np.stack([0 * spacings, spacings], axis=-1), GAMMA)
    dev = ga.Device(ga.Waveguide(V), [atom])
    t = np.linspace(0.0, 1e-6, 5)
    r = delay.single_excitation(dev, "A", t, step=0.3 / V / 8)
    for k, d in enumerate(spacings):
        one = ga.Device(ga.Waveguide(V), [ga.Atom("A", w, [0.0, d], GAMMA)])
        single = delay.single_excitation(one, "A", t, step=0.3 / V / 8)
        np.testing.assert_allclose(r.amplitudes[k], single.amplitudes, atol=1e-13)


def test_lossless_evolution_never_gains_population():
    dev = braided_pair()
    t = np.linspace(0.0, 2e-6, 201)
    r = delay.single_excitation(dev, [0.6, 0.8j], t)
    assert r.excitation[0] == pytest.approx(1.0)
    assert np.all(np.diff(r.excitation) < 1e-9)


def test_results_carry_their_diagnostics():
    r = delay.single_excitation(two_point_atom(0.5, 1.0), "A", [0.0, 1e-7, 2e-7])
    assert r.diagnostics["steps"] >= 2 and r.diagnostics["order"] == 2
    assert r.step > 0 and r.method.startswith("method of steps")
    assert r.atom_names == ("A",) and r.error.shape == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"step": 0.0}, "step must be a positive"),
        ({"step": -1e-9}, "step must be a positive"),
        ({"step": 1e-6}, "half the shortest delay"),
        ({"times": [-1e-9, 0.0]}, "times must be"),
        ({"times": [2e-7, 1e-7]}, "non-decreasing"),
        ({"initial": "Z"}, "no atom named"),
        ({"initial": [1.0, 0.0]}, "shape"),
        ({"times": [0.0, 1.0]}, "steps"),
    ],
)
def test_bad_input_is_refused_before_any_work(kwargs, message):
    args = {"initial": "A", "times": [0.0, 1e-7]} | kwargs
    initial, times = args.pop("initial"), args.pop("times")
    with pytest.raises(ValueError, match=message):
        delay.single_excitation(two_point_atom(0.5, 1.0), initial, times, **args)


def test_a_device_without_waveguide_coupling_is_refused():
    dev = ga.Device(ga.Waveguide(V), [ga.Atom("A", 2 * np.pi * 5e9, [0.0, 0.3], 0.0)])
    with pytest.raises(ValueError, match="no coupling to the waveguide"):
        delay.single_excitation(dev, "A", [0.0, 1e-7])
    with pytest.raises(ValueError, match="no coupling to the waveguide"):
        delay.poles(dev)


def test_atoms_sharing_a_point_couple_without_delay():
    """A point shared by two atoms gives an undelayed exchange (A is not diagonal); in the
    Markov limit the DDE is again the exponential of the Markovian generator."""
    w = 2 * np.pi * 4.6e9
    rate = GAMMA / 100
    atoms = [ga.Atom("A", w, [0.0, 0.3], rate), ga.Atom("B", w, [0.3, 0.6], rate)]
    dev = ga.Device(ga.Waveguide(V), atoms)
    kernel = delay.delay_kernel(dev)
    assert abs(kernel.local_generator[0, 1]) > 0
    t = np.linspace(0.0, 3 / rate, 7)
    r = delay.single_excitation(dev, "A", t)
    exact = np.array([sla.expm(kernel.markov_generator * x) @ [1.0, 0.0] for x in t])
    gamma_tau = rate * 0.6 / V
    assert np.max(np.abs(r.amplitudes - exact)) < 5 * gamma_tau
    assert r.error < 1e-6
