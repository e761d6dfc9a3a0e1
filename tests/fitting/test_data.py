"""SpectroscopyData: the constructor and the array, scattering and CSV loaders, and the hostile
input every loader refuses (unsorted or repeated points, empty, binary or missing files)."""

from __future__ import annotations

import numpy as np
import pytest

import giantatoms as ga
from giantatoms.fitting import Background, SpectroscopyData, fit_lorentzian
from giantatoms.units import GHz

from tests.fitting.conftest import (
    F_HZ,
    S11_LINE,
    S21_LINE,
    SIGMA,
    SMALL,
    SMALL_TRUE,
    W_SMALL,
    assert_within,
    one_line_error,
    small_atom_data,
    swapped,
    write_csv,
)


def test_csv_round_trip_fit(tmp_path):
    data = small_atom_data(9)
    f_hz = data.frequencies / (2 * np.pi)
    s21 = data.s21
    # Real/imaginary with a header, columns by name.
    path = tmp_path / "real_imag.csv"
    table = np.column_stack([f_hz, s21.real, s21.imag])
    np.savetxt(
        path, table, delimiter=",", header="frequency_hz,re_s21,im_s21", comments="", fmt="%.17g"
    )
    read = SpectroscopyData.from_csv(
        path,
        unit="Hz",
        frequency_column="frequency_hz",
        s21_columns=("re_s21", "im_s21"),
        sigma=SIGMA,
    )
    np.testing.assert_allclose(read.frequencies, data.frequencies, rtol=1e-15)
    np.testing.assert_allclose(read.s21, s21, atol=1e-15)
    # Magnitude in dB and phase in degrees, GHz, whitespace-separated, columns by position.
    path = tmp_path / "db_deg.txt"
    table = np.column_stack([f_hz / 1e9, 20 * np.log10(np.abs(s21)), np.angle(s21, deg=True)])
    np.savetxt(path, table, fmt="%.17g")
    read = SpectroscopyData.from_csv(path, unit="GHz", layout="db,deg", sigma=SIGMA)
    np.testing.assert_allclose(read.s21, s21, rtol=1e-12)
    fit = fit_lorentzian(read)
    assert_within(fit, SMALL_TRUE)
    assert str(path) == read.source


def test_csv_header_names(tmp_path):
    path = tmp_path / "named.csv"
    path.write_text(
        "# exported by a VNA\nFreq (GHz);S11 re;S11 im;S21 re;S21 im\n"
        "5.0;0.1;0.2;0.9;-0.1\n5.1;0.1;0.3;0.8;-0.2\n",
        encoding="utf-8",
    )
    data = SpectroscopyData.from_csv(
        path,
        unit="GHz",
        frequency_column="freq (ghz)",
        s21_columns=("S21 re", "S21 im"),
        s11_columns=(1, 2),
    )
    np.testing.assert_allclose(data.frequencies, [5.0 * GHz, 5.1 * GHz])
    np.testing.assert_allclose(data.s21, [0.9 - 0.1j, 0.8 - 0.2j])
    np.testing.assert_allclose(data.s11, [0.1 + 0.2j, 0.1 + 0.3j])
    with pytest.raises(ValueError, match="no column 'S22 re'"):
        SpectroscopyData.from_csv(path, unit="GHz", s21_columns=("S22 re", "S22 im"))


def test_crop():
    data = small_atom_data(0)
    window = data.crop(4.99 * GHz, 5.01 * GHz)
    assert window.frequencies.min() >= 4.99 * GHz and window.frequencies.max() <= 5.01 * GHz
    assert window.n_points == np.count_nonzero(
        (data.frequencies >= 4.99 * GHz) & (data.frequencies <= 5.01 * GHz)
    )
    with pytest.raises(ValueError, match="no points between"):
        data.crop(6 * GHz, 7 * GHz)


def test_from_scattering_without_background():
    result = ga.scattering(SMALL, W_SMALL)
    data = SpectroscopyData.from_scattering(result, traces=("s21",), sigma=1e-3)
    assert data.convention == "physics"
    fit = fit_lorentzian(data, background=Background(), vary_background=())
    for name, true in SMALL_TRUE.items():
        assert fit.parameters[name] == pytest.approx(true, rel=1e-7)


