"""Figures against frequency (giantatoms.plotting.spectra): rates, spectroscopy, spectra."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

import giantatoms as ga  # noqa: E402
from giantatoms import plotting  # noqa: E402
from giantatoms.units import GHz, MHz  # noqa: E402

from tests.plotting._figures import lines_with_gid, render  # noqa: E402

BAND = (4.0 * GHz, 5.4 * GHz)


# ---------------------------------------------------------------------------- rates


def test_rates_curves_labels_and_markers(device):
    fig = plotting.plot_rates(device, BAND, points=301)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    (ax,) = fig.axes
    assert "GHz" in ax.get_xlabel() and "MHz" in ax.get_ylabel()
    omega = np.linspace(*BAND, 301)
    c = device.couplings(frequency=omega)
    curves = [line for line in ax.get_lines() if line.get_gid() is None and len(line.get_xdata())]
    curves = [line for line in curves if len(line.get_xdata()) == omega.size]
    assert len(curves) == 6
    np.testing.assert_allclose(curves[0].get_xdata(), omega / GHz)
    np.testing.assert_allclose(curves[0].get_ydata(), c.decay_rates[:, 0] / MHz)
    np.testing.assert_allclose(curves[2].get_ydata(), np.abs(c.decay_matrix[:, 0, 1]) / MHz)
    np.testing.assert_allclose(curves[3].get_ydata(), c.exchange[:, 0, 1].real / MHz)
    np.testing.assert_allclose(curves[4].get_ydata(), c.lamb_shift[:, 0] / MHz)

    entangling = ga.perfect_correlation_frequencies(device, (0, 1), BAND) / GHz
    marked = sorted(line.get_xdata()[0] for line in lines_with_gid(ax, "entangling"))
    assert len(entangling) >= 1
    np.testing.assert_allclose(marked, entangling)
    assert any(abs(x - 4.6) < 0.01 for x in marked)
    for k, name in enumerate(device.atom_names):
        df = ga.decoherence_free_frequencies(device, k, BAND) / GHz
        lines = lines_with_gid(ax, f"decoherence_free:{name}")
        marked = sorted(line.get_xdata()[0] for line in lines)
        np.testing.assert_allclose(marked, df)
        assert any(abs(x - 5.0) < 1e-3 for x in marked)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("entangling" in t for t in legend) and any("DF point of A" in t for t in legend)
    render(fig)


def test_rates_into_existing_axes_and_without_markers(device):
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plotting.plot_rates(device, BAND, points=50, mark=False, ax=right) is fig
    assert len(left.get_lines()) == 0 and len(right.get_lines()) > 0
    assert not lines_with_gid(right, "entangling")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"band": (5.0 * GHz, 4.0 * GHz)}, "band"),
        ({"band": (0.0, 4.0 * GHz)}, "band"),
        ({"band": BAND, "points": 1}, "points"),
        ({"band": BAND, "pair": (0, 0)}, "pair"),
    ],
)
def test_rates_bad_input(device, kwargs, name):
    with pytest.raises(ValueError, match=name):
        plotting.plot_rates(device, **kwargs)


# ---------------------------------------------------------------------------- spectroscopy


@pytest.fixture(scope="module")
def flux_map(device):
    fa = np.linspace(4.55, 4.65, 6) * GHz
    frequencies = np.stack([fa, np.full_like(fa, 4.6 * GHz)], axis=-1)
    probe = np.linspace(4.58, 4.62, 9) * GHz
    return fa, probe, ga.scattering(device, probe, frequencies=frequencies).s21


@pytest.mark.parametrize(
    ("quantity", "unit", "transform"),
    [
        ("magnitude", "|S21|", np.abs),
        ("db", "dB", lambda s: 20 * np.log10(np.abs(s))),
        ("phase", "rad", np.angle),
    ],
)
def test_spectroscopy_map(flux_map, quantity, unit, transform):
    fa, probe, s21 = flux_map
    fig = plotting.plot_spectroscopy_map(
        fa / GHz, probe, s21, x_label="atom A frequency", x_unit="GHz", quantity=quantity
    )
    assert len(fig.axes) == 2  # map and colour bar
    ax, bar = fig.axes
    assert ax.get_xlabel() == "atom A frequency (GHz)" and "GHz" in ax.get_ylabel()
    assert unit in bar.get_ylabel()
    mesh = ax.collections[0]
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(9, 6), transform(s21).T)
    np.testing.assert_allclose(ax.get_xlim(), [4.55 - 0.01, 4.65 + 0.01])
    render(fig)


def test_spectroscopy_map_into_axes_and_bad_input(flux_map):
    fa, probe, s21 = flux_map
    fig = Figure()
    ax = fig.add_subplot()
    out = plotting.plot_spectroscopy_map(
        np.arange(6), probe, s21, x_label="flux", x_unit="Φ₀", ax=ax
    )
    assert out is fig and ax.get_xlabel() == "flux (Φ₀)" and len(fig.axes) == 2
    with pytest.raises(ValueError, match="s21"):
        plotting.plot_spectroscopy_map(fa, probe, s21.T, x_label="f", x_unit="GHz")
    with pytest.raises(ValueError, match="quantity"):
        plotting.plot_spectroscopy_map(fa, probe, s21, x_label="f", x_unit="GHz", quantity="power")
    with pytest.raises(ValueError, match="probe_frequencies"):
        plotting.plot_spectroscopy_map(fa, -probe, s21, x_label="f", x_unit="GHz")


def test_spectrum_lines_data_and_scattering(device):
    probe = np.linspace(4.58, 4.62, 41) * GHz
    sc = ga.scattering(device, probe)
    measured = (probe[::5], sc.s21[::5] * 0.98)
    fig = plotting.plot_spectrum(probe, sc.s21, sc.s11, data=measured)
    (ax,) = fig.axes
    assert "GHz" in ax.get_xlabel()
    t, r, points = ax.get_lines()
    np.testing.assert_allclose(t.get_ydata(), np.abs(sc.s21) ** 2)
    np.testing.assert_allclose(r.get_ydata(), np.abs(sc.s11) ** 2)
    np.testing.assert_allclose(points.get_xdata(), probe[::5] / GHz)
    assert points.get_linestyle() == "None"
    render(fig)
    # A Scattering result directly, and measured data as a SpectroscopyData.
    data = ga.fitting.SpectroscopyData(probe, s21=np.conj(sc.s21), convention="engineering")
    fig = plotting.plot_spectrum(sc, data=data)
    assert len(fig.axes[0].get_lines()) == 3


def test_spectrum_bad_input():
    probe = np.linspace(4.5, 4.7, 5) * GHz
    with pytest.raises(ValueError, match="s21"):
        plotting.plot_spectrum(probe, s21=np.ones(4))
    with pytest.raises(ValueError, match="at least one"):
        plotting.plot_spectrum(probe)
    with pytest.raises(ValueError, match="data"):
        plotting.plot_spectrum(probe, s21=np.ones(5), data=42)
