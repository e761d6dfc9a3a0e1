"""Fits of the full device model: fit_device recovers giant-atom and two-atom parameters in
every parametrisation, and flags degenerate ones."""

from __future__ import annotations

import numpy as np
import pytest

import giantatoms as ga
from giantatoms.fitting import Background, SpectroscopyData, fit_device
from giantatoms.units import GHz, MHz, ns

from tests.fitting.conftest import (
    BG_GIANT,
    GIANT,
    GIANT_PARAMETERS,
    GIANT_START,
    GIANT_TRUE,
    S21_LINE,
    SIGMA,
    SMALL,
    W_GIANT,
    W_SMALL,
    assert_within,
    measured,
)


@pytest.mark.parametrize("seed", range(5))
def test_device_fit_recovers_giant_atom(seed):
    rng = np.random.default_rng(200 + seed)
    traces = measured(GIANT, W_GIANT, {"s21": BG_GIANT["s21"]}, rng)
    data = SpectroscopyData(W_GIANT, **traces, convention="engineering", sigma=SIGMA)
    fit = fit_device(data, GIANT_START, GIANT_PARAMETERS)
    assert fit.success and not fit.warnings
    assert_within(fit, {k: v for k, v in GIANT_TRUE.items() if not k.startswith("s11")})
    atom = fit.device.atom("A")
    assert float(atom.frequency) == pytest.approx(fit.parameters["atoms.A.frequency"])
    assert float(atom.intrinsic_decay_rate) == pytest.approx(
        fit.parameters["atoms.A.intrinsic_decay_rate"]
    )
    np.testing.assert_allclose(atom.rates_per_point, fit.parameters["atoms.A.point_rates"])
    assert 0.8 < fit.reduced_chi2 < 1.2


@pytest.mark.parametrize("seed", range(5))
def test_device_fit_recovers_two_atom_preset(seed):
    # The paper's chip, the atoms detuned ±3 MHz about the entangling point so that both
    # collective modes show; both frequencies and one rate shared by all four points float.
    pair = ga.presets.load("sequential_pair")
    pair = pair.replace_atom("A", frequency=4.597 * GHz).replace_atom("B", frequency=4.603 * GHz)
    w = np.linspace(4.575, 4.625, 301) * GHz
    background = Background(0.9, 0.3, 41 * ns, reference_frequency=4.6 * GHz)
    traces = measured(pair, w, {"s21": background}, np.random.default_rng(300 + seed))
    data = SpectroscopyData(w, **traces, convention="engineering", sigma=SIGMA)
    start = pair.replace_atom("A", frequency=4.5975 * GHz, point_rates=2.2 * MHz).replace_atom(
        "B", frequency=4.6025 * GHz, point_rates=2.2 * MHz
    )
    fit = fit_device(data, start, ["atoms.A.frequency", "atoms.B.frequency", "atoms.*.point_rates"])
    assert fit.success
    assert_within(
        fit,
        {
            "atoms.A.frequency": 4.597 * GHz,
            "atoms.B.frequency": 4.603 * GHz,
            "atoms.*.point_rates": 2 * MHz,
            "s21.delay": 41 * ns,
        },
    )
    for name in ("A", "B"):
        np.testing.assert_allclose(
            fit.device.atom(name).rates_per_point, fit.parameters["atoms.*.point_rates"]
        )


def test_device_fit_of_spacing():
    rng = np.random.default_rng(17)
    traces = measured(GIANT, W_GIANT, {"s21": BG_GIANT["s21"]}, rng)
    data = SpectroscopyData(W_GIANT, **traces, convention="engineering", sigma=SIGMA)
    start = GIANT.replace_atom("A", points=[0.0005, 0.0195])
    fit = fit_device(data, start, ["atoms.A.frequency", "atoms.A.spacing"])
    assert_within(fit, {"atoms.A.frequency": 5.3 * GHz, "atoms.A.spacing": 0.02})
    spacing = np.ptp(fit.device.atom("A").points)
    np.testing.assert_allclose(spacing, fit.parameters["atoms.A.spacing"])


GIANT_T2 = GIANT.replace_atom("A", t2=1 / (0.4 * MHz))  # γ_φ = 1/T2 − γ_nr/2 = 2π·0.2 MHz
PHI = 5.3 * GHz * 0.02 / 1.2e8


