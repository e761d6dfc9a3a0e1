"""Tests of the tomography data: CSV files and clear errors for bad counts and readouts."""

from __future__ import annotations

import numpy as np
import pytest

from giantatoms.measure.tomography import (
    SETTINGS_PAULI,
    ReadoutModel,
    TomographyData,
    simulate_counts,
)

from tests.measure.tomography._states import rand_rho


def test_csv_round_trip(tmp_path, rng):
    data = simulate_counts(rand_rho(rng, 4), settings="cardinal", shots=1000, seed=1)
    path = tmp_path / "counts.csv"
    data.to_csv(path)
    assert path.read_text().splitlines()[0] == "setting,gg,ge,eg,ee"
    back = TomographyData.from_csv(path, readout=ReadoutModel.ideal())
    assert back.settings == data.settings
    assert np.array_equal(back.counts, data.counts) and back.counts.dtype == np.int64
    assert back.readout == ReadoutModel.ideal()
    expected = simulate_counts(rand_rho(rng, 4), shots=None)
    expected.to_csv(path)
    assert np.array_equal(TomographyData.from_csv(path, expected=True).counts, expected.counts)
    with pytest.raises(ValueError, match="integers"):
        TomographyData.from_csv(path)


def test_csv_accepts_comments_and_rejects_bad_header(tmp_path):
    path = tmp_path / "lab.csv"
    rows = "\n".join(f"{s},10,20,30,40" for s in SETTINGS_PAULI)
    path.write_text(f"# run 17, 2026-06-13\nsetting,gg,ge,eg,ee\n{rows}\n")
    data = TomographyData.from_csv(path)
    assert data.counts.shape == (9, 4) and np.all(data.shots == 100)
    path.write_text(f"setting,00,01,10,11\n{rows}\n")
    with pytest.raises(ValueError, match="header"):
        TomographyData.from_csv(path)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: ReadoutModel.from_confusion(np.full((4, 4), 0.3)), ValueError, "column"),
        (lambda: ReadoutModel.from_confusion(np.eye(3)), ValueError, "shape"),
        (lambda: ReadoutModel.from_confusion(np.eye(4), rows="columns"), ValueError, "rows"),
        (lambda: ReadoutModel.from_fidelities(1.2, 0.9), ValueError, "f_g"),
        (lambda: ReadoutModel.from_fidelities(0.9, [0.9, 0.9, 0.9]), ValueError, "f_e"),
        (lambda: ReadoutModel(np.eye(4), readout_time=1e-6, t1=-1.0), ValueError, "t1"),
        (
            lambda: TomographyData.from_arrays("pauli", -np.ones((9, 4), dtype=int)),
            ValueError,
            "counts",
        ),
        (lambda: TomographyData.from_arrays("pauli", np.ones((8, 4))), ValueError, "shape"),
        (lambda: TomographyData.from_arrays("pauli", np.ones((9, 3))), ValueError, "shape"),
        (lambda: TomographyData.from_arrays("pauli", np.full((9, 4), 0.5)), ValueError, "integ"),
        (lambda: TomographyData.from_arrays("pauli", np.zeros((9, 4))), ValueError, "no shots"),
        (lambda: TomographyData.from_arrays(["XW"], np.ones((1, 4))), ValueError, "unknown"),
        (lambda: TomographyData.from_arrays(["X90:Z45"], np.ones((1, 4))), ValueError, "Z45"),
        (lambda: TomographyData.from_arrays("tetra", np.ones((9, 4))), ValueError, "pauli"),
        (lambda: TomographyData.from_arrays([3], np.ones((1, 4))), TypeError, "string"),
        (
            lambda: TomographyData.from_arrays("pauli", np.ones((9, 4)), readout=np.eye(4)),
            TypeError,
            "readout",
        ),
    ],
)
def test_bad_inputs_raise_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()