@pytest.mark.parametrize(
    ("frequencies", "s21", "match"),
    [
        ([1.0, 2.0, 3.0], [1, np.nan, 1], "s21 contains NaN at index 1"),
        ([1.0, 2.0, 3.0], [1, np.inf, 1], "s21 contains inf"),
        ([1.0, 2.0, 3.0], [1, 1], "mismatched lengths"),
        ([], [], "empty"),
        ([1.0, 1.0, 2.0], [1, 2, 1], "more than once with different data"),
        ([1.0, np.nan, 2.0], [1, 1, 1], "frequencies must not be NaN"),
        ([-1.0, 1.0, 2.0], [1, 1, 1], "frequencies must be > 0"),
    ],
)
def test_bad_data_is_rejected(frequencies, s21, match):
    with pytest.raises(ValueError, match=match):
        SpectroscopyData.from_arrays(frequencies, s21, unit="GHz", convention="engineering")


@pytest.mark.parametrize("frequencies", [[1.0, 3.0, 2.0], [1.0, 1.0, 2.0]])
def test_constructor_requires_increasing_frequencies(frequencies):
    # The dataclass itself never reorders: only the from_* loaders sort (with a warning).
    with pytest.raises(ValueError, match="strictly increasing"):
        SpectroscopyData(np.array(frequencies) * GHz, [1, 1, 1], convention="engineering")


def test_bad_constructor_arguments():
    w = [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="at least one of s21 and s11"):
        SpectroscopyData.from_arrays(w, unit="GHz", convention="engineering")
    with pytest.raises(ValueError, match="unit must be one of"):
        SpectroscopyData.from_arrays(w, [1, 1, 1], unit="THz", convention="engineering")
    with pytest.raises(ValueError, match="convention must be one of"):
        SpectroscopyData.from_arrays(w, [1, 1, 1], unit="GHz", convention="vna")
    with pytest.raises(ValueError, match="sigma must be > 0"):
        SpectroscopyData.from_arrays(w, [1, 1, 1], unit="GHz", convention="physics", sigma=-1)
    with pytest.raises(ValueError, match="sigma must be a scalar or have one value per point"):
        SpectroscopyData(w, [1, 1, 1], convention="physics", sigma=[1, 1])
    with pytest.raises(ValueError, match="layout must be one of"):
        SpectroscopyData.from_csv("nowhere.csv", unit="Hz", layout="polar")


@pytest.mark.parametrize("name", ["empty.s2p", "empty.s1p", "empty.csv", "comments.s2p"])
def test_empty_files_are_refused(tmp_path, name):
    path = tmp_path / name
    path.write_text("! nothing here\n" if name.startswith("comments") else "", encoding="utf-8")
    with pytest.raises(ValueError, match=r"empty|no data") as excinfo:
        if path.suffix == ".csv":
            SpectroscopyData.from_csv(path, unit="Hz")
        else:
            SpectroscopyData.from_touchstone(path, parameters="s11")
    one_line_error(excinfo, path)


@pytest.mark.parametrize("suffix", [".s2p", ".s1p", ".csv"])
@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        np.random.default_rng(0).bytes(600),
    ],
    ids=["png", "random"],
)
def test_binary_files_are_refused(tmp_path, suffix, content):
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a text") as excinfo:
        if suffix == ".csv":
            SpectroscopyData.from_csv(path, unit="Hz")
        else:
            SpectroscopyData.from_touchstone(path, parameters="s11")
    one_line_error(excinfo, path)


def test_missing_files_name_the_path(tmp_path):
    for name in ("absent.s2p", "absent.csv"):
        path = tmp_path / name
        with pytest.raises(FileNotFoundError, match="absent") as excinfo:
            if name.endswith(".csv"):
                SpectroscopyData.from_csv(path, unit="Hz")
            else:
                SpectroscopyData.from_touchstone(path)
        assert str(path) in str(excinfo.value)


