import json

import numpy as np

from giantatoms.cli import main


def test_reproduce_quick_writes_summary(tmp_path, capsys):
    assert main(["reproduce", "--quick", "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == json.loads((tmp_path / "summary.json").read_text())
    table = {row["quantity"]: row for row in summary["table"]}
    # The reconstructed chip: in-phase bright mode 2Γ = 8γ, DF point at 5 GHz.
    broadening = float(table["bright-mode broadening, max over band (× γ)"]["simulation"])
    assert abs(broadening - 8.0) < 0.1  # 2Γ = 8γ needs φ = 2mπ and kD = nπ at once
    assert abs(summary["df_frequencies_ghz"][0] - 5.0) < 1e-9
    assert 0.5 < summary["best_bell_fidelity"] < 1.0
    data = np.load(tmp_path / "fidelity_map.npz")
    assert data["bell_fidelity"].shape == (6, 6)
    # The protocol in time: the drive reaches the steady state (8/gap), the approach is at the
    # gap rate, the transfer costs a little, a slower ramp costs more, staying loses it all.
    assert (
        abs(summary["fitted_stabilisation_time_us"] / summary["stabilisation_time_us"] - 1) < 1e-3
    )
    assert abs(summary["fidelity_end_of_drive"] - summary["best_bell_fidelity"]) < 1e-2
    assert summary["fidelity_after_slow_transfer"] < summary["fidelity_after_transfer"]
    assert summary["fidelity_after_transfer"] < summary["fidelity_end_of_drive"]
    assert summary["fidelity_after_storage"] > 0.8 * summary["fidelity_end_of_drive"]
    assert summary["fidelity_after_storage_if_staying"] < 0.1
    assert summary["protocol_max_error_estimate"] < 1e-4


def test_reproduce_table_output(tmp_path, capsys):
    assert main(["reproduce", "--quick", "--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "quantity" in out and "0.89 ± 0.02" in out


def test_presets_commands(tmp_path, capsys):
    assert main(["presets", "list"]) == 0
    assert "sequential_pair" in capsys.readouterr().out
    assert main(["presets", "show", "braided_pair"]) == 0
    assert "[[atoms]]" in capsys.readouterr().out
    target = tmp_path / "chip.toml"
    assert main(["presets", "export", "sequential_pair", "--to", str(target)]) == 0
    assert target.exists()
    capsys.readouterr()
    assert (
        main(
            [
                "reproduce",
                "--quick",
                "--quiet",
                "--device",
                str(target),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 0
    )


def test_bad_input_gives_one_line_error(tmp_path, capsys):
    assert main(["presets", "show", "no_such_chip"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("giantatoms: error:") and len(err.strip().splitlines()) == 1
    assert main(["reproduce", "--device", str(tmp_path / "missing.toml")]) == 2
