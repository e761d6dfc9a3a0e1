"""Stored Bell fidelity against the atoms' separation, with and without propagation delays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from giantatoms.plotting._common import _figure_and_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_distance"]


def plot_distance(dataset: Any, *, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Bell fidelity of Ψ⁻ after storage against the link's Γτ (separation on a top axis).

    Parameters
    ----------
    dataset : xarray.Dataset
        ``DistanceStudy.dataset`` (:func:`giantatoms.experiments.distance.distance_study`):
        exact (with delays), Markovian and trapped (t → ∞) fidelities are drawn.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    for name in ("bell_fidelity_optimized", "markov_bell_fidelity_optimized", "Gamma_tau"):
        if name not in dataset:
            raise ValueError(f"dataset has no {name!r}: pass DistanceStudy.dataset")
    fig, ax = _figure_and_axes(ax, (6.0, 4.0))
    x = np.asarray(dataset.Gamma_tau)
    end = float(dataset.time[-1])
    ax.plot(x, dataset.bell_fidelity_optimized[:, -1], "o-", label=f"with delays, {end:.3g} µs")
    ax.plot(x, dataset.markov_bell_fidelity_optimized[:, -1], "s--", label="Markov (no delays)")
    if "trapped_bell_fidelity_optimized" in dataset:
        ax.plot(x, dataset.trapped_bell_fidelity_optimized, ":", label="with delays, t → ∞")
    ax.set_xlabel("Γτ of the link between the atoms")
    ax.set_ylabel("Bell fidelity to Ψ⁻ (up to local Z)")
    ax.set_ylim(0.0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    distance = np.asarray(dataset.separation)
    if x[-1] > x[0]:
        slope = (distance[-1] - distance[0]) / (x[-1] - x[0])
        top = ax.secondary_xaxis(
            "top",
            functions=(lambda g: distance[0] + (g - x[0]) * slope,
                       lambda d: x[0] + (d - distance[0]) / slope),
        )  # fmt: skip
        top.set_xlabel("extra distance of atom B (m)")
    if title:
        ax.set_title(title)
    return fig
