"""``giantatoms couplings``: rates against frequency, checked against the library."""

import numpy as np
import pytest

from giantatoms import presets
from giantatoms.cli import main
from giantatoms.model.couplings import (
    decoherence_free_frequencies,
    entangling_operating_point,
    perfect_correlation_frequencies,
)
from giantatoms.units import GHz, MHz

from tests.cli._helpers import assert_one_line_error, run_json


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
