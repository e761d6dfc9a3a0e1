"""Moving frequencies (flux ramps) in the delayed single-excitation dynamics."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate

import giantatoms as ga
from giantatoms.solvers import delay

from tests.solvers.delay._devices import GAMMA, V, braided_pair

MHZ = 2 * np.pi * 1e6


def _ramp(start: np.ndarray, stop: np.ndarray, t0: float, t1: float):
    """Cosine ramp of the bare frequencies from ``start`` to ``stop`` between t0 and t1."""

    def frequencies(t: np.ndarray) -> np.ndarray:
        x = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
        shape = 0.5 * (1 - np.cos(np.pi * x))
        return start + (stop - start) * shape[:, None]

    return frequencies


def test_a_constant_path_is_the_constant_solver():
    dev = braided_pair()
    t = np.linspace(0.0, 1e-6, 11)
    f = dev.frequencies + np.array([3.0, -2.0]) * MHZ
    step = 0.15 / V / 4
    fixed = delay.single_excitation(
        dev, "A", t, f, frame_frequency=dev.frequencies.mean(), step=step
    )
    moving = delay.single_excitation(
        dev, "A", t, lambda tt: np.broadcast_to(f, (tt.size, 2)),
        frame_frequency=dev.frequencies.mean(), step=step,
    )  # fmt: skip
    np.testing.assert_allclose(moving.amplitudes, fixed.amplitudes, atol=1e-10)


def test_markov_limit_with_a_ramp_is_the_ode():
    """Rates → 0 at fixed phases: ċ = −iΔ(t)c − ½Gc with G at the frame frequency."""
    w0 = 2 * np.pi * 4.6e9
    d = 0.3
    rate = 0.005 * V / d  # γτ = 0.005
    atoms = [ga.Atom("A", w0, [0.0], rate), ga.Atom("B", w0, [d], rate)]
    dev = ga.Device(ga.Waveguide(V), atoms)
    shift = np.array([0.4, -0.2]) * rate
    t_end = 4 / rate
    path = _ramp(np.array([w0, w0]), w0 + shift, 0.2 * t_end, 0.6 * t_end)
    t = np.linspace(0.0, t_end, 9)
    r = delay.single_excitation(dev, [0.8, 0.6], t, path, frame_frequency=w0)
    g = delay.delay_kernel(dev, frame_frequency=w0).markov_matrix

    def rhs(time, c):
        z = c[:2] + 1j * c[2:]
        dz = -1j * (path(np.array([time]))[0] - w0) * z - 0.5 * g @ z
        return np.concatenate([dz.real, dz.imag])

    ode = scipy.integrate.solve_ivp(
        rhs, (0, t_end), [0.8, 0.6, 0, 0], t_eval=t, rtol=1e-11, atol=1e-12
    )
    exact = (ode.y[:2] + 1j * ode.y[2:]).T
    assert np.max(np.abs(r.amplitudes - exact)) < 0.02  # first order in γτ = 0.005
    assert r.error < 1e-5


def test_populations_do_not_depend_on_the_frame():
    dev = braided_pair()
    w0 = float(dev.frequencies.mean())
    path = _ramp(dev.frequencies, dev.frequencies + np.array([8.0, -5.0]) * MHZ, 1e-7, 4e-7)
    t = np.linspace(0.0, 8e-7, 9)
    step = 0.15 / V / 4
    a = delay.single_excitation(dev, [0.6, 0.8], t, path, frame_frequency=w0, step=step)
    b = delay.single_excitation(dev, [0.6, 0.8], t, path, frame_frequency=w0 + 7 * MHZ, step=step)
    np.testing.assert_allclose(a.populations, b.populations, atol=5e-6)
    assert a.error < 1e-5 and b.error < 1e-5


def test_ramping_a_giant_atom_to_its_df_point_traps_part_of_it():
    """From off the DF point to the DF point: what has not decayed by then is kept (×
    1/(1 + γτ)² at most), and a faster ramp keeps more."""
    tau = 0.5 / GAMMA
    w_df = (2 * np.pi * 600 + np.pi) / tau
    atom = ga.Atom("A", w_df, [0.0, V * tau], GAMMA)
    dev = ga.Device(ga.Waveguide(V), [atom])
    t = np.array([0.0, 30 / GAMMA])
    kept = []
    for ramp in (2 / GAMMA, 0.2 / GAMMA):
        path = _ramp(np.array([w_df - 0.5 / tau]), np.array([w_df]), 0.0, ramp)
        r = delay.single_excitation(dev, "A", t, path, frame_frequency=w_df)
        kept.append(float(r.populations[-1, 0]))
    assert kept[1] > kept[0] > 0
    assert kept[1] < 1 / (1 + 0.5) ** 2


def test_moving_atoms_that_share_a_point_are_refused():
    w = 2 * np.pi * 4.6e9
    atoms = [ga.Atom("A", w, [0.0, 0.3], GAMMA), ga.Atom("B", w, [0.3, 0.6], GAMMA)]
    dev = ga.Device(ga.Waveguide(V), atoms)
    with pytest.raises(ValueError, match="share a coupling point"):
        delay.single_excitation(dev, "A", [0.0, 1e-7], lambda t: np.full((t.size, 2), w))
    with pytest.raises(ValueError, match="frequencies\\(t\\) must return"):
        delay.single_excitation(braided_pair(), "A", [0.0, 1e-7], lambda t: np.full((3,), w))
