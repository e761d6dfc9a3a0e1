"""``giantatoms tomography``: reconstruction and Bell fidelity against the library; bad input."""

import json

import numpy as np
import pytest

from giantatoms.cli import main


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