def test_csv_unsorted_and_repeated_rows(tmp_path):
    path = write_csv(tmp_path / "swapped.csv", swapped(F_HZ.size, 100))
    with pytest.warns(UserWarning, match="2 of 401 points were out of frequency order"):
        data = SpectroscopyData.from_csv(path, unit="Hz")
    np.testing.assert_allclose(data.frequencies, W_SMALL, rtol=1e-15)
    np.testing.assert_array_equal(data.s21, S21_LINE)
    # A reversed sweep is sorted too.
    with pytest.warns(UserWarning, match="400 of 401 points"):
        data = SpectroscopyData.from_csv(
            write_csv(tmp_path / "down.csv", np.arange(401)[::-1]), unit="Hz"
        )
    np.testing.assert_array_equal(data.s21, S21_LINE)
    # An exact repeat is dropped with a warning; a conflicting one is refused.
    rows = np.insert(np.arange(F_HZ.size), 5, 5)
    with pytest.warns(UserWarning, match="dropped 1 exactly repeated"):
        data = SpectroscopyData.from_csv(write_csv(tmp_path / "twice.csv", rows), unit="Hz")
    assert data.n_points == 401
    path = tmp_path / "conflict.csv"
    path.write_text("f,re,im\n1.0,0.5,0.1\n2.0,0.4,0.2\n2.0,0.3,0.2\n3.0,0.5,0.1\n", "utf-8")
    with pytest.raises(ValueError, match=r"1 frequency value\(s\) appear .* \(2 GHz\)") as excinfo:
        SpectroscopyData.from_csv(path, unit="GHz")
    one_line_error(excinfo, path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("f,re,im\n1.0,0.5,0.1\n2.0,abc,0.2\n", r"line 3, column 1: 'abc' is not a number"),
        ("1.0,0.5,0.1\n2.0,,0.2\n", r"line 2, column 1: '' is not a number"),
        ("abc,0.5,0.1\n2.0,0.4,0.2\n", r"line 1, column 0: 'abc' is not a number"),
        ("1.0,0.5,0.1\n2.0,0.4\n", r"line 2: 2 fields, but the first data row has 3"),
        ("1.0,0.5,0.1\n2.0,nan,0.2\n", r"s21 contains NaN at index 1"),
        ("f,re,im\n", "header but no data rows"),
    ],
    ids=["word", "blank", "first-row", "ragged", "nan", "header-only"],
)
def test_csv_bad_fields(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=match) as excinfo:
        SpectroscopyData.from_csv(path, unit="GHz")
    one_line_error(excinfo, path)


def test_from_arrays_sorts_everything_together():
    rng = np.random.default_rng(8)
    order = rng.permutation(F_HZ.size)
    sigma = np.linspace(0.01, 0.02, F_HZ.size)
    with pytest.warns(UserWarning, match=r"\d+ of 401 points were out of frequency order"):
        data = SpectroscopyData.from_arrays(
            F_HZ[order],
            S21_LINE[order],
            S11_LINE[order],
            unit="Hz",
            convention="engineering",
            sigma=sigma[order],
        )
    np.testing.assert_allclose(data.frequencies, W_SMALL, rtol=1e-15)
    np.testing.assert_array_equal(data.s21, S21_LINE)
    np.testing.assert_array_equal(data.s11, S11_LINE)
    np.testing.assert_array_equal(data.sigma, sigma)
    # Repeats: identical rows are dropped with a warning, different ones refused.
    with pytest.warns(UserWarning, match="dropped 2 exactly repeated"):
        data = SpectroscopyData.from_arrays(
            [1.0, 2.0, 2.0, 2.0, 3.0], [1, 2, 2, 2, 3], unit="GHz", convention="physics"
        )
    np.testing.assert_array_equal(data.s21, [1, 2, 3])
    with pytest.raises(ValueError, match=r"1 frequency value\(s\) .* \(2 GHz\)"):
        SpectroscopyData.from_arrays([1.0, 2.0, 2.0], [1, 2, 3], unit="GHz", convention="physics")
    with pytest.raises(ValueError, match=r"different data \(2 GHz\)"):  # σ tells them apart
        SpectroscopyData.from_arrays(
            [1.0, 2.0, 2.0], [1, 2, 2], unit="GHz", convention="physics", sigma=[1, 1, 2]
        )
    with pytest.raises(ValueError, match=r"sigma has shape \(2,\) .*mismatched lengths"):
        SpectroscopyData.from_arrays(
            [2.0, 1.0, 3.0], [1, 2, 3], unit="GHz", convention="physics", sigma=[1, 2]
        )
    with pytest.raises(ValueError, match=r"2 frequency value\(s\) .* \(2, 5 GHz\)"):
        SpectroscopyData.from_arrays(
            [5.0, 1.0, 2.0, 2.0, 5.0], [1, 1, 2, 3, 2], unit="GHz", convention="physics"
        )


@pytest.mark.parametrize("unit", ["mhz", "MHZ", "mHz", "ghz", "Ghz"])
def test_frequency_units_are_case_sensitive(unit):
    with pytest.raises(ValueError, match="unit must be one of"):
        SpectroscopyData.from_arrays(
            [1.0, 2.0, 3.0], s21=[1, 0.5, 1], unit=unit, convention="physics"
        )
