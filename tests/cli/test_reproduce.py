"""``giantatoms reproduce``: the table, summary, data and figures; ``--set`` overrides."""

import json
import re

import numpy as np
import pytest

from giantatoms.cli import main


def test_reproduce_fast_writes_summary_data_and_figures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["reproduce", "--fast", "--out", str(tmp_path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    stored = json.loads((tmp_path / "summary.json").read_text())
    assert printed["table"] == stored["table"]
    table = {row["quantity"]: row for row in printed["table"]}
    # Every row has a finite number; the paper's three headline numbers are in the table.
    for row in printed["table"]:
        number = re.search(r"[-+]?\d+(?:\.\d+)?", row["simulation"])
        assert number and np.isfinite(float(number.group())), row
    assert table["Bell fidelity after transfer, tomography"]["paper"] == "0.89 ± 0.02"
    assert abs(printed["broadening_analytic"] - 8.0) < 0.1  # 2Γ = 8γ at the in-phase point
    assert abs(printed["df_frequencies_ghz"][0] - 5.0) < 1e-9
    assert 0.5 < printed["best_bell_fidelity"] < 1.0
    assert printed["fidelity_after_storage_if_staying"] < 0.2
    for name in ("spectroscopy", "fidelity_map", "protocol", "tomography"):
        assert (tmp_path / f"{name}.nc").exists()
    for name in ("rates", "spectroscopy_map", "fidelity_map", "fidelity_vs_time", "density_matrix"):
        assert (tmp_path / f"{name}.png").stat().st_size > 0


def test_reproduce_table_output(tmp_path, capsys):
    assert main(["reproduce", "--quick", "--quiet", "--no-figures", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "quantity" in out and "0.89 ± 0.02" in out and "29.5" in out and "[R]" in out
    assert not list(tmp_path.glob("*.png"))


def test_reproduce_set_overrides_an_assumption(tmp_path, capsys):
    args = ["reproduce", "--fast", "--no-figures", "--json", "--out", str(tmp_path)]
    assert main([*args, "--set", "shots_per_setting=300", "--set", "ramp_time_ns=20"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["assumptions"]["ramp_time_ns"] == 20.0
    table = {row["quantity"]: row for row in summary["table"]}
    assert "300 shots" in table["Bell fidelity after transfer, tomography"]["note"]
    assert main([*args, "--set", "ramp_time_ns"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
