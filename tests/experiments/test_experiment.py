"""The experiment end to end (fast settings): every stage, the table, the files."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import xarray as xr

import giantatoms as ga
from giantatoms.experiments.reproduce import ASSUMPTIONS, PAPER, reproduce

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def run():
    import matplotlib

    matplotlib.use("Agg")
    return reproduce(ga.presets.load("sequential_pair"), fast=True)


def _number(text: str) -> float:
    match = re.search(r"[-+]?\d+(?:\.\d+)?", text)
    assert match, f"no number in {text!r}"
    return float(match.group())


def test_table_has_every_row_with_finite_values(run):
    quantities = [row["quantity"] for row in run.table]
    for needed in (
        "bright-mode broadening",
        "coherence T2 at the DF point",
        "stabilisation time",
        "Bell fidelity after transfer, tomography",
        "steady-state Bell fidelity",
    ):
        assert any(q.startswith(needed) for q in quantities), needed
    for row in run.table:
        assert math.isfinite(_number(row["simulation"])), row
    paper_rows = {row["paper"] for row in run.table}
    assert {PAPER["bell_fidelity"], PAPER["coherence_us"], PAPER["broadening"]} <= paper_rows
    assert any("[R]" in row["note"] for row in run.table)  # reconstructed inputs are marked


def test_physics_of_the_reproduction(run):
    s = run.summary
    assert abs(s["broadening_analytic"] - 8.0) < 0.1  # 2Γ = 8γ at the in-phase point
    assert abs(s["broadening_fit"] - s["broadening_analytic"]) < 0.5  # the fitted line agrees
    assert s["max_relative_gamma_error"] < 0.05
    assert abs(s["df_frequencies_ghz"][0] - 5.0) < 1e-9
    assert abs(s["t2_df_us"][0] - s["t2_df_expected_us"][0]) / s["t2_df_expected_us"][0] < 0.05
    assert abs(s["fitted_stabilisation_time_us"] / s["stabilisation_time_us"] - 1) < 1e-2
    assert s["fidelity_after_transfer"] < s["fidelity_end_of_drive"]
    assert s["fidelity_after_slow_transfer"] < s["fidelity_after_transfer"]
    assert s["fidelity_after_storage_if_staying"] < 0.2 < s["fidelity_after_storage"]
    # Tomography measures the transferred state: within a few error bars of its fidelity,
    # and readout errors without mitigation bias it low.
    assert (
        abs(s["tomography_fidelity"] - s["fidelity_after_transfer"])
        < 4 * s["tomography_fidelity_std"] + 0.01
    )
    assert s["tomography_fidelity_unmitigated"] < s["tomography_fidelity"]
    assert s["assumptions"]["ramp_time_ns"] == ASSUMPTIONS["ramp_time_ns"][0]


def test_files_written(run, tmp_path):
    written = run.write(tmp_path)
    names = {p.name for p in written}
    for name in ("spectroscopy", "fidelity_map", "protocol", "tomography"):
        assert f"{name}.nc" in names
        ds = xr.open_dataset(tmp_path / f"{name}.nc")
        assert ds.data_vars
        ds.close()
    for name in ("rates", "spectroscopy_map", "fidelity_map", "fidelity_vs_time", "density_matrix"):
        png = tmp_path / f"{name}.png"
        assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["table"] == run.table
    tomo = xr.open_dataset(tmp_path / "tomography.nc")
    rho = tomo.rho_real.values + 1j * tomo.rho_imag.values
    assert np.linalg.eigvalsh(rho).min() > -1e-9 and abs(np.trace(rho) - 1) < 1e-9
    tomo.close()


def test_reproduce_checks_its_input():
    chip = ga.presets.load("sequential_pair")
    single = ga.Device(waveguide=chip.waveguide, atoms=[chip.atoms[0]])
    with pytest.raises(ValueError, match="at least two atoms"):
        reproduce(single, fast=True, figures=False)
    with pytest.raises(ValueError, match="different atoms"):
        reproduce(chip, pair=("A", "A"), fast=True, figures=False)
    with pytest.raises(TypeError, match="Device"):
        reproduce("sequential_pair", fast=True)


def test_assumptions_can_be_overridden_and_are_checked():
    chip = ga.presets.load("sequential_pair")
    worse = reproduce(chip, fast=True, figures=False, assumptions={"readout_fidelity_e": 0.85})
    assert worse.summary["assumptions"]["readout_fidelity_e"] == 0.85
    assert worse.summary["tomography_fidelity_unmitigated"] < 0.75
    for bad, message in (
        ({"colour": 1}, "unknown key"),
        ({"readout_fidelity_g": 1.5}, "in \\(0.5, 1\\]"),
        ({"shots_per_setting": 10.5}, "positive integer"),
        ({"ramp_time_ns": -1}, "> 0"),
    ):
        with pytest.raises(ValueError, match=message):
            reproduce(chip, fast=True, figures=False, assumptions=bad)


def test_line_fit_figure(run):
    fig = ga.plotting.plot_line_fits(run.datasets["spectroscopy"])
    assert len(fig.axes) == 2 and "MHz" in fig.axes[0].get_ylabel()
    with pytest.raises(ValueError, match="dataset"):
        ga.plotting.plot_line_fits(run.datasets["protocol"])


@pytest.mark.parametrize(
    ("preset", "message"),
    [
        ("braided_pair", "no entangling point"),
        ("small_atoms_one_wavelength", "no decoherence-free point"),
    ],
)
def test_reproduce_explains_devices_the_scheme_does_not_apply_to(preset, message):
    with pytest.raises(ValueError, match=message):
        reproduce(ga.presets.load(preset), fast=True, figures=False)
