"""The figures of :func:`giantatoms.experiments.reproduce.reproduce`."""

from __future__ import annotations

from typing import Any

import numpy as np

from giantatoms.model.device import Device

__all__ = ["reproduction_figures"]


def reproduction_figures(
    device: Device,
    pair: tuple[int, int],
    band: tuple[float, float],
    spec_plot: dict[str, Any],
    spectroscopy: Any,
    fidelity_map: Any,
    runs: dict[str, Any],
    estimate: Any,
) -> dict[str, Any]:
    """The reproduction's figures (empty if matplotlib is missing)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return {}
    from giantatoms import plotting
    from giantatoms.measure.metrics import bell_state

    target = bell_state(estimate.state)
    return {
        "rates": plotting.plot_rates(device, band, pair=pair),
        "spectroscopy_map": plotting.plot_spectroscopy_map(
            spec_plot["flux"],
            spec_plot["probe"],
            spec_plot["s21"],
            x_label=f"bare frequency of atom {spec_plot['name']}",
            x_unit="GHz",
        ),
        "line_fits": plotting.plot_line_fits(spectroscopy),
        "fidelity_map": plotting.plot_fidelity_map(fidelity_map),
        "fidelity_vs_time": plotting.plot_fidelity_vs_time(
            {"move to DF": runs["move_to_df"], "stay": runs["stay"], "resonant": runs["resonant"]}
        ),
        "density_matrix": plotting.plot_density_matrix(
            estimate.result.rho,
            target=np.outer(target, target.conj()),
            title=f"tomography: F = {estimate.format()}",
        ),
    }
