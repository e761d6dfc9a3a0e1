"""Metrics against time (giantatoms.plotting.dynamics): curves, segments, errors."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from giantatoms import plotting  # noqa: E402
from giantatoms.protocols import driven_dissipative, run_protocol  # noqa: E402
from giantatoms.units import MHz, us  # noqa: E402

from tests.plotting._figures import lines_with_gid, render  # noqa: E402

# ---------------------------------------------------------------------------- fidelity vs time

T_DRIVE, RAMP, STORE = 1.0 * us, 20e-9, 0.5 * us


@pytest.fixture(scope="module")
def strategies(device):
    times = np.unique(
        np.r_[np.linspace(0, T_DRIVE + RAMP + STORE, 13), T_DRIVE, T_DRIVE + RAMP, T_DRIVE + 5e-9]
    )
    runs, protocols = {}, {}
    for label, after in (("stay", "stay"), ("move to DF", "move_to_df"), ("resonant", "resonant")):
        protocols[label] = driven_dissipative(
            device,
            power_dbm=-130,
            detuning=1 * MHz,
            t_drive=T_DRIVE,
            ramp_time=RAMP,
            t_store=STORE,
            after_drive=after,
        )
        runs[label] = run_protocol(device, protocols[label], times)
    return runs, protocols


def test_fidelity_vs_time_three_strategies(strategies):
    runs, _ = strategies
    fig = plotting.plot_fidelity_vs_time(runs)
    (ax,) = fig.axes
    assert "µs" in ax.get_xlabel() and "Ψ⁻" in ax.get_ylabel()
    curves = [line for line in ax.get_lines() if line.get_gid() is None]
    assert [line.get_label() for line in curves] == list(runs)
    for line, run in zip(curves, runs.values(), strict=True):
        np.testing.assert_allclose(line.get_xdata(), run.times / us)
        np.testing.assert_allclose(line.get_ydata(), run.bell_fidelity_optimized)
    boundaries = sorted(line.get_xdata()[0] for line in lines_with_gid(ax, "segment_boundary"))
    np.testing.assert_allclose(boundaries, [T_DRIVE / us, (T_DRIVE + RAMP) / us])
    labels = {t.get_text() for t in ax.texts}
    assert {"drive", "store"} <= labels  # the 20 ns ramp is too narrow to label
    render(fig)


def test_fidelity_vs_time_protocol_boundaries_tuples_and_metric(strategies):
    runs, protocols = strategies
    fig = Figure()
    ax = fig.add_subplot()
    run = runs["stay"]
    out = plotting.plot_fidelity_vs_time(
        {"stay": run, "by hand": (run.times, run.concurrence)},
        metric="concurrence",
        protocol=protocols["stay"],
        ax=ax,
    )
    assert out is fig and ax.get_ylabel() == "concurrence"
    boundaries = sorted(line.get_xdata()[0] for line in lines_with_gid(ax, "segment_boundary"))
    np.testing.assert_allclose(boundaries, [T_DRIVE / us, (T_DRIVE + RAMP) / us])
    fig = plotting.plot_fidelity_vs_time(run, metric="psi-", segments=False)
    assert "psi-" in fig.axes[0].get_ylabel() and fig.axes[0].get_legend() is None
    assert not lines_with_gid(fig.axes[0], "segment_boundary")


def test_fidelity_vs_time_bad_input(strategies):
    runs, _ = strategies
    with pytest.raises(ValueError, match="metric"):
        plotting.plot_fidelity_vs_time(runs, metric="fidelity")
    with pytest.raises(ValueError, match="results"):
        plotting.plot_fidelity_vs_time({"a": (np.arange(3.0), np.arange(4.0))})
    with pytest.raises(ValueError, match="results"):
        plotting.plot_fidelity_vs_time({"a": 3})
    with pytest.raises(ValueError, match="results"):
        plotting.plot_fidelity_vs_time({})
