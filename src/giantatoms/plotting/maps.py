"""Colour maps of a steady-state quantity against drive power and pair detuning."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from giantatoms.plotting._common import (
    _DISPLAY_UNITS,
    _PROTOCOL_METRICS,
    _colour_mesh,
    _figure_and_axes,
    _label,
    _one_d,
)
from giantatoms.units import MHz

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_fidelity_map"]

_MAP_DIM_LABELS = {"power_dbm": "drive power at the chip", "detuning": "pair detuning δ/2π"}


def _map_axis(da: Any, dim: str) -> tuple[NDArray[np.float64], str, str]:
    """Values, name and display unit of one dimension of a DataArray (``units`` attrs)."""
    coord = None
    if dim in da.coords:
        coord = da.coords[dim]
    else:
        for candidate in da.coords.values():
            if candidate.dims == (dim,):
                coord = candidate
                break
    if coord is None:
        return np.arange(da.sizes[dim], dtype=float), dim, ""
    text = _MAP_DIM_LABELS.get(dim) or coord.attrs.get("long_name") or dim
    return np.asarray(coord.values, dtype=float), text, str(coord.attrs.get("units", ""))


_MapAxis = tuple[NDArray[np.float64], str, str]


def _map_input(data: Any, variable: str) -> tuple[_MapAxis, _MapAxis, NDArray[np.float64], str]:
    """(x axis, y axis, values (Y, X), colour-bar label); an axis is (values, name, unit)."""
    default_label = _PROTOCOL_METRICS.get(variable, variable.replace("_", " "))
    if hasattr(data, "dims") and hasattr(data, "coords"):  # xarray Dataset or DataArray
        if hasattr(data, "data_vars"):
            if variable not in data.data_vars:
                raise ValueError(
                    f"variable {variable!r} is not in the dataset; it has {sorted(data.data_vars)}"
                )
            da = data[variable]
        else:
            da = data
        da = da.squeeze(drop=True)
        if da.ndim != 2:
            raise ValueError(
                f"variable {variable!r} must have two dimensions of size > 1 (e.g. power_dbm, "
                f"detuning), got dims {da.dims}"
            )
        xdim = "detuning" if "detuning" in da.dims else da.dims[1]
        ydim = "power_dbm" if "power_dbm" in da.dims else next(d for d in da.dims if d != xdim)
        values = np.asarray(da.transpose(ydim, xdim).values, dtype=float)
        label = str(da.attrs.get("long_name") or default_label)
        return _map_axis(da, xdim), _map_axis(da, ydim), values, label
    if isinstance(data, Mapping):
        if "power_dbm" not in data or not ({"detuning", "detuning_mhz"} & set(data)):
            raise ValueError(
                "data as a mapping needs 'power_dbm' (dBm) and 'detuning_mhz' (MHz) or "
                f"'detuning' (rad/s), got keys {sorted(data)}"
            )
        if variable not in data:
            raise ValueError(f"variable {variable!r} is not in data (keys {sorted(data)})")
        power = _one_d(data["power_dbm"], "power_dbm")
        detuning = (
            _one_d(data["detuning_mhz"], "detuning_mhz")
            if "detuning_mhz" in data
            else _one_d(data["detuning"], "detuning") / MHz
        )
        values, name = data[variable], variable
    elif isinstance(data, Sequence) and len(data) == 3:
        power = _one_d(data[0], "power_dbm")
        detuning = _one_d(data[1], "detuning") / MHz
        values, name = data[2], "fidelity"
    else:
        raise ValueError(
            "data must be an xarray Dataset/DataArray from giantatoms.sweep, a mapping with "
            "power_dbm, detuning_mhz and the variable, or a tuple (power_dbm dBm, detuning "
            f"rad/s, values), got {type(data).__name__}"
        )
    values = np.asarray(values, dtype=float)
    if values.shape != (power.size, detuning.size):
        raise ValueError(
            f"{name} must have shape (len(power_dbm), len(detuning)) = "
            f"{(power.size, detuning.size)}, got {values.shape}"
        )
    return (
        (detuning, _MAP_DIM_LABELS["detuning"], "MHz"),
        (power, _MAP_DIM_LABELS["power_dbm"], "dBm"),
        values,
        default_label,
    )


def plot_fidelity_map(
    data: Any,
    *,
    variable: str = "bell_fidelity",
    ax: Axes | None = None,
    mark_best: bool = True,
    cmap: str = "viridis",
) -> Figure:
    """Colour map of a steady-state quantity against drive power and pair detuning.

    Parameters
    ----------
    data : xarray.Dataset, xarray.DataArray, mapping or tuple
        * a :func:`giantatoms.sweep` result with dimensions ``power_dbm`` (dBm) and
          ``detuning`` (MHz) — any other two dimensions work too; axis labels come from the
          coordinates' ``units`` (and ``long_name``) attributes;
        * a mapping with ``"power_dbm"`` (dBm), ``"detuning_mhz"`` (MHz) or ``"detuning"``
          (rad/s) and ``variable`` of shape (n_power, n_detuning), such as the ``"map"`` of
          :func:`giantatoms.experiments.reproduce.reproduce_steady_state`;
        * a tuple ``(power_dbm, detuning, values)``: dBm shape (n_power,), rad/s shape
          (n_detuning,), shape (n_power, n_detuning).
    variable : str
        Variable of a dataset or key of a mapping to draw.
    ax : matplotlib.axes.Axes, optional
    mark_best : bool
        Mark the largest finite value with a star (``gid="best"``) and annotate it.
    cmap : str

    Returns
    -------
    matplotlib.figure.Figure
        With the map's axes and its colour bar. Detuning on the horizontal axis (MHz), drive
        power on the vertical axis (dBm).
    """
    (x, x_name, x_unit), (y, y_name, y_unit), values, bar_label = _map_input(data, variable)
    fig, ax = _figure_and_axes(ax, (6.4, 4.6))
    mesh = _colour_mesh(ax, x, y, values, cmap=cmap, rasterized=True)
    ax.figure.colorbar(mesh, ax=ax, label=bar_label)
    ax.set_xlabel(_label(x_name, x_unit))
    ax.set_ylabel(_label(y_name, y_unit))
    if mark_best and np.any(np.isfinite(values)):
        iy, ix = np.unravel_index(int(np.nanargmax(values)), values.shape)
        ax.plot(x[ix], y[iy], ls="", marker="*", ms=14, color="white", mec="k", mew=0.8, gid="best")
        right = x[ix] > 0.5 * (x.min() + x.max())
        top = y[iy] > 0.5 * (y.min() + y.max())
        ax.annotate(
            f"max {values[iy, ix]:.3f}\n"
            f"{x_name} = {x[ix]:.4g} {_DISPLAY_UNITS.get(x_unit, x_unit)}\n"
            f"{y_name} = {y[iy]:.4g} {_DISPLAY_UNITS.get(y_unit, y_unit)}",
            (x[ix], y[iy]),
            xytext=(-12 if right else 12, -12 if top else 12),
            textcoords="offset points",
            ha="right" if right else "left",
            va="top" if top else "bottom",
            fontsize=8,
            bbox={"boxstyle": "round", "fc": "white", "alpha": 0.8},
        )
    return fig
