"""The physics subcommands of the command line: couplings, steady, protocol, spectrum."""

import json

import numpy as np
import pytest

from giantatoms import presets
from giantatoms.cli import main
from giantatoms.fitting import SpectroscopyData
from giantatoms.measure.metrics import bell_fidelity, concurrence, excited_population, purity
from giantatoms.measure.spectroscopy import scattering
from giantatoms.model.couplings import (
    decoherence_free_frequencies,
    entangling_operating_point,
    perfect_correlation_frequencies,
)
from giantatoms.model.device import Drive
from giantatoms.model.lindblad import master_equation
from giantatoms.protocols import driven_dissipative, run_protocol
from giantatoms.solvers.gap import liouvillian_gap
from giantatoms.solvers.steady_state import steady_state
from giantatoms.units import GHz, MHz, ns, us


def run_json(capsys, argv):
    assert main([*argv, "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


def assert_one_line_error(capsys, argv, *fragments):
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("giantatoms: error:")
    for fragment in fragments:
        assert fragment in lines[0]
    assert captured.out == ""
    return lines[0]


# ---------------------------------------------------------------------------- couplings


def test_couplings_json_matches_library(capsys):
    out = run_json(capsys, ["couplings", "--from", "4GHz", "--to", "5.2 GHz", "--points", "25"])
    device = presets.load("sequential_pair")
    grid = np.linspace(4 * GHz, 5.2 * GHz, 25)
    c = device.couplings(frequency=grid)
    assert out["pair"] == ["A", "B"]
    np.testing.assert_allclose(out["frequency_ghz"], grid / GHz, rtol=1e-14)
    np.testing.assert_allclose(out["gamma_a_mhz"], c.decay_rates[:, 0] / MHz, rtol=1e-12)
    np.testing.assert_allclose(out["gamma_b_mhz"], c.decay_rates[:, 1] / MHz, rtol=1e-12)
    g_ab = c.decay_matrix[:, 0, 1] / MHz
    np.testing.assert_allclose(out["gamma_ab_re_mhz"], g_ab.real, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out["gamma_ab_im_mhz"], g_ab.imag, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out["gamma_ab_abs_mhz"], np.abs(g_ab), rtol=1e-12)
    np.testing.assert_allclose(out["j_re_mhz"], c.exchange[:, 0, 1].real / MHz, atol=1e-14)
    np.testing.assert_allclose(out["lamb_shift_a_mhz"], c.lamb_shift[:, 0] / MHz, atol=1e-14)
    np.testing.assert_allclose(out["lamb_shift_mhz"]["B"], c.lamb_shift[:, 1] / MHz, atol=1e-14)
    band = (4 * GHz, 5.2 * GHz)
    np.testing.assert_allclose(
        out["perfect_correlation_ghz"],
        perfect_correlation_frequencies(device, (0, 1), band) / GHz,
        rtol=1e-14,
    )
    assert out["df_frequencies_ghz"]["A"] == pytest.approx([5.0], abs=1e-9)
    assert out["df_frequencies_ghz"]["B"] == pytest.approx(
        list(decoherence_free_frequencies(device, "B", band) / GHz), rel=1e-14
    )
    # The entangling point nearest the pair's mean frequency (4.6 GHz), not 4.03 or 5.18 GHz.
    op = out["operating_point"]
    reference = entangling_operating_point(device, 0.0, band=band)
    assert op["correlation_frequency_ghz"] == pytest.approx(
        reference.correlation_frequency / GHz, rel=1e-13
    )
    assert op["drive_frequency_ghz"] == pytest.approx(
        float(reference.drive_frequency) / GHz, rel=1e-13
    )
    assert op["dark_state"] == "psi-"


def test_couplings_table_and_other_devices(capsys):
    assert main(["couplings", "--points", "5", "--pair", "B", "A"]) == 0
    out = capsys.readouterr().out
    assert "Γ_B (MHz)" in out and "perfect correlation (B, A)" in out
    assert "decoherence-free A: 5.000000 GHz" in out
    assert "entangling point" in out and "dark state psi-" in out
    # A device without a perfect-correlation point: the table still prints, the point is "none".
    assert main(["couplings", "--preset", "braided_pair", "--points", "3"]) == 0
    assert "entangling point: none" in capsys.readouterr().out


def test_couplings_one_atom_device(tmp_path, capsys):
    text = presets.text("sequential_pair")
    one_atom = text[: text.index("[[atoms]]", text.index("[[atoms]]") + 1)]
    path = tmp_path / "one.toml"
    path.write_text(one_atom)
    out = run_json(capsys, ["couplings", "--device", str(path), "--points", "4"])
    assert out["pair"] is None and out["atoms"] == ["A"]
    assert out["df_frequencies_ghz"]["A"] == pytest.approx([5.0], abs=1e-9)
    assert main(["couplings", "--device", str(path), "--points", "4"]) == 0
    assert "Γ_A (MHz)" in capsys.readouterr().out
    assert_one_line_error(
        capsys, ["steady", "--device", str(path), "--power", "-130dBm", "--detuning", "1MHz"]
    )


# ---------------------------------------------------------------------------- steady


def _library_steady(device, drive_frequency, frequencies, power, target):
    me = master_equation(device, Drive(drive_frequency, power), frequencies=frequencies)
    rho = steady_state(me).rho
    return me, rho


def test_steady_entangling_point_matches_library(capsys):
    out = run_json(capsys, ["steady", "--power", "-130dBm", "--detuning", "1MHz"])
    device = presets.load("sequential_pair")
    op = entangling_operating_point(device, 1 * MHz)
    me, rho = _library_steady(device, op.drive_frequency, op.frequencies, -130.0, "psi-")
    assert out["target"] == "psi-" and out["operating_point"] == "entangling"
    assert out["drive_frequency_ghz"] == pytest.approx(float(op.drive_frequency) / GHz, rel=1e-14)
    assert out["atom_frequencies_ghz"]["A"] == pytest.approx(op.frequencies[0] / GHz, rel=1e-14)
    assert out["atom_detunings_mhz"]["A"] == pytest.approx(1.0, abs=1e-9)  # dressed at ω_d ± δ
    assert out["atom_detunings_mhz"]["B"] == pytest.approx(-1.0, abs=1e-9)
    assert abs(out["bell_fidelity_optimized"] - bell_fidelity(rho, optimize_phases=True)) < 1e-10
    assert abs(out["bell_fidelity"] - bell_fidelity(rho)) < 1e-10
    assert abs(out["concurrence"] - concurrence(rho)) < 1e-10
    assert abs(out["purity"] - purity(rho)) < 1e-10
    assert abs(out["excited_population"]["B"] - excited_population(rho, 1)) < 1e-10
    gap = float(liouvillian_gap(me).gap)
    assert out["gap_mhz"] == pytest.approx(gap / MHz, rel=1e-9)
    assert out["relaxation_time_us"] == pytest.approx(1 / gap / us, rel=1e-9)
    assert out["solver"]["converged"] and out["solver"]["method"] == "dense"
    assert 0.85 < out["bell_fidelity_optimized"] < 0.9  # the paper's ~0.89 regime


def test_steady_given_frequencies_and_text(capsys):
    argv = [
        "steady",
        "--power=-128dBm",
        "--drive-frequency",
        "4.602GHz",
        "--atom-frequency",
        "A=4.60GHz",
        "--atom-frequency",
        "B=4.601 GHz",
        "--offset",
        "-0.1MHz",
        "--target",
        "psi+",
    ]
    out = run_json(capsys, argv)
    device = presets.load("sequential_pair")
    freqs = np.array([4.6, 4.601]) * GHz
    _, rho = _library_steady(device, 4.602 * GHz - 0.1 * MHz, freqs, -128.0, "psi+")
    assert out["operating_point"] == "given" and out["target"] == "psi+"
    assert out["drive_frequency_ghz"] == pytest.approx(4.6019, rel=1e-14)
    assert abs(out["bell_fidelity"] - bell_fidelity(rho, "psi+")) < 1e-10
    assert main(argv) == 0
    text = capsys.readouterr().out
    for fragment in ("Bell fidelity", "optimised over local Z", "concurrence", "purity", "µs"):
        assert fragment in text
    assert "4.601900 GHz" in text and "1/gap" in text and "min eigenvalue" in text


def test_steady_non_unique_is_an_error(capsys):
    # Lossless atoms with perfectly correlated decay and δ = 0: the dark singlet and the driven
    # bright-state steady state coexist.
    line = assert_one_line_error(
        capsys,
        [
            "steady",
            "--preset",
            "small_atoms_one_wavelength",
            "--power",
            "-130dBm",
            "--detuning",
            "0MHz",
        ],
        "no unique steady state",
    )
    assert "condition estimate" in line


def test_steady_inconsistent_options(capsys):
    assert_one_line_error(capsys, ["steady", "--power", "-130dBm"], "--detuning")
    assert_one_line_error(
        capsys,
        ["steady", "--power", "-130dBm", "--detuning", "1MHz", "--atom-frequency", "A=4.6GHz"],
        "--drive-frequency",
    )
    assert_one_line_error(
        capsys,
        [
            "steady",
            "--power",
            "-130dBm",
            "--drive-frequency",
            "4.6GHz",
            "--atom-frequency",
            "C=4.6GHz",
        ],
        "unknown atom 'C'",
    )
    assert_one_line_error(
        capsys,
        ["steady", "--preset", "braided_pair", "--power", "-130dBm", "--detuning", "1MHz"],
        "no perfect-correlation frequency",
    )


# ---------------------------------------------------------------------------- protocol

PROTOCOL = """\
device = "sequential_pair"
times = ["end_drive", "end_ramp", "end", "0.5us"]

[drive]
power = "-130dBm"
detuning = "1MHz"

[protocol]
t_drive = "2us"
ramp_time = "10ns"
t_store = "0.5us"
"""


def test_protocol_matches_run_protocol(tmp_path, capsys):
    path = tmp_path / "run.toml"
    path.write_text(PROTOCOL)
    out_file = tmp_path / "result.nc"
    out = run_json(capsys, ["protocol", str(path), "--out", str(out_file)])
    device = presets.load("sequential_pair")
    protocol = driven_dissipative(
        device, power_dbm=-130.0, detuning=1 * MHz, t_drive=2 * us, ramp_time=10 * ns,
        t_store=0.5 * us,
    )  # fmt: skip
    times = np.array([0.5, 2.0, 2.01, 2.51]) * us
    result = run_protocol(device, protocol, times)
    np.testing.assert_allclose(out["time_us"], times / us, rtol=1e-14)
    assert out["instant"] == ["", "end_drive", "end_ramp", "end"]
    assert out["segment"] == ["drive", "drive", "ramp", "store"]
    assert out["target"] == "psi-"
    np.testing.assert_allclose(out["bell_fidelity"], result.bell_fidelity, atol=1e-10)
    assert abs(out["bell_fidelity_optimized"][-1] - result.bell_fidelity_optimized[-1]) < 1e-10
    np.testing.assert_allclose(out["concurrence"], result.concurrence, atol=1e-10)
    np.testing.assert_allclose(out["leakage"], result.leakage, atol=1e-12)
    assert out["atom_frequencies_ghz"]["A"][-1] == pytest.approx(5.0, abs=1e-9)  # DF point

    import xarray as xr

    with xr.open_dataset(out_file) as ds:
        assert ds.time.attrs["units"] == "us"
        assert ds.bell_fidelity.attrs["units"] == "1"
        np.testing.assert_allclose(ds.bell_fidelity_optimized, result.bell_fidelity_optimized)
        assert list(ds.segment.values) == ["drive", "drive", "ramp", "store"]
        assert ds.atom_frequency.attrs["units"] == "GHz"
        assert ds.attrs["target"] == "psi-"


def test_protocol_table_range_and_options(tmp_path, capsys):
    (tmp_path / "chip.toml").write_text(presets.text("sequential_pair"))
    path = tmp_path / "run.toml"
    path.write_text(
        PROTOCOL.replace('device = "sequential_pair"', 'device = "chip.toml"')
        .replace(
            'times = ["end_drive", "end_ramp", "end", "0.5us"]',
            'times = {start = "end_drive", stop = "end", num = 3}\ntarget = "psi+"',
        )
        .replace('t_store = "0.5us"', 't_store = "0.5us"\nafter_drive = "stay"')
    )
    assert main(["protocol", str(path)]) == 0
    text = capsys.readouterr().out
    assert "time (µs)" in text and "F(opt)" in text and "leakage" in text
    assert "target psi+" in text and "end_drive" in text
    rows = [line for line in text.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == 3


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (("[drive]", "[drive]\nfrequency = '4.6GHz'"), "unknown keys ['frequency']"),
        (("times =", "tmes = 1\ntimes ="), "unknown keys ['tmes']"),
        (("[protocol]", "[protocol]\nramp = '1ns'"), "unknown keys ['ramp']"),
        (('detuning = "1MHz"', 'detuning = "30us"'), "'30us' is a time"),
        (('t_drive = "2us"', "t_drive = 2"), "give the unit"),
        (('device = "sequential_pair"', 'device = "no_such_chip"'), "unknown preset"),
        (('device = "sequential_pair"', 'device = "missing.toml"'), "missing.toml"),
        (('"end", "0.5us"', '"end", "5us"'), "after the end"),
        (('power = "-130dBm"', 'power = "-130 parsec"'), "unknown power unit 'parsec'"),
    ],
)
def test_protocol_bad_files(tmp_path, capsys, change, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(PROTOCOL.replace(*change, 1))
    assert_one_line_error(capsys, ["protocol", str(path)], fragment)


def test_protocol_missing_file(tmp_path, capsys):
    assert_one_line_error(capsys, ["protocol", str(tmp_path / "nope.toml")], "does not exist")


# ---------------------------------------------------------------------------- spectrum


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


# ---------------------------------------------------------------------------- help, bad input


@pytest.mark.parametrize("command", ["couplings", "steady", "protocol", "spectrum"])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert f"giantatoms {command}" in text and "--json" in text
    if command == "protocol":
        assert "[drive]" in text and "after_drive" in text and "end_drive" in text


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["couplings", "--from", "4.6 parsec"], "unknown frequency unit 'parsec'"),
        (["couplings", "--from", "30us"], "'30us' is a time"),
        (["couplings", "--from", "5GHz", "--to", "4GHz"], "--from < --to"),
        (["couplings", "--preset", "no_such_chip"], "unknown preset"),
        (["couplings", "--pair", "A", "Z"], "unknown atom 'Z'"),
        (["couplings", "--points", "1"], "at least 2 points"),
        (["steady", "--power", "-130GHz", "--detuning", "1MHz"], "unknown power unit"),
        (["steady", "--detuning", "1MHz"], "--power"),
        (["steady", "--device", "missing.toml", "--power", "-130dBm"], "missing.toml"),
        (["spectrum", "--fit", "missing.csv"], "no data file"),
        (["spectrum", "--model", "fano"], "give --fit"),
        (["spectrum", "--to", "4.6 parsec"], "parsec"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_input_one_line(argv, fragment, capsys):
    assert_one_line_error(capsys, argv, fragment)


def test_negative_quantities_are_values(capsys):
    # "-130dBm" and "-0.5MHz" look like options to plain argparse.
    out = run_json(capsys, ["steady", "--power", "-130dBm", "--detuning", "-1MHz"])
    assert out["atom_detunings_mhz"]["A"] == pytest.approx(-1.0, abs=1e-9)


def test_debug_shows_traceback():
    with pytest.raises(ValueError, match="unknown preset"):
        main(["--debug", "couplings", "--preset", "no_such_chip"])


# ---------------------------------------------------------------------------------------------
# tomography


def _counts_file(tmp_path, readout):
    from giantatoms.measure.metrics import bell_state
    from giantatoms.measure.tomography import simulate_counts

    psi = bell_state("psi-")
    rho = 0.9 * np.outer(psi, psi.conj()) + 0.1 * np.eye(4) / 4
    path = tmp_path / "counts.csv"
    simulate_counts(rho, shots=3000, readout=readout, seed=5).to_csv(path)
    return path


def test_tomography_command_matches_the_library(tmp_path, capsys):
    from giantatoms.measure.tomography import (
        ReadoutModel,
        TomographyData,
        bell_fidelity_with_errors,
    )

    readout = ReadoutModel.from_fidelities(0.98, 0.95)
    path = _counts_file(tmp_path, readout)
    out = tmp_path / "rho.nc"
    code = main(
        [
            "tomography",
            str(path),
            "--readout",
            "0.98,0.95",
            "--seed",
            "3",
            "--bootstrap",
            "50",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    got = json.loads(capsys.readouterr().out)
    data = TomographyData.from_csv(path, readout=readout)
    expected = bell_fidelity_with_errors(data, bootstrap=50, seed=3)
    assert got["state"] == expected.state == "psi-"
    assert got["fidelity"] == pytest.approx(expected.value, abs=1e-12)
    assert got["std"] == pytest.approx(expected.std, abs=1e-12)
    assert abs(got["fidelity"] - (0.9 + 0.1 / 4)) < 0.03
    rho = np.array(got["rho_real"]) + 1j * np.array(got["rho_imag"])
    assert np.linalg.eigvalsh(rho).min() > -1e-9
    assert out.exists()
    # Correlated readout given as a confusion matrix; the text output.
    confusion = tmp_path / "confusion.csv"
    np.savetxt(confusion, readout.assignment, delimiter=",")
    assert (
        main(
            [
                "tomography",
                str(path),
                "--confusion",
                str(confusion),
                "--seed",
                "3",
                "--bootstrap",
                "20",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "Bell fidelity to psi-" in text and "Re ρ" in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--readout", "0.98"], "2 or 4 numbers"),
        (["--readout", "high,low"], "--readout takes"),
        (["--phases", "1,2,3"], "two numbers"),
        (["--readout", "0.98,0.95", "--confusion", "c.csv"], "either --readout or --confusion"),
    ],
)
def test_tomography_command_bad_input(tmp_path, capsys, extra, message):
    path = _counts_file(tmp_path, None)
    assert main(["tomography", str(path), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("giantatoms: error:") and err.count("\n") == 1 and message in err


def test_tomography_command_missing_file(tmp_path, capsys):
    assert main(["tomography", str(tmp_path / "nothing.csv")]) == 2
    assert capsys.readouterr().err.startswith("giantatoms: error:")
