"""``giantatoms steady``: the steady state and metrics, checked against the library."""

import numpy as np
import pytest

from giantatoms import presets
from giantatoms.cli import main
from giantatoms.measure.metrics import bell_fidelity, concurrence, excited_population, purity
from giantatoms.model.couplings import entangling_operating_point
from giantatoms.model.device import Drive
from giantatoms.model.lindblad import master_equation
from giantatoms.solvers.gap import liouvillian_gap
from giantatoms.solvers.steady_state import steady_state
from giantatoms.units import GHz, MHz, us

from tests.cli._helpers import assert_one_line_error, run_json


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