@pytest.mark.parametrize(
    ("truth_device", "start", "parameters", "truth"),
    [
        (
            GIANT,
            GIANT.replace_atom("A", frequency=5.3005 * GHz, t1=1 / (0.6 * MHz)),
            ["atoms.A.frequency", "atoms.A.t1"],
            {"atoms.A.t1": 1 / (0.4 * MHz)},
        ),
        (
            GIANT_T2,
            GIANT_T2.replace_atom("A", t2=1 / (0.5 * MHz)),
            ["atoms.A.frequency", "atoms.A.dephasing_rate"],
            {"atoms.A.dephasing_rate": 0.2 * MHz},
        ),
        (
            GIANT_T2,
            GIANT_T2.replace_atom("A", t2=1 / (0.5 * MHz)),
            ["atoms.A.frequency", "atoms.A.t_phi"],
            {"atoms.A.t_phi": 1 / (0.2 * MHz)},
        ),
        (
            GIANT,
            GIANT.replace_atom("A", frequency=5.3005 * GHz, points=[0.0, 0.0197]),
            ["atoms.A.frequency", "atoms.A.phase"],
            {"atoms.A.frequency": 5.3 * GHz, "atoms.A.phase": PHI},
        ),
        (
            GIANT,
            GIANT.replace_atom("A", points=[0.0, 0.0203]),
            ["atoms.A.frequency", "atoms.A.points[1]"],
            {"atoms.A.points[1]": 0.02},
        ),
        (
            GIANT,
            GIANT.replace_atom("A", point_rates=[1.5 * MHz, 1.3 * MHz]),
            ["atoms.A.frequency", "atoms.A.point_rates[1]"],
            {"atoms.A.point_rates[1]": 1.5 * MHz},
        ),
        (
            GIANT,
            GIANT.replace_atom("A", right_fraction=0.45),
            ["atoms.A.frequency", "atoms.A.right_fraction"],
            {"atoms.A.right_fraction": 0.5},
        ),
        (
            GIANT,
            ga.Device(ga.Waveguide(phase_velocity=1.203e8), GIANT.atoms),
            ["atoms.A.frequency", "waveguide.phase_velocity"],
            {"waveguide.phase_velocity": 1.2e8},
        ),
    ],
    ids=["t1", "dephasing_rate", "t_phi", "phase", "points", "one_point_rate", "chirality", "v"],
)
def test_device_parametrisations(truth_device, start, parameters, truth):
    rng = np.random.default_rng(23)
    traces = measured(truth_device, W_GIANT, {"s21": BG_GIANT["s21"]}, rng)
    data = SpectroscopyData(W_GIANT, **traces, convention="engineering", sigma=SIGMA)
    fit = fit_device(data, start, parameters)
    assert fit.success and not fit.warnings
    assert_within(fit, {"atoms.A.frequency": 5.3 * GHz, **truth})
    # The fitted device reproduces the fitted model.
    model = np.conj(ga.scattering(fit.device, W_GIANT).s21) * fit.backgrounds["s21"](W_GIANT)
    np.testing.assert_allclose(model, fit.model(), atol=1e-12)


def test_degenerate_parameters_are_flagged():
    # One line gives a position and a width: frequency, rate and phase together are degenerate.
    rng = np.random.default_rng(4)
    traces = measured(GIANT, W_GIANT, {"s21": BG_GIANT["s21"]}, rng)
    data = SpectroscopyData(W_GIANT, **traces, convention="engineering", sigma=SIGMA)
    fit = fit_device(data, GIANT, ["atoms.A.frequency", "atoms.A.point_rates", "atoms.A.phase"])
    assert any("degenerate" in w or "constrain" in w for w in fit.warnings)
    assert "warning" in fit.summary()


def test_device_fit_needs_more_points_than_parameters():
    data = SpectroscopyData(W_SMALL[:2], S21_LINE[:2], convention="engineering")
    with pytest.raises(ValueError, match="not enough data: 4 real residuals"):
        fit_device(data, SMALL, ["atoms.Q.frequency", "atoms.Q.point_rates"])
