"""Fitting measured spectroscopy: synthetic network-analyser data with known parameters.

Synthetic data are made the way a network analyser would record them: the package's model
(physics convention) conjugated to the engineering convention, times a complex background with
a cable delay, plus complex Gaussian noise. The fits must recover the parameters within their
reported uncertainties, and those uncertainties must match the scatter over noise realisations.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import skrf

import giantatoms as ga
from giantatoms.fitting import (
    Background,
    SpectroscopyData,
    estimate_cable_delay,
    fit_device,
    fit_fano,
    fit_lorentzian,
    remove_background,
    remove_cable_delay,
)
from giantatoms.units import GHz, MHz, ns

SIGMA = 0.01

# One small atom: a Lorentzian with Γ = γ and Γ_nr = γ_nr + 2γ_φ.
SMALL = ga.Device(
    ga.Waveguide(),
    [ga.Atom("Q", 5 * GHz, points=[0.0], point_rates=2 * MHz, t1=2 / MHz, t_phi=1 / (0.3 * MHz))],
)
SMALL_TRUE = {"frequency": 5.0 * GHz, "radiative_rate": 2 * MHz, "nonradiative_rate": 1.1 * MHz}
W_SMALL = np.linspace(4.98, 5.02, 401) * GHz
BG_SMALL = Background(0.8, 1.0, 45 * ns, reference_frequency=5.0 * GHz)

# One giant atom with two points: φ = ω·Δx/v ≈ 5.55 rad at 5.3 GHz.
GIANT = ga.Device(
    ga.Waveguide(phase_velocity=1.2e8),
    [ga.Atom("A", 5.3 * GHz, points=[0.0, 0.02], point_rates=1.5 * MHz, t1=1 / (0.4 * MHz))],
)
W_GIANT = np.linspace(5.27, 5.33, 301) * GHz
BG_GIANT = {
    "s21": Background(0.7, -2.0, 38 * ns, reference_frequency=5.3 * GHz),
    "s11": Background(0.5, 0.5, 52 * ns, reference_frequency=5.3 * GHz),
}
GIANT_PARAMETERS = ["atoms.A.frequency", "atoms.A.point_rates", "atoms.A.intrinsic_decay_rate"]
GIANT_TRUE = {
    "atoms.A.frequency": 5.3 * GHz,
    "atoms.A.point_rates": 1.5 * MHz,
    "atoms.A.intrinsic_decay_rate": 0.4 * MHz,
    "s21.amplitude": 0.7,
    "s21.phase": -2.0,
    "s21.delay": 38 * ns,
    "s11.amplitude": 0.5,
    "s11.phase": 0.5,
    "s11.delay": 52 * ns,
}
# A start a fraction of a linewidth away, as from a quick look.
GIANT_START = GIANT.replace_atom(
    "A", frequency=5.3 * GHz + 0.5 * MHz, point_rates=1.8 * MHz, t1=1 / (0.6 * MHz)
)


def noise(rng, size, sigma=SIGMA):
    return sigma * (rng.standard_normal(size) + 1j * rng.standard_normal(size))


def measured(device, w, backgrounds, rng, sigma=SIGMA):
    """Network-analyser traces of ``device``: conj(model) × background + noise."""
    result = ga.scattering(device, w)
    return {
        t: np.conj(getattr(result, t)) * b(w) + noise(rng, w.size, sigma)
        for t, b in backgrounds.items()
    }


def small_atom_data(seed, *, sigma=SIGMA):
    traces = measured(SMALL, W_SMALL, {"s21": BG_SMALL}, np.random.default_rng(seed))
    return SpectroscopyData.from_arrays(
        W_SMALL / GHz, **traces, unit="GHz", convention="engineering", sigma=sigma
    )


def assert_within(fit, truth, n_sigma=4.0):
    for name, true in truth.items():
        value, error = fit.parameters[name], fit.errors[name]
        assert np.isfinite(error) and error > 0, name
        assert abs(value - true) < n_sigma * error, (name, value, true, error)


# --------------------------------------------------------------------------------------------
# Quick fits
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_lorentzian_recovers_small_atom(seed):
    fit = fit_lorentzian(small_atom_data(seed))
    assert fit.success and not fit.warnings
    truth = dict(SMALL_TRUE)
    truth.update({"s21.amplitude": 0.8, "s21.phase": 1.0, "s21.delay": 45 * ns})
    assert_within(fit, truth)
    assert 0.8 < fit.reduced_chi2 < 1.2
    assert fit.p_value > 1e-4
    assert fit.fixed == {"s21.slope": 0.0}


def test_lorentzian_of_giant_atom_sees_lamb_shift_and_interference():
    # PHYSICS.md §3.2: one two-point atom is a Lorentzian at ω + γ sin φ of width 2γ(1 + cos φ).
    data = SpectroscopyData.from_arrays(
        W_GIANT,
        **measured(GIANT, W_GIANT, {"s21": BG_GIANT["s21"]}, np.random.default_rng(11)),
        unit="rad/s",
        convention="engineering",
        sigma=SIGMA,
    )
    fit = fit_lorentzian(data)
    gamma, phi = 1.5 * MHz, 5.3 * GHz * 0.02 / 1.2e8
    assert_within(
        fit,
        {
            "frequency": 5.3 * GHz + gamma * math.sin(phi),
            "radiative_rate": 2 * gamma * (1 + math.cos(phi)),
            "nonradiative_rate": 0.4 * MHz,
        },
    )


@pytest.mark.parametrize("seed", range(3))
def test_fano_recovers_mismatch_angle(seed):
    rng = np.random.default_rng(100 + seed)
    w0, gamma, loss, theta = 5.0 * GHz, 2 * MHz, 0.8 * MHz, 0.4
    # Engineering convention, as in Khalil et al.: 1 − (Γ/2)(1 + i tan θ)/(Γ₂ + iΔ).
    line = 1 - 0.5 * gamma * (1 + 1j * math.tan(theta)) / (
        0.5 * (gamma + loss) + 1j * (W_SMALL - w0)
    )
    s21 = BG_SMALL(W_SMALL) * line + noise(rng, W_SMALL.size)
    data = SpectroscopyData(W_SMALL, s21, convention="engineering", sigma=SIGMA)
    fit = fit_fano(data)
    assert_within(
        fit,
        {
            "frequency": w0,
            "radiative_rate": gamma,
            "nonradiative_rate": loss,
            "mismatch_angle": theta,
            "s21.delay": 45 * ns,
        },
    )
    # The symmetric line cannot describe it.
    assert fit_lorentzian(data).reduced_chi2 > 2


def test_physics_convention_data_fit_the_same():
    engineering = small_atom_data(3)
    physics = SpectroscopyData(
        engineering.frequencies, np.conj(engineering.s21), convention="physics", sigma=SIGMA
    )
    a, b = fit_lorentzian(engineering), fit_lorentzian(physics)
    np.testing.assert_allclose(b.values, a.values, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(b.model(), np.conj(a.model()), atol=1e-9)
    # Declaring the wrong convention mirrors the resonance circle: no background can fix it.
    wrong = SpectroscopyData(engineering.frequencies, physics.s21, convention="engineering")
    assert fit_lorentzian(wrong, initial=a.parameters).residual_rms > 5 * a.residual_rms


def test_uncertainties_are_calibrated_over_noise_realisations():
    # σ not given: estimated from the residuals. 40 realisations: the scatter of the fitted
    # values must match the mean reported error (the sample std is good to ~11 %).
    fits = [fit_lorentzian(small_atom_data(seed, sigma=None)) for seed in range(40)]
    for name in ("frequency", "radiative_rate", "nonradiative_rate", "s21.delay"):
        values = np.array([f.parameters[name] for f in fits])
        reported = np.mean([f.errors[name] for f in fits])
        ratio = np.std(values, ddof=1) / reported
        assert 1 / 1.5 < ratio < 1.5, (name, ratio)
    noise_levels = np.array([f.noise for f in fits])
    np.testing.assert_allclose(noise_levels, SIGMA, rtol=0.1)
    assert all(f.noise_estimated and f.reduced_chi2 == pytest.approx(1) for f in fits)
    assert all(math.isnan(f.p_value) for f in fits)


def test_bootstrap_agrees_with_covariance_and_is_reproducible():
    fit = fit_lorentzian(small_atom_data(7))
    boot = fit.bootstrap(100, seed=5)
    assert boot.n_failed == 0 and boot.samples.shape == (100, len(fit.names))
    for name in fit.names:
        ratio = boot.errors[name] / fit.errors[name]
        assert 1 / 1.5 < ratio < 1.5, (name, ratio)
    again = fit.bootstrap(100, seed=5)
    np.testing.assert_array_equal(again.samples, boot.samples)
    residual = fit.bootstrap(60, seed=6, method="residual")
    for name in fit.names:
        assert 1 / 1.5 < residual.errors[name] / fit.errors[name] < 1.5, name
    low, high = boot.interval()["frequency"]
    assert low < fit.parameters["frequency"] < high
    assert "bootstrap error" in repr(boot)


# --------------------------------------------------------------------------------------------
# Full device model
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def test_touchstone_round_trip_fit(tmp_path):
    rng = np.random.default_rng(42)
    traces = measured(GIANT, W_GIANT, BG_GIANT, rng)
    s = np.zeros((W_GIANT.size, 2, 2), dtype=complex)
    s[:, 1, 0] = s[:, 0, 1] = traces["s21"]
    s[:, 0, 0] = s[:, 1, 1] = traces["s11"]
    network = skrf.Network(frequency=skrf.Frequency.from_f(W_GIANT / (2 * np.pi), unit="hz"), s=s)
    network.write_touchstone(str(tmp_path / "giant"))
    data = SpectroscopyData.from_touchstone(
        tmp_path / "giant.s2p", parameters=("s21", "s11"), sigma=SIGMA
    )
    assert data.traces == ("s21", "s11") and data.convention == "engineering"
    np.testing.assert_allclose(data.frequencies, W_GIANT, rtol=1e-12)
    np.testing.assert_allclose(data.s21, traces["s21"], atol=1e-12)
    np.testing.assert_allclose(data.s11, traces["s11"], atol=1e-12)
    fit = fit_device(data, GIANT_START, GIANT_PARAMETERS)
    assert fit.traces == ("s21", "s11")
    assert_within(fit, GIANT_TRUE)
    assert set(fit.backgrounds) == {"s21", "s11"}
    assert fit.backgrounds["s11"].delay == pytest.approx(fit.parameters["s11.delay"])


def test_touchstone_one_port_has_no_s21(tmp_path):
    f = np.linspace(4.9e9, 5.1e9, 11)
    network = skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=np.full(11, 0.5 + 0j))
    network.write_touchstone(str(tmp_path / "one"))
    with pytest.raises(ValueError, match="s21 needs a 2-port"):
        SpectroscopyData.from_touchstone(tmp_path / "one.s1p")
    assert SpectroscopyData.from_touchstone(tmp_path / "one.s1p", parameters="s11").n_points == 11


def test_csv_round_trip_fit(tmp_path):
    data = small_atom_data(9)
    f_hz = data.frequencies / (2 * np.pi)
    s21 = data.s21
    # Real/imaginary with a header, columns by name.
    path = tmp_path / "real_imag.csv"
    table = np.column_stack([f_hz, s21.real, s21.imag])
    np.savetxt(
        path, table, delimiter=",", header="frequency_hz,re_s21,im_s21", comments="", fmt="%.17g"
    )
    read = SpectroscopyData.from_csv(
        path,
        unit="Hz",
        frequency_column="frequency_hz",
        s21_columns=("re_s21", "im_s21"),
        sigma=SIGMA,
    )
    np.testing.assert_allclose(read.frequencies, data.frequencies, rtol=1e-15)
    np.testing.assert_allclose(read.s21, s21, atol=1e-15)
    # Magnitude in dB and phase in degrees, GHz, whitespace-separated, columns by position.
    path = tmp_path / "db_deg.txt"
    table = np.column_stack([f_hz / 1e9, 20 * np.log10(np.abs(s21)), np.angle(s21, deg=True)])
    np.savetxt(path, table, fmt="%.17g")
    read = SpectroscopyData.from_csv(path, unit="GHz", layout="db,deg", sigma=SIGMA)
    np.testing.assert_allclose(read.s21, s21, rtol=1e-12)
    fit = fit_lorentzian(read)
    assert_within(fit, SMALL_TRUE)
    assert str(path) == read.source


def test_csv_header_names(tmp_path):
    path = tmp_path / "named.csv"
    path.write_text(
        "# exported by a VNA\nFreq (GHz);S11 re;S11 im;S21 re;S21 im\n"
        "5.0;0.1;0.2;0.9;-0.1\n5.1;0.1;0.3;0.8;-0.2\n",
        encoding="utf-8",
    )
    data = SpectroscopyData.from_csv(
        path,
        unit="GHz",
        frequency_column="freq (ghz)",
        s21_columns=("S21 re", "S21 im"),
        s11_columns=(1, 2),
    )
    np.testing.assert_allclose(data.frequencies, [5.0 * GHz, 5.1 * GHz])
    np.testing.assert_allclose(data.s21, [0.9 - 0.1j, 0.8 - 0.2j])
    np.testing.assert_allclose(data.s11, [0.1 + 0.2j, 0.1 + 0.3j])
    with pytest.raises(ValueError, match="no column 'S22 re'"):
        SpectroscopyData.from_csv(path, unit="GHz", s21_columns=("S22 re", "S22 im"))


# --------------------------------------------------------------------------------------------
# Background helpers
# --------------------------------------------------------------------------------------------


def test_cable_delay_estimate_and_removal():
    # 1 MHz steps: the phase advances 2π·1 MHz·63 ns = 0.4 rad per point (must stay below π).
    w = np.linspace(4.9, 5.1, 201) * GHz
    background = Background(0.6, 2.5, 63 * ns)
    data = SpectroscopyData(w, background(w), convention="engineering")
    assert estimate_cable_delay(data) == pytest.approx(63 * ns, rel=1e-9)
    flat = remove_cable_delay(data, 63 * ns)
    np.testing.assert_allclose(flat.s21, 0.6 * np.exp(2.5j), atol=1e-9)
    np.testing.assert_allclose(remove_background(data, background).s21, 1.0, atol=1e-12)
    # The same function of frequency about another reference.
    moved = Background(0.6, 2.5, 63 * ns, slope=0.1 / GHz).at_reference(5 * GHz)
    np.testing.assert_allclose(moved(w), Background(0.6, 2.5, 63 * ns, slope=0.1 / GHz)(w))
    # In the physics convention a delay is e^{+iωτ}: the same τ comes out.
    physics = SpectroscopyData(w, np.conj(background(w)), convention="physics")
    assert estimate_cable_delay(physics) == pytest.approx(63 * ns, rel=1e-9)


def test_result_model_and_summary():
    data = small_atom_data(1)
    fit = fit_lorentzian(data, vary_background=("amplitude", "phase", "delay", "slope"))
    assert "s21.slope" in fit.names and not fit.fixed
    np.testing.assert_allclose(data.s21 - fit.residuals["s21"], fit.model(), atol=1e-14)
    dense = np.linspace(4.99, 5.01, 7) * GHz
    assert fit.model(dense).shape == (7,)
    text = fit.summary()
    for piece in ("frequency", "GHz", "MHz", "ns", "χ²", "reduced"):
        assert piece in text
    assert repr(fit) == text
    assert fit.correlation.shape == (len(fit.names),) * 2
    np.testing.assert_allclose(np.diag(fit.correlation), 1.0)


def test_crop():
    data = small_atom_data(0)
    window = data.crop(4.99 * GHz, 5.01 * GHz)
    assert window.frequencies.min() >= 4.99 * GHz and window.frequencies.max() <= 5.01 * GHz
    assert window.n_points == np.count_nonzero(
        (data.frequencies >= 4.99 * GHz) & (data.frequencies <= 5.01 * GHz)
    )
    with pytest.raises(ValueError, match="no points between"):
        data.crop(6 * GHz, 7 * GHz)


def test_from_scattering_without_background():
    result = ga.scattering(SMALL, W_SMALL)
    data = SpectroscopyData.from_scattering(result, traces=("s21",), sigma=1e-3)
    assert data.convention == "physics"
    fit = fit_lorentzian(data, background=Background(), vary_background=())
    for name, true in SMALL_TRUE.items():
        assert fit.parameters[name] == pytest.approx(true, rel=1e-7)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequencies", "s21", "match"),
    [
        ([1.0, 2.0, 3.0], [1, np.nan, 1], "s21 contains NaN at index 1"),
        ([1.0, 2.0, 3.0], [1, np.inf, 1], "s21 contains inf"),
        ([1.0, 2.0, 3.0], [1, 1], "mismatched lengths"),
        ([], [], "empty"),
        ([1.0, 1.0, 2.0], [1, 2, 1], "more than once with different data"),
        ([1.0, np.nan, 2.0], [1, 1, 1], "frequencies must not be NaN"),
        ([-1.0, 1.0, 2.0], [1, 1, 1], "frequencies must be > 0"),
    ],
)
def test_bad_data_is_rejected(frequencies, s21, match):
    with pytest.raises(ValueError, match=match):
        SpectroscopyData.from_arrays(frequencies, s21, unit="GHz", convention="engineering")


@pytest.mark.parametrize("frequencies", [[1.0, 3.0, 2.0], [1.0, 1.0, 2.0]])
def test_constructor_requires_increasing_frequencies(frequencies):
    # The dataclass itself never reorders: only the from_* loaders sort (with a warning).
    with pytest.raises(ValueError, match="strictly increasing"):
        SpectroscopyData(np.array(frequencies) * GHz, [1, 1, 1], convention="engineering")


def test_bad_constructor_arguments():
    w = [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="at least one of s21 and s11"):
        SpectroscopyData.from_arrays(w, unit="GHz", convention="engineering")
    with pytest.raises(ValueError, match="unit must be one of"):
        SpectroscopyData.from_arrays(w, [1, 1, 1], unit="THz", convention="engineering")
    with pytest.raises(ValueError, match="convention must be one of"):
        SpectroscopyData.from_arrays(w, [1, 1, 1], unit="GHz", convention="vna")
    with pytest.raises(ValueError, match="sigma must be > 0"):
        SpectroscopyData.from_arrays(w, [1, 1, 1], unit="GHz", convention="physics", sigma=-1)
    with pytest.raises(ValueError, match="sigma must be a scalar or have one value per point"):
        SpectroscopyData(w, [1, 1, 1], convention="physics", sigma=[1, 1])
    with pytest.raises(ValueError, match="layout must be one of"):
        SpectroscopyData.from_csv("nowhere.csv", unit="Hz", layout="polar")


def test_bad_fit_arguments():
    data = small_atom_data(0)
    with pytest.raises(ValueError, match=r"unknown parameter 'atoms\.A\.colour'"):
        fit_device(data, SMALL, ["atoms.A.colour"])
    with pytest.raises(ValueError, match="unknown atom 'Z'"):
        fit_device(data, SMALL, ["atoms.Z.frequency"])
    with pytest.raises(ValueError, match="unknown parameter 'frequency'"):
        fit_device(data, SMALL, ["frequency"])
    with pytest.raises(ValueError, match="single point"):
        fit_device(data, SMALL, ["atoms.Q.spacing"])
    with pytest.raises(ValueError, match="float only one of them"):
        fit_device(data, GIANT, ["atoms.A.spacing", "atoms.A.phase"])
    with pytest.raises(ValueError, match="float only one of them"):
        fit_device(data, GIANT, ["atoms.A.t1", "atoms.A.intrinsic_decay_rate"])
    with pytest.raises(ValueError, match="listed twice"):
        fit_device(data, SMALL, ["atoms.Q.frequency", "atoms.Q.frequency"])
    with pytest.raises(ValueError, match="has 1 points"):
        fit_device(data, SMALL, ["atoms.Q.point_rates[1]"])
    with pytest.raises(ValueError, match="no finite t1"):
        fit_device(data, GIANT.replace_atom("A", t1=None), ["atoms.A.t1"])
    with pytest.raises(ValueError, match=r"bounds\['atoms.Q.frequency'\] must satisfy low < high"):
        fit_device(
            data, SMALL, ["atoms.Q.frequency"], bounds={"atoms.Q.frequency": (6 * GHz, 4 * GHz)}
        )
    with pytest.raises(ValueError, match=r"bounds\['radiative_rate'\] must satisfy low < high"):
        fit_lorentzian(data, bounds={"radiative_rate": (3 * MHz, 1 * MHz)})
    with pytest.raises(ValueError, match="outside its bounds"):
        fit_lorentzian(data, bounds={"frequency": (4 * GHz, 4.5 * GHz)})
    with pytest.raises(ValueError, match="initial names unknown parameter 'width'"):
        fit_lorentzian(data, initial={"width": 1.0})
    with pytest.raises(ValueError, match="which is fixed"):
        fit_lorentzian(data, bounds={"s21.slope": (-1.0, 1.0)})
    with pytest.raises(ValueError, match="unknown vary_background entry"):
        fit_lorentzian(data, vary_background=("offset",))
    with pytest.raises(ValueError, match="traces"):
        fit_device(data, SMALL, ["atoms.Q.frequency"], traces=["s11"])
    with pytest.raises(ValueError, match="one parameter set"):
        fit_device(
            data, SMALL.replace_atom("Q", frequency=[5 * GHz, 5.1 * GHz]), ["atoms.Q.point_rates"]
        )
    reflection = SpectroscopyData(W_SMALL, s11=data.s21, convention="engineering")
    with pytest.raises(ValueError, match="no s21 trace"):
        fit_lorentzian(reflection)
    with pytest.raises(TypeError, match="device must be a Device"):
        fit_device(data, "sequential_pair", ["atoms.A.frequency"])
    with pytest.raises(ValueError, match="n must be an integer"):
        fit_lorentzian(data).bootstrap(1)


# --------------------------------------------------------------------------------------------
# Hostile input: files that are unsorted, repeated, empty, binary or of the wrong shape
# --------------------------------------------------------------------------------------------

# A known trace: one Lorentzian line in transmission, engineering convention, no noise, and a
# reflection that differs from point to point (so that every row of a file is distinct).
F_HZ = W_SMALL / (2 * np.pi)
S21_LINE = BG_SMALL(W_SMALL) * (
    1 - 0.5 * (2 * MHz) / (0.5 * (3.1 * MHz) + 1j * (W_SMALL - 5.0 * GHz))
)
S11_LINE = 0.1 * np.exp(1j * np.linspace(0.0, 3.0, W_SMALL.size))


def write_s2p(path, rows=None, *, option="# Hz S RI R 50"):
    """A version-1 two-port file of the known trace, data rows in the order ``rows``."""
    rows = np.arange(F_HZ.size) if rows is None else rows
    lines = ["! synthetic Lorentzian", option]
    for i in rows:
        a, b = S11_LINE[i], S21_LINE[i]
        lines.append(
            f"{F_HZ[i]:.17g} {a.real:.17g} {a.imag:.17g} {b.real:.17g} {b.imag:.17g} "
            f"{b.real:.17g} {b.imag:.17g} {a.real:.17g} {a.imag:.17g}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_csv(path, rows=None):
    rows = np.arange(F_HZ.size) if rows is None else rows
    table = np.column_stack([F_HZ, S21_LINE.real, S21_LINE.imag])[rows]
    np.savetxt(path, table, delimiter=",", header="f_hz,re,im", comments="", fmt="%.17g")
    return path


def swapped(size, i=10):
    rows = np.arange(size)
    rows[[i, i + 1]] = rows[[i + 1, i]]
    return rows


def one_line_error(excinfo, path):
    message = str(excinfo.value)
    assert "\n" not in message, message
    assert str(path) in message, message


def test_touchstone_swapped_rows_keep_every_point(tmp_path):
    path = write_s2p(tmp_path / "swapped.s2p", swapped(F_HZ.size))
    # scikit-rf reads the lower frequency as the start of a noise block and drops the rest.
    assert skrf.Network(str(path)).f.size == 11
    with pytest.warns(UserWarning, match="2 of 401 points were out of frequency order"):
        data = SpectroscopyData.from_touchstone(path, parameters=("s21", "s11"))
    assert data.n_points == 401
    np.testing.assert_allclose(data.frequencies, W_SMALL, rtol=1e-15)
    np.testing.assert_array_equal(data.s21, S21_LINE)
    np.testing.assert_array_equal(data.s11, S11_LINE)
    # The sorted file reads the same, without a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = SpectroscopyData.from_touchstone(write_s2p(tmp_path / "clean.s2p"))
    np.testing.assert_array_equal(clean.frequencies, data.frequencies)
    np.testing.assert_array_equal(clean.s21, data.s21)
    # And the fit uses all of it.
    assert fit_lorentzian(data).data.n_points == 401


def test_touchstone_formats_and_units_match_scikit_rf(tmp_path):
    # dB/degrees in GHz with a 2-port noise block after the data: the same as scikit-rf.
    f_ghz = F_HZ[:50] / 1e9
    lines = ["# GHz S DB R 50"]
    for f, a, b in zip(f_ghz, S11_LINE[:50], S21_LINE[:50], strict=True):
        db = [20 * np.log10(abs(x)) for x in (a, b, b, a)]
        deg = [np.angle(x, deg=True) for x in (a, b, b, a)]
        pairs = " ".join(f"{m:.17g} {d:.17g}" for m, d in zip(db, deg, strict=True))
        lines.append(f"{f:.17g} {pairs}")
    lines += ["! noise parameters", "4.98 0.5 0.1 10 0.2", "5.0 0.6 0.1 12 0.2"]
    path = tmp_path / "db.s2p"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = SpectroscopyData.from_touchstone(path, parameters=("s21", "s11"))
    network = skrf.Network(str(path))
    np.testing.assert_allclose(data.frequencies, 2 * np.pi * network.f, rtol=1e-15)
    np.testing.assert_allclose(data.s21, network.s[:, 1, 0], rtol=1e-13)
    np.testing.assert_allclose(data.s11, network.s[:, 0, 0], rtol=1e-13)
    np.testing.assert_allclose(data.s21, S21_LINE[:50], rtol=1e-12)


def test_touchstone_repeated_frequencies(tmp_path):
    rows = np.insert(np.arange(F_HZ.size), 200, 200)  # row 200 twice, identical
    path = write_s2p(tmp_path / "twice.s2p", rows)
    with pytest.warns(UserWarning, match="dropped 1 exactly repeated row"):
        data = SpectroscopyData.from_touchstone(path)
    assert data.n_points == 401
    np.testing.assert_array_equal(data.s21, S21_LINE)
    # The same frequency with different numbers: refused, naming the frequency.
    lines = path.read_text(encoding="utf-8").splitlines()
    first, second = 2 + 200, 2 + 201  # the two rows of 200 (after comment and option line)
    assert lines[first] == lines[second]
    lines[first] = lines[first].split(" ", 1)[0] + " 0.5 0 0.5 0 0.5 0 0.5 0"
    conflict = tmp_path / "conflict.s2p"
    conflict.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="1 frequency value") as excinfo:
        SpectroscopyData.from_touchstone(conflict)
    one_line_error(excinfo, conflict)
    assert f"{F_HZ[200]:.10g} Hz" in str(excinfo.value)


@pytest.mark.parametrize("name", ["empty.s2p", "empty.s1p", "empty.csv", "comments.s2p"])
def test_empty_files_are_refused(tmp_path, name):
    path = tmp_path / name
    path.write_text("! nothing here\n" if name.startswith("comments") else "", encoding="utf-8")
    with pytest.raises(ValueError, match=r"empty|no data") as excinfo:
        if path.suffix == ".csv":
            SpectroscopyData.from_csv(path, unit="Hz")
        else:
            SpectroscopyData.from_touchstone(path, parameters="s11")
    one_line_error(excinfo, path)


@pytest.mark.parametrize("suffix", [".s2p", ".s1p", ".csv"])
@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        np.random.default_rng(0).bytes(600),
    ],
    ids=["png", "random"],
)
def test_binary_files_are_refused(tmp_path, suffix, content):
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a text") as excinfo:
        if suffix == ".csv":
            SpectroscopyData.from_csv(path, unit="Hz")
        else:
            SpectroscopyData.from_touchstone(path, parameters="s11")
    one_line_error(excinfo, path)


def test_touchstone_column_count_must_fit_the_port_count(tmp_path):
    # A one-port data set saved as .s2p: 3 numbers per line, not 9.
    path = tmp_path / "one_port_data.s2p"
    lines = ["# Hz S RI R 50"] + [
        f"{f:.17g} {z.real:.17g} {z.imag:.17g}" for f, z in zip(F_HZ, S11_LINE, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2: 3 numbers, but a 2-port .* has 9") as excinfo:
        SpectroscopyData.from_touchstone(path)
    one_line_error(excinfo, path)
    # Non-numeric data and a bad option line.
    bad = write_s2p(tmp_path / "text.s2p")
    bad.write_text(bad.read_text(encoding="utf-8").replace("0.1", "zero", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="is not a number") as excinfo:
        SpectroscopyData.from_touchstone(bad)
    one_line_error(excinfo, bad)
    option = write_s2p(tmp_path / "option.s2p", option="# THz S RI R 50")
    with pytest.raises(ValueError, match="unknown entry 'thz' in the option line") as excinfo:
        SpectroscopyData.from_touchstone(option)
    one_line_error(excinfo, option)


def test_missing_files_name_the_path(tmp_path):
    for name in ("absent.s2p", "absent.csv"):
        path = tmp_path / name
        with pytest.raises(FileNotFoundError, match="absent") as excinfo:
            if name.endswith(".csv"):
                SpectroscopyData.from_csv(path, unit="Hz")
            else:
                SpectroscopyData.from_touchstone(path)
        assert str(path) in str(excinfo.value)


def test_csv_unsorted_and_repeated_rows(tmp_path):
    path = write_csv(tmp_path / "swapped.csv", swapped(F_HZ.size, 100))
    with pytest.warns(UserWarning, match="2 of 401 points were out of frequency order"):
        data = SpectroscopyData.from_csv(path, unit="Hz")
    np.testing.assert_allclose(data.frequencies, W_SMALL, rtol=1e-15)
    np.testing.assert_array_equal(data.s21, S21_LINE)
    # A reversed sweep is sorted too.
    with pytest.warns(UserWarning, match="400 of 401 points"):
        data = SpectroscopyData.from_csv(
            write_csv(tmp_path / "down.csv", np.arange(401)[::-1]), unit="Hz"
        )
    np.testing.assert_array_equal(data.s21, S21_LINE)
    # An exact repeat is dropped with a warning; a conflicting one is refused.
    rows = np.insert(np.arange(F_HZ.size), 5, 5)
    with pytest.warns(UserWarning, match="dropped 1 exactly repeated"):
        data = SpectroscopyData.from_csv(write_csv(tmp_path / "twice.csv", rows), unit="Hz")
    assert data.n_points == 401
    path = tmp_path / "conflict.csv"
    path.write_text("f,re,im\n1.0,0.5,0.1\n2.0,0.4,0.2\n2.0,0.3,0.2\n3.0,0.5,0.1\n", "utf-8")
    with pytest.raises(ValueError, match=r"1 frequency value\(s\) appear .* \(2 GHz\)") as excinfo:
        SpectroscopyData.from_csv(path, unit="GHz")
    one_line_error(excinfo, path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("f,re,im\n1.0,0.5,0.1\n2.0,abc,0.2\n", r"line 3, column 1: 'abc' is not a number"),
        ("1.0,0.5,0.1\n2.0,,0.2\n", r"line 2, column 1: '' is not a number"),
        ("abc,0.5,0.1\n2.0,0.4,0.2\n", r"line 1, column 0: 'abc' is not a number"),
        ("1.0,0.5,0.1\n2.0,0.4\n", r"line 2: 2 fields, but the first data row has 3"),
        ("1.0,0.5,0.1\n2.0,nan,0.2\n", r"s21 contains NaN at index 1"),
        ("f,re,im\n", "header but no data rows"),
    ],
    ids=["word", "blank", "first-row", "ragged", "nan", "header-only"],
)
def test_csv_bad_fields(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=match) as excinfo:
        SpectroscopyData.from_csv(path, unit="GHz")
    one_line_error(excinfo, path)


def test_from_arrays_sorts_everything_together():
    rng = np.random.default_rng(8)
    order = rng.permutation(F_HZ.size)
    sigma = np.linspace(0.01, 0.02, F_HZ.size)
    with pytest.warns(UserWarning, match=r"\d+ of 401 points were out of frequency order"):
        data = SpectroscopyData.from_arrays(
            F_HZ[order],
            S21_LINE[order],
            S11_LINE[order],
            unit="Hz",
            convention="engineering",
            sigma=sigma[order],
        )
    np.testing.assert_allclose(data.frequencies, W_SMALL, rtol=1e-15)
    np.testing.assert_array_equal(data.s21, S21_LINE)
    np.testing.assert_array_equal(data.s11, S11_LINE)
    np.testing.assert_array_equal(data.sigma, sigma)
    # Repeats: identical rows are dropped with a warning, different ones refused.
    with pytest.warns(UserWarning, match="dropped 2 exactly repeated"):
        data = SpectroscopyData.from_arrays(
            [1.0, 2.0, 2.0, 2.0, 3.0], [1, 2, 2, 2, 3], unit="GHz", convention="physics"
        )
    np.testing.assert_array_equal(data.s21, [1, 2, 3])
    with pytest.raises(ValueError, match=r"1 frequency value\(s\) .* \(2 GHz\)"):
        SpectroscopyData.from_arrays([1.0, 2.0, 2.0], [1, 2, 3], unit="GHz", convention="physics")
    with pytest.raises(ValueError, match=r"different data \(2 GHz\)"):  # σ tells them apart
        SpectroscopyData.from_arrays(
            [1.0, 2.0, 2.0], [1, 2, 2], unit="GHz", convention="physics", sigma=[1, 1, 2]
        )
    with pytest.raises(ValueError, match=r"sigma has shape \(2,\) .*mismatched lengths"):
        SpectroscopyData.from_arrays(
            [2.0, 1.0, 3.0], [1, 2, 3], unit="GHz", convention="physics", sigma=[1, 2]
        )
    with pytest.raises(ValueError, match=r"2 frequency value\(s\) .* \(2, 5 GHz\)"):
        SpectroscopyData.from_arrays(
            [5.0, 1.0, 2.0, 2.0, 5.0], [1, 1, 2, 3, 2], unit="GHz", convention="physics"
        )


# --------------------------------------------------------------------------------------------
# Hostile input: nothing to fit, or a fit that is not a result
# --------------------------------------------------------------------------------------------

FLAT_TRACES = {
    "zero": (np.zeros(W_SMALL.size, dtype=complex), None, "zero at every point"),
    "constant": (np.full(W_SMALL.size, 0.8 - 0.3j), None, "constant"),
    "delay only": (BG_SMALL(W_SMALL), None, "constant"),
    "noise only": (
        BG_SMALL(W_SMALL) + noise(np.random.default_rng(5), W_SMALL.size),
        SIGMA,
        "featureless",
    ),
    "noise, σ unknown": (
        0.3 + noise(np.random.default_rng(6), W_SMALL.size),
        None,
        "featureless",
    ),
}


@pytest.mark.parametrize("case", list(FLAT_TRACES))
@pytest.mark.parametrize("fit", ["lorentzian", "fano", "device"])
def test_featureless_traces_are_refused(case, fit):
    s21, sigma, match = FLAT_TRACES[case]
    data = SpectroscopyData(W_SMALL, s21, convention="engineering", sigma=sigma)
    with pytest.raises(ValueError, match=f"s21 is {match}") as excinfo:
        if fit == "lorentzian":
            fit_lorentzian(data)
        elif fit == "fano":
            fit_fano(data)
        else:
            fit_device(data, SMALL, ["atoms.Q.frequency", "atoms.Q.point_rates"])
    assert "\n" not in str(excinfo.value)


def test_device_fit_needs_more_points_than_parameters():
    data = SpectroscopyData(W_SMALL[:2], S21_LINE[:2], convention="engineering")
    with pytest.raises(ValueError, match="not enough data: 4 real residuals"):
        fit_device(data, SMALL, ["atoms.Q.frequency", "atoms.Q.point_rates"])


def test_good_trace_fits_and_reports_success():
    fit = fit_lorentzian(small_atom_data(2))
    assert fit.success and fit.converged and fit.reason == ""
    assert "NOT A VALID FIT" not in fit.summary()
    assert_within(fit, SMALL_TRUE)


def test_line_outside_the_band_is_not_a_success():
    # Only the tail of a wide line 30 MHz above a 40 MHz window: the fit puts the resonance
    # outside the band, which the data cannot locate.
    w0, gamma = 5.05 * GHz, 20 * MHz
    line = 1 - 0.5 * gamma / (0.5 * 1.2 * gamma + 1j * (W_SMALL - w0))
    s21 = BG_SMALL(W_SMALL) * line + noise(np.random.default_rng(3), W_SMALL.size, 1e-3)
    fit = fit_lorentzian(SpectroscopyData(W_SMALL, s21, convention="engineering", sigma=1e-3))
    assert fit.converged and not fit.success
    assert "outside the measured band" in fit.reason
    assert "NOT A VALID FIT" in fit.summary()


def test_singular_covariance_is_not_a_success():
    # Moving both points of an atom together leaves S21 unchanged: a null direction.
    rng = np.random.default_rng(4)
    traces = measured(GIANT, W_GIANT, {"s21": BG_GIANT["s21"]}, rng)
    data = SpectroscopyData(W_GIANT, **traces, convention="engineering", sigma=SIGMA)
    fit = fit_device(data, GIANT, ["atoms.A.points[0]", "atoms.A.points[1]"])
    assert not fit.success
    assert "singular" in fit.reason
    assert any("singular Jacobian" in w for w in fit.warnings)


@pytest.mark.parametrize("unit", ["mhz", "MHZ", "mHz", "ghz", "Ghz"])
def test_frequency_units_are_case_sensitive(unit):
    with pytest.raises(ValueError, match="unit must be one of"):
        SpectroscopyData.from_arrays(
            [1.0, 2.0, 3.0], s21=[1, 0.5, 1], unit=unit, convention="physics"
        )
