"""``giantatoms distance``."""

from __future__ import annotations

import xarray as xr

from giantatoms.cli import main

from tests.cli._helpers import assert_one_line_error, run_json


def test_distance_writes_data_and_a_summary(capsys, tmp_path):
    argv = ["distance", "--preset", "small_atoms_one_wavelength", "--points", "3"]
    argv += ["--ramps-ns", "5"]
    out = run_json(capsys, [*argv, "--storage-us", "0.5", "--out", str(tmp_path), "--no-figures"])
    assert out["markov_bell_fidelity_optimized"] == [1.0, 1.0, 1.0] or all(
        abs(f - 1) < 1e-9 for f in out["markov_bell_fidelity_optimized"]
    )
    assert out["bell_fidelity_optimized"][-1] < out["bell_fidelity_optimized"][0]
    ds = xr.load_dataset(tmp_path / "distance.nc")
    assert ds.sizes == {"separation": 3, "time": 41}
    assert out["transfer"]["ramp_time_ns"] == [5.0]
    assert (tmp_path / "transfer.nc").is_file()
    assert main([*argv, "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "Γτ" in printed and "distance.png" in printed
    assert (tmp_path / "distance.png").is_file()


def test_distance_bad_input_is_one_line(capsys, tmp_path):
    assert_one_line_error(capsys, ["distance", "--points", "1", "--out", str(tmp_path)], "points")
    assert_one_line_error(
        capsys, ["distance", "--storage-us", "0", "--out", str(tmp_path)], "storage"
    )
    assert_one_line_error(
        capsys, ["distance", "--ramps-ns", "-3", "--out", str(tmp_path)], "ramps-ns"
    )
