"""Delay kernel and the Markov diagnostics: consistency with the couplings, the warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import giantatoms as ga
from giantatoms.model.couplings import EmitterGeometry, coupling_matrix, reference_position
from giantatoms.model.delays import (
    NonMarkovianWarning,
    delay_kernel,
    diagnostics,
    warn_if_non_markovian,
)

V = 1.2e8
GAMMA = 2 * np.pi * 2e6


def _random_device(rng: np.random.Generator) -> ga.Device:
    atoms = []
    for name in "ABC":
        p = rng.integers(1, 4)
        atoms.append(
            ga.Atom(
                name,
                2 * np.pi * 4.6e9,
                np.sort(rng.uniform(0.0, 0.4, p)),
                GAMMA * rng.uniform(0.2, 1.0, p),
                right_fraction=rng.uniform(0.0, 1.0, p),
            )
        )
    return ga.Device(ga.Waveguide(V), atoms)


@pytest.mark.parametrize("seed", range(5))
def test_the_markov_limit_of_the_kernel_is_the_coupling_matrix(seed):
    dev = _random_device(np.random.default_rng(seed))
    kernel = delay_kernel(dev)
    geos = [EmitterGeometry.of(a) for a in dev.atoms]
    g = coupling_matrix(geos, dev.frequencies, V, reference_position(geos))
    np.testing.assert_allclose(kernel.markov_matrix, g, rtol=1e-12, atol=1e-6)
    # The Lamb shifts and exchange of the master equation come from the same G.
    info = ga.master_equation(dev, check_delays=False).info
    lamb = 0.5 * np.imag(np.diagonal(kernel.markov_matrix))
    np.testing.assert_allclose(info["lamb_shift"], lamb, atol=1e-6)


def test_delay_matrix_of_a_two_point_atom():
    tau = 0.3 / V
    w = 2 * np.pi * 5e9
    dev = ga.Device(ga.Waveguide(V), [ga.Atom("A", w, [0.0, 0.3], GAMMA)])
    d = diagnostics(dev)
    # T = Σ_{n,m} √(γγ′) τ e^{iωτ}: the two cross terms.
    assert d.delay_matrix[0, 0] == pytest.approx(2 * GAMMA * tau * np.exp(1j * w * tau))
    assert d.gamma_tau == pytest.approx(GAMMA * tau)
    assert d.Gamma_tau == pytest.approx(2 * GAMMA * tau)
    assert d.max_delay == pytest.approx(tau)
    assert d.markov_error == pytest.approx(GAMMA * tau)


def test_verdicts_of_the_presets():
    assert bool(diagnostics(ga.presets.load("braided_pair")).markovian)
    chip = diagnostics(ga.presets.load("sequential_pair"))
    assert not bool(chip.markovian)
    assert "Weakly non-Markovian" in chip.verdict() and "1.57 ns" in chip.verdict()
    far = ga.presets.load("sequential_pair")
    far = ga.Device(far.waveguide, [a.replace(points=np.asarray(a.points) * 40) for a in far.atoms])
    assert diagnostics(far).verdict().startswith("Non-Markovian")
    assert "Markovian:" in str(diagnostics(ga.presets.load("small_atoms_one_wavelength")))


def test_first_order_poles_improve_on_the_markovian_ones():
    from giantatoms.solvers.delay import poles

    dev = ga.presets.load("sequential_pair")
    d, exact = diagnostics(dev), poles(dev).values
    assert np.abs(d.corrected_poles - exact).max() < 0.1 * np.abs(d.markov_poles - exact).max()


def test_batched_diagnostics():
    dev = ga.presets.load("sequential_pair")
    scale = np.array([0.1, 1.0, 10.0])[:, None]
    atoms = [a.replace(points=np.asarray(a.points) * scale) for a in dev.atoms]
    d = diagnostics(ga.Device(dev.waveguide, atoms))
    assert d.markov_error.shape == (3,) and d.delay_matrix.shape == (3, 2, 2)
    assert list(d.markovian) == [True, False, False]
    assert "#2" in d.verdict()


def test_the_markovian_entry_points_warn():
    chip = ga.presets.load("sequential_pair")
    with pytest.warns(NonMarkovianWarning, match="2.3 %"):
        ga.master_equation(chip)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ga.master_equation(chip, check_delays=False)
        ga.master_equation(ga.presets.load("braided_pair"))
    op = ga.entangling_operating_point(chip, 2 * np.pi * 1.4e6)
    protocol = ga.Protocol([ga.Segment(20e-9, drive=op.drive(-130.0), frequencies=op.frequencies)])
    with pytest.warns(NonMarkovianWarning):
        ga.run_protocol(chip, protocol, [0.0, 20e-9])
    with pytest.warns(NonMarkovianWarning):
        ga.sweep(
            chip,
            {"drive.power_dbm": [-130.0]},
            fixed={"drive.detuning": 2 * np.pi * 1.4e6},
            quantities=["gap"],
            progress=False,
        )
    assert warn_if_non_markovian("not a device") is None


def test_bad_tolerance_is_refused():
    with pytest.raises(ValueError, match="tolerance"):
        diagnostics(ga.presets.load("braided_pair"), tolerance=2.0)
