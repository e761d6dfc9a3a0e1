"""Touchstone files: round trips through scikit-rf, formats and units, and rows that are out
of order, repeated or of the wrong shape (every data row kept, one-line errors)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import skrf

from giantatoms.fitting import SpectroscopyData, fit_device, fit_lorentzian

from tests.fitting.conftest import (
    BG_GIANT,
    F_HZ,
    GIANT,
    GIANT_PARAMETERS,
    GIANT_START,
    GIANT_TRUE,
    S11_LINE,
    S21_LINE,
    SIGMA,
    W_GIANT,
    W_SMALL,
    assert_within,
    measured,
    one_line_error,
    swapped,
    write_s2p,
)


def test_touchstone_round_trip_fit(tmp_path):
    rng = np.random.default_rng(42)
    traces = measured(GIANT, W_GIANT, BG_GIANT, rng)
    s = np.zeros((W_GIANT.size, 2, 2), dtype=complex)
    s[:, 1, 0] = s[:, 0, 1] = traces["s21"]
    s[:, 0, 0] = s[:, 1, 1] = traces["s11"]
    network = skrf.Network(frequency=skrf.Frequency.from_f(W_GIANT / (2 * np.pi), unit="hz"), s=s)
    network.write_touchstone(str(tmp_path / "giant"))
    data = SpectroscopyData.from_touchstone(
        tmp_path / "giant.s2p", parameters=("s21", "s11"), sigma=SIGMA
    )
    assert data.traces == ("s21", "s11") and data.convention == "engineering"
    np.testing.assert_allclose(data.frequencies, W_GIANT, rtol=1e-12)
    np.testing.assert_allclose(data.s21, traces["s21"], atol=1e-12)
    np.testing.assert_allclose(data.s11, traces["s11"], atol=1e-12)
    fit = fit_device(data, GIANT_START, GIANT_PARAMETERS)
    assert fit.traces == ("s21", "s11")
    assert_within(fit, GIANT_TRUE)
    assert set(fit.backgrounds) == {"s21", "s11"}
    assert fit.backgrounds["s11"].delay == pytest.approx(fit.parameters["s11.delay"])


def test_touchstone_one_port_has_no_s21(tmp_path):
    f = np.linspace(4.9e9, 5.1e9, 11)
    network = skrf.Network(frequency=skrf.Frequency.from_f(f, unit="hz"), s=np.full(11, 0.5 + 0j))
    network.write_touchstone(str(tmp_path / "one"))
    with pytest.raises(ValueError, match="s21 needs a 2-port"):
        SpectroscopyData.from_touchstone(tmp_path / "one.s1p")
    assert SpectroscopyData.from_touchstone(tmp_path / "one.s1p", parameters="s11").n_points == 11


def test_touchstone_swapped_rows_keep_every_point(tmp_path):
    path = write_s2p(tmp_path / "swapped.s2p", swapped(F_HZ.size))
    # scikit-rf reads the lower frequency as the start of a noise block and drops the rest.
    assert skrf.Network(str(path)).f.size == 11
    with pytest.warns(UserWarning, match="2 of 401 points were out of frequency order"):
        data = SpectroscopyData.from_touchstone(path, parameters=("s21", "s11"))
    assert data.n_points == 401
    np.testing.assert_allclose(data.frequencies, W_SMALL, rtol=1e-15)
    np.testing.assert_array_equal(data.s21, S21_LINE)
    np.testing.assert_array_equal(data.s11, S11_LINE)
    # The sorted file reads the same, without a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = SpectroscopyData.from_touchstone(write_s2p(tmp_path / "clean.s2p"))
    np.testing.assert_array_equal(clean.frequencies, data.frequencies)
    np.testing.assert_array_equal(clean.s21, data.s21)
    # And the fit uses all of it.
    assert fit_lorentzian(data).data.n_points == 401


def test_touchstone_formats_and_units_match_scikit_rf(tmp_path):
    # dB/degrees in GHz with a 2-port noise block after the data: the same as scikit-rf.
    f_ghz = F_HZ[:50] / 1e9
    lines = ["# GHz S DB R 50"]
    for f, a, b in zip(f_ghz, S11_LINE[:50], S21_LINE[:50], strict=True):
        db = [20 * np.log10(abs(x)) for x in (a, b, b, a)]
        deg = [np.angle(x, deg=True) for x in (a, b, b, a)]
        pairs = " ".join(f"{m:.17g} {d:.17g}" for m, d in zip(db, deg, strict=True))
        lines.append(f"{f:.17g} {pairs}")
    lines += ["! noise parameters", "4.98 0.5 0.1 10 0.2", "5.0 0.6 0.1 12 0.2"]
    path = tmp_path / "db.s2p"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = SpectroscopyData.from_touchstone(path, parameters=("s21", "s11"))
    network = skrf.Network(str(path))
    np.testing.assert_allclose(data.frequencies, 2 * np.pi * network.f, rtol=1e-15)
    np.testing.assert_allclose(data.s21, network.s[:, 1, 0], rtol=1e-13)
    np.testing.assert_allclose(data.s11, network.s[:, 0, 0], rtol=1e-13)
    np.testing.assert_allclose(data.s21, S21_LINE[:50], rtol=1e-12)


def test_touchstone_repeated_frequencies(tmp_path):
    rows = np.insert(np.arange(F_HZ.size), 200, 200)  # row 200 twice, identical
    path = write_s2p(tmp_path / "twice.s2p", rows)
    with pytest.warns(UserWarning, match="dropped 1 exactly repeated row"):
        data = SpectroscopyData.from_touchstone(path)
    assert data.n_points == 401
    np.testing.assert_array_equal(data.s21, S21_LINE)
    # The same frequency with different numbers: refused, naming the frequency.
    lines = path.read_text(encoding="utf-8").splitlines()
    first, second = 2 + 200, 2 + 201  # the two rows of 200 (after comment and option line)
    assert lines[first] == lines[second]
    lines[first] = lines[first].split(" ", 1)[0] + " 0.5 0 0.5 0 0.5 0 0.5 0"
    conflict = tmp_path / "conflict.s2p"
    conflict.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="1 frequency value") as excinfo:
        SpectroscopyData.from_touchstone(conflict)
    one_line_error(excinfo, conflict)
    assert f"{F_HZ[200]:.10g} Hz" in str(excinfo.value)


def test_touchstone_column_count_must_fit_the_port_count(tmp_path):
    # A one-port data set saved as .s2p: 3 numbers per line, not 9.
    path = tmp_path / "one_port_data.s2p"
    lines = ["# Hz S RI R 50"] + [
        f"{f:.17g} {z.real:.17g} {z.imag:.17g}" for f, z in zip(F_HZ, S11_LINE, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2: 3 numbers, but a 2-port .* has 9") as excinfo:
        SpectroscopyData.from_touchstone(path)
    one_line_error(excinfo, path)
    # Non-numeric data and a bad option line.
    bad = write_s2p(tmp_path / "text.s2p")
    bad.write_text(bad.read_text(encoding="utf-8").replace("0.1", "zero", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="is not a number") as excinfo:
        SpectroscopyData.from_touchstone(bad)
    one_line_error(excinfo, bad)
    option = write_s2p(tmp_path / "option.s2p", option="# THz S RI R 50")
    with pytest.raises(ValueError, match="unknown entry 'thz' in the option line") as excinfo:
        SpectroscopyData.from_touchstone(option)
    one_line_error(excinfo, option)
