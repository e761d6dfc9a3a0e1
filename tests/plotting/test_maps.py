"""Steady-state maps (giantatoms.plotting.maps): labels with units, best point, errors."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

import giantatoms as ga  # noqa: E402
from giantatoms import plotting  # noqa: E402
from giantatoms.units import MHz  # noqa: E402

from tests.plotting._figures import lines_with_gid, render  # noqa: E402

# ---------------------------------------------------------------------------- fidelity map


@pytest.fixture(scope="module")
def small_sweep(device):
    return ga.sweep(
        device,
        {"drive.power_dbm": [-135, -130, -125], "drive.detuning": ["0.5MHz", "1MHz", "2MHz"]},
        progress=False,
    )


def test_fidelity_map_from_sweep(small_sweep):
    fig = plotting.plot_fidelity_map(small_sweep)
    assert len(fig.axes) == 2
    ax, bar = fig.axes
    assert "MHz" in ax.get_xlabel() and "dBm" in ax.get_ylabel()
    assert "fidelity" in bar.get_ylabel().lower()
    fidelity = small_sweep.bell_fidelity.transpose("power_dbm", "detuning").values
    ip, idet = np.unravel_index(np.argmax(fidelity), fidelity.shape)
    (best,) = lines_with_gid(ax, "best")
    assert best.get_xdata()[0] == pytest.approx(float(small_sweep.detuning[idet]))
    assert best.get_ydata()[0] == pytest.approx(float(small_sweep.power_dbm[ip]))
    assert f"{fidelity[ip, idet]:.3f}" in ax.texts[0].get_text()
    render(fig)
    # Dimensions in the other order draw the same map.
    fig = plotting.plot_fidelity_map(small_sweep.transpose("detuning", "power_dbm", ...))
    np.testing.assert_allclose(fig.axes[0].collections[0].get_array().reshape(3, 3), fidelity)


def test_fidelity_map_from_arrays_and_mapping():
    power = np.array([-140.0, -130.0, -120.0, -110.0])
    detuning = np.array([0.5, 1.0, 2.0]) * MHz
    values = np.arange(12.0).reshape(4, 3) / 12
    values[1, 2] = 0.99
    values[0, 0] = np.nan  # a failed point
    fig = Figure()
    ax = fig.add_subplot()
    assert plotting.plot_fidelity_map((power, detuning, values), ax=ax) is fig
    (best,) = lines_with_gid(ax, "best")
    assert best.get_xdata()[0] == pytest.approx(2.0) and best.get_ydata()[0] == -130.0
    assert "MHz" in ax.get_xlabel() and "dBm" in ax.get_ylabel()
    render(fig)
    mapping = {"power_dbm": power, "detuning_mhz": detuning / MHz, "concurrence": values}
    fig = plotting.plot_fidelity_map(mapping, variable="concurrence", mark_best=False)
    assert not lines_with_gid(fig.axes[0], "best")
    assert "concurrence" in fig.axes[1].get_ylabel()


def test_fidelity_map_bad_input(small_sweep):
    with pytest.raises(ValueError, match="fidelity"):
        plotting.plot_fidelity_map(([-130, -120], [1e6, 2e6, 3e6], np.zeros((3, 2))))
    with pytest.raises(ValueError, match="variable"):
        plotting.plot_fidelity_map(small_sweep, variable="nonsense")
    with pytest.raises(ValueError, match="variable"):
        plotting.plot_fidelity_map(small_sweep, variable="excited_population")  # 3-D
    with pytest.raises(ValueError, match="data"):
        plotting.plot_fidelity_map("map.nc")
