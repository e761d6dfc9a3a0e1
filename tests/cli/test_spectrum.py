"""``giantatoms spectrum``: simulated spectra (CSV round trip, steady-state probe) and fits."""

import numpy as np
import pytest

from giantatoms import presets
from giantatoms.cli import main
from giantatoms.fitting import SpectroscopyData
from giantatoms.measure.spectroscopy import scattering
from giantatoms.units import GHz

from tests.cli._helpers import run_json


@pytest.fixture(scope="module")
def spectrum_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("spectrum") / "s.csv"
    argv = ["spectrum", "--from", "4.58GHz", "--to", "4.62GHz", "--points", "401"]
    assert main([*argv, "--out", str(path)]) == 0
    return path


def test_spectrum_csv_round_trips(spectrum_csv, capsys):
    data = SpectroscopyData.from_csv(
        spectrum_csv,
        unit="GHz",
        convention="physics",
        s21_columns=("s21_re", "s21_im"),
        s11_columns=("s11_re", "s11_im"),
    )
    device = presets.load("sequential_pair")
    probe = np.linspace(4.58 * GHz, 4.62 * GHz, 401)
    result = scattering(device, probe)
    np.testing.assert_allclose(data.frequencies, probe, rtol=1e-15)
    np.testing.assert_allclose(data.s21, result.s21, atol=1e-15)
    np.testing.assert_allclose(data.s11, result.s11, atol=1e-15)


def test_spectrum_simulate_json_and_fit_recovers_line(spectrum_csv, capsys):
    sim = run_json(capsys, ["spectrum", "--from", "4.58GHz", "--to", "4.62GHz", "--points", "401"])
    assert len(sim["s21_re"]) == 401 and sim["method"] == "linear"
    s21 = np.array(sim["s21_re"]) + 1j * np.array(sim["s21_im"])
    k = int(np.argmin(np.abs(s21)))
    assert sim["min_abs_s21"] == pytest.approx(abs(s21[k]))
    assert sim["min_abs_s21_frequency_ghz"] == pytest.approx(sim["frequency_ghz"][k])
    # Both atoms at 4.6 GHz, perfectly correlated: one bright line of width Γ_A + Γ_B + loss,
    # Lamb-shifted by ≈ 1.96 MHz.
    assert sim["linewidth_mhz"] == pytest.approx(9.5, rel=0.02)
    assert sim["resonance_frequency_ghz"] == pytest.approx(4.602, abs=1e-4)

    fit = run_json(capsys, ["spectrum", "--fit", str(spectrum_csv)])
    assert fit["convention"] == "physics" and fit["model"] == "lorentzian"  # from the comment
    assert fit["success"] and fit["reduced_chi2"] == pytest.approx(1.0)
    f0 = fit["parameters"]["frequency_ghz"]
    assert abs(f0["value"] - sim["resonance_frequency_ghz"]) < 1e-4  # the 0.1 MHz grid step
    assert 0 < f0["error"] < 1e-4
    assert fit["linewidth_mhz"] == pytest.approx(sim["linewidth_mhz"], rel=0.01)

    fano = run_json(capsys, ["spectrum", "--fit", str(spectrum_csv), "--model", "fano"])
    assert fano["parameters"]["frequency_ghz"]["value"] == pytest.approx(f0["value"], abs=2e-4)
    assert "mismatch_angle_rad" in fano["parameters"]

    assert main(["spectrum", "--fit", str(spectrum_csv)]) == 0
    text = capsys.readouterr().out
    assert "Lorentzian fit" in text and "reduced" in text and "± " in text and "MHz" in text


def test_spectrum_device_fit_from_touchstone(spectrum_csv, tmp_path, capsys):
    # The same spectrum as a network analyser would save it: Hz, engineering convention.
    table = np.loadtxt(spectrum_csv, delimiter=",", comments="#", skiprows=3)
    f_hz = table[:, 0] * 1e9
    s21 = np.conj(table[:, 1] + 1j * table[:, 2])
    s11 = np.conj(table[:, 3] + 1j * table[:, 4])
    lines = ["! test", "# Hz S RI R 50"]
    for f, a, b in zip(f_hz, s11, s21, strict=True):
        lines.append(f"{f:.1f} {a.real:.17g} {a.imag:.17g} {b.real:.17g} {b.imag:.17g} 0 0 0 0")
    path = tmp_path / "chip.s2p"
    path.write_text("\n".join(lines) + "\n")
    start = ["--atom-frequency", "A=4.599GHz", "--atom-frequency", "B=4.599GHz"]
    out = run_json(capsys, ["spectrum", "--fit", str(path), "--model", "device", *start])
    assert out["convention"] == "engineering"
    assert out["parameters"]["atoms.*.frequency_ghz"]["value"] == pytest.approx(4.6, abs=1e-6)
    assert out["parameters"]["atoms.*.point_rates_mhz"]["value"] == pytest.approx(2.0, rel=1e-4)
    assert out["device"]["atom_frequencies_ghz"]["B"] == pytest.approx(4.6, abs=1e-6)
    assert out["device"]["gamma_mhz"]["A"] == pytest.approx(4.7495, rel=1e-3)
    lorentz = run_json(capsys, ["spectrum", "--fit", str(path)])
    assert lorentz["linewidth_mhz"] == pytest.approx(9.55, rel=0.01)
    assert main(["spectrum", "--fit", str(path), "--model", "device", *start]) == 0
    assert "fitted device" in capsys.readouterr().out


def test_spectrum_steady_state_probe(capsys):
    out = run_json(
        capsys,
        [
            "spectrum",
            "--from",
            "4.59GHz",
            "--to",
            "4.615GHz",
            "--points",
            "11",
            "--power",
            "-150dBm",
            "--port",
            "right",
        ],
    )
    assert out["method"] == "steady-state" and out["port"] == "right"
    device = presets.load("sequential_pair")
    probe = np.linspace(4.59 * GHz, 4.615 * GHz, 11)
    result = scattering(device, probe, power_dbm=-150.0, port="right")
    np.testing.assert_allclose(out["s21_re"], result.s12.real, atol=1e-12)
    np.testing.assert_allclose(out["s11_im"], result.s22.imag, atol=1e-12)
