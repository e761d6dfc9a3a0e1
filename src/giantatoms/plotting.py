"""Matplotlib figures of the quantities the experiment reports, in lab units.

Every function draws with matplotlib's object-oriented API into an ``ax`` (or ``axes``) you
pass, or into a new :class:`matplotlib.figure.Figure` it creates without pyplot (so it works
headless, with no backend selected), and returns the figure. Axis labels carry lab units:
frequencies f = ω/2π in GHz (axes) or MHz (rates, shifts, detunings), times in µs, powers in
dBm at the chip. Inputs use the package's internal units (rad/s, s) unless stated otherwise.

matplotlib is an optional dependency (``pip install 'giantatoms[plot]'``): it is imported
when a function is called, so ``import giantatoms`` works without it.

=====================================  ==========================================================
:func:`plot_rates`                     Γ_A, Γ_B, |Γ_AB|, J and Lamb shifts vs frequency, with the
                                       entangling (perfect-correlation) and DF points marked
:func:`plot_spectroscopy_map`          |S21| (or dB, phase) vs probe frequency and a swept x
:func:`plot_spectrum`                  |S21|², |S11|² vs probe frequency, with measured points
:func:`plot_fidelity_map`              steady-state fidelity vs drive power and detuning
:func:`plot_fidelity_vs_time`          fidelity during protocols (stay / move to DF / resonant)
:func:`plot_density_matrix`            Re ρ and Im ρ as 3D bars ("cityscape"), with a target
:func:`save_figure`                    save, creating parent folders
=====================================  ==========================================================
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import choice
from giantatoms.units import GHz, MHz, us

if TYPE_CHECKING:
    import os

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from giantatoms.model.device import Device
    from giantatoms.protocols import Protocol

__all__ = [
    "SPECTROSCOPY_QUANTITIES",
    "plot_density_matrix",
    "plot_fidelity_map",
    "plot_fidelity_vs_time",
    "plot_line_fits",
    "plot_rates",
    "plot_spectroscopy_map",
    "plot_spectrum",
    "save_figure",
]

#: What :func:`plot_spectroscopy_map` can show of S21.
SPECTROSCOPY_QUANTITIES = ("magnitude", "db", "phase")

_INSTALL_HINT = "pip install 'giantatoms[plot]'"
_PROTOCOL_METRICS = {
    "bell_fidelity": "Bell fidelity (drive frame)",
    "bell_fidelity_optimized": "Bell fidelity (max. over local Z phases)",
    "concurrence": "concurrence",
    "leakage": "leakage out of the qubit subspace",
}
_BELL_SYMBOLS = {"psi-": "Ψ⁻", "psi+": "Ψ⁺", "phi-": "Φ⁻", "phi+": "Φ⁺"}
_DISPLAY_UNITS = {"us": "µs", "1": ""}
_MAP_DIM_LABELS = {"power_dbm": "drive power at the chip", "detuning": "pair detuning δ/2π"}
_LEVEL_LETTERS = "gefhijkl"


# --------------------------------------------------------------------------- helpers


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised only without matplotlib
        raise ImportError(
            f"giantatoms.plotting needs matplotlib, which is not installed: {_INSTALL_HINT}"
        ) from exc


def _root_figure(ax: Axes) -> Figure:
    """The top-level Figure of ``ax`` (an axes may live in a SubFigure)."""
    fig = ax.figure
    while getattr(fig, "figure", fig) is not fig:
        fig = fig.figure
    return fig  # type: ignore[return-value]


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """Draw into ``ax``, or into a new headless Figure with one Axes."""
    _require_matplotlib()
    if ax is not None:
        if not hasattr(ax, "plot"):
            raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
        return _root_figure(ax), ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _label(text: str, unit: str) -> str:
    unit = _DISPLAY_UNITS.get(unit, unit)
    return f"{text} ({unit})" if unit else text


def _symbol(symbol: str, name: str) -> str:
    """Γ_A-style label in mathtext when the atom name allows it, plain text otherwise."""
    if re.fullmatch(r"[A-Za-z0-9]+", name):
        return rf"${symbol}_{{\mathrm{{{name}}}}}$"
    return f"{symbol}({name})"


def _one_d(values: ArrayLike, name: str, *, positive: bool = False) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D array of real numbers") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    if positive and np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 (rad/s), got minimum {arr.min():g}")
    return arr


def _edges(centres: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cell edges around sorted cell centres (half a step beyond the ends)."""
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    mid = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate(
        [[centres[0] - (mid[0] - centres[0])], mid, [centres[-1] + (centres[-1] - mid[-1])]]
    )


def _colour_mesh(
    ax: Axes,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    values: NDArray,
    **kwargs: Any,
) -> Any:
    """Pcolormesh of values (len(y), len(x)) on possibly unsorted, non-uniform axes."""
    ix, iy = np.argsort(x, kind="stable"), np.argsort(y, kind="stable")
    data = np.ma.masked_invalid(np.asarray(values)[np.ix_(iy, ix)])
    return ax.pcolormesh(_edges(x[ix]), _edges(y[iy]), data, shading="flat", **kwargs)


# --------------------------------------------------------------------------- rates


def plot_rates(
    device: Device,
    band: tuple[float, float],
    *,
    pair: tuple[str | int, str | int] = (0, 1),
    points: int = 2000,
    mark: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """Waveguide rates and Lamb shifts of a pair against their common frequency.

    Draws Γ_A/2π, Γ_B/2π, |Γ_AB|/2π, J_AB/2π and the Lamb shifts δω_A/2π, δω_B/2π (MHz)
    against f = ω/2π (GHz), both atoms at the same frequency (PHYSICS.md §3, §3.2), from one
    batched :meth:`Device.couplings` call. With ``mark`` it adds vertical lines at the pair's
    perfect-correlation (entangling) frequencies (|Γ_AB| = √(Γ_AΓ_B), J = 0;
    :func:`giantatoms.perfect_correlation_frequencies`) and at each atom's decoherence-free
    frequencies (:func:`giantatoms.decoherence_free_frequencies`) inside ``band``.

    Parameters
    ----------
    device : Device
        One parameter set (no array-valued geometry).
    band : (float, float), rad/s
        Frequency range (low, high), 0 < low < high.
    pair : (str or int, str or int)
        The two atoms (names or indices).
    points : int
        Frequency grid size, ≥ 2.
    mark : bool
        Mark the entangling and decoherence-free frequencies. The lines carry the ``gid``
        ``"entangling"`` and ``"decoherence_free:<atom name>"``.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from giantatoms.model.couplings import (
        decoherence_free_frequencies,
        perfect_correlation_frequencies,
    )

    try:
        low, high = (float(b) for b in band)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"band must be (low, high) in rad/s, got {band!r}") from exc
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise ValueError(f"band must be (low, high) in rad/s with 0 < low < high, got {band!r}")
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or points < 2:
        raise ValueError(f"points must be an integer ≥ 2, got {points!r}")
    i, j = (device.index(p) for p in pair)
    if i == j:
        raise ValueError(f"pair must name two different atoms, got {pair!r}")
    names = device.atom_names[i], device.atom_names[j]

    omega = np.linspace(low, high, int(points))
    c = device.couplings(frequency=omega)
    if c.decay_rates.shape != (omega.size, device.n_atoms):
        raise ValueError(
            "device must be one parameter set (array-valued atom parameters add batch axes "
            f"{c.decay_rates.shape[:-1]} that cannot be drawn against frequency)"
        )
    fig, ax = _figure_and_axes(ax, (7.0, 4.2))
    f = omega / GHz
    exchange = c.exchange[:, i, j]
    chiral = np.max(np.abs(exchange.imag), initial=0.0) > 1e-9 * np.max(
        np.abs(exchange), initial=0.0
    )
    pair_name = "".join(names) if all(len(n) == 1 for n in names) else ",".join(names)
    gamma_pair, j_pair = _symbol(r"\Gamma", pair_name), _symbol("J", pair_name)
    curves = [
        (c.decay_rates[:, i], _symbol(r"\Gamma", names[0]) + "/2π", "C0", "-", 1.8),
        (c.decay_rates[:, j], _symbol(r"\Gamma", names[1]) + "/2π", "C1", "--", 1.8),
        (np.abs(c.decay_matrix[:, i, j]), f"|{gamma_pair}|/2π", "C2", "-", 1.4),
        (
            np.abs(exchange) if chiral else exchange.real,
            (f"|{j_pair}|" if chiral else j_pair) + "/2π",
            "C3",
            "-",
            1.2,
        ),
        (c.lamb_shift[:, i], _symbol(r"\delta\omega", names[0]) + "/2π", "C4", "-.", 1.0),
        (c.lamb_shift[:, j], _symbol(r"\delta\omega", names[1]) + "/2π", "C5", ":", 1.0),
    ]
    for values, label, colour, style, width in curves:
        ax.plot(f, values / MHz, color=colour, ls=style, lw=width, label=label)
    ax.axhline(0.0, color="0.6", lw=0.6, zorder=0)

    if mark:
        entangling = perfect_correlation_frequencies(device, (i, j), (low, high))
        for k, w in enumerate(entangling):
            ax.axvline(
                w / GHz,
                color="k",
                lw=1.0,
                alpha=0.7,
                gid="entangling",
                label="entangling point (perfect correlation)" if k == 0 else None,
            )
        for atom, colour, style in ((i, "C0", (0, (5, 3))), (j, "C1", (0, (1, 2)))):
            name = device.atom_names[atom]
            for k, w in enumerate(decoherence_free_frequencies(device, atom, (low, high))):
                ax.axvline(
                    w / GHz,
                    color=colour,
                    ls=style,
                    lw=1.4,
                    gid=f"decoherence_free:{name}",
                    label=f"DF point of {name}" if k == 0 else None,
                )
    ax.set_xlim(f[0], f[-1])
    ax.set_xlabel(_label("atom frequency f = ω/2π", "GHz"))
    ax.set_ylabel(_label("rate or shift / 2π", "MHz"))
    ax.set_title(f"{device.name}: atoms {names[0]}, {names[1]} at equal frequency", fontsize=10)
    ax.legend(fontsize="small", ncols=2, loc="best")
    return fig


# --------------------------------------------------------------------------- spectroscopy


def plot_spectroscopy_map(
    x: ArrayLike,
    probe_frequencies: ArrayLike,
    s21: ArrayLike,
    *,
    x_label: str,
    x_unit: str,
    quantity: str = "magnitude",
    parameter: str = "S21",
    cmap: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Colour map of a scattering parameter against a swept quantity and the probe frequency.

    Parameters
    ----------
    x : array_like, shape (X,)
        The swept quantity (flux, atom frequency, power…), already in the unit ``x_unit``
        (e.g. ``frequencies / GHz`` with ``x_unit="GHz"``); horizontal axis.
    probe_frequencies : array_like, rad/s, shape (P,)
        Vertical axis, drawn as f = ω/2π in GHz.
    s21 : array_like, complex, shape (X, P)
        The scattering parameter, e.g. ``scattering(device, probe, frequencies=...).s21``.
    x_label, x_unit : str
        Horizontal-axis label and unit (``""`` for a dimensionless quantity).
    quantity : {"magnitude", "db", "phase"}
        |S| (linear), 20 log₁₀|S| (dB) or arg S (rad).
    parameter : str
        Name of the scattering parameter in the colour-bar label.
    cmap : str, optional
        Colour map (default ``"viridis"``; ``"twilight"`` for the phase).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        With the map's axes and its colour bar.
    """
    quantity = choice(quantity, "quantity", SPECTROSCOPY_QUANTITIES)
    xs = _one_d(x, "x")
    probe = _one_d(probe_frequencies, "probe_frequencies", positive=True)
    s = np.asarray(s21)
    if s.shape != (xs.size, probe.size):
        raise ValueError(
            f"s21 must have shape (len(x), len(probe_frequencies)) = {(xs.size, probe.size)}, "
            f"got {s.shape}"
        )
    if quantity == "magnitude":
        values, label, limits = np.abs(s), f"|{parameter}|", {}
    elif quantity == "db":
        with np.errstate(divide="ignore"):
            values = 20.0 * np.log10(np.abs(s))
        label, limits = _label(f"|{parameter}|", "dB"), {}
    else:
        values, label = np.angle(s), _label(f"arg {parameter}", "rad")
        limits = {"vmin": -np.pi, "vmax": np.pi}
    default_cmap = "twilight" if quantity == "phase" else "viridis"
    fig, ax = _figure_and_axes(ax, (6.4, 4.4))
    mesh = _colour_mesh(
        ax, xs, probe / GHz, values.T, cmap=cmap or default_cmap, rasterized=True, **limits
    )
    ax.figure.colorbar(mesh, ax=ax, label=label)
    ax.set_xlabel(_label(x_label, x_unit))
    ax.set_ylabel(_label("probe frequency f = ω/2π", "GHz"))
    return fig


def _trace(values: ArrayLike | None, name: str, size: int) -> NDArray[np.complex128] | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=complex)
    if arr.shape != (size,):
        raise ValueError(
            f"{name} must have shape ({size},) (one value per frequency), got {arr.shape}"
        )
    return arr


def _measured(data: Any) -> tuple[NDArray[np.float64], NDArray | None, NDArray | None]:
    """(frequencies, s21, s11) of a SpectroscopyData-like object or a tuple."""
    if hasattr(data, "frequencies"):
        freqs = _one_d(data.frequencies, "data.frequencies", positive=True)
        s21, s11 = getattr(data, "s21", None), getattr(data, "s11", None)
    elif isinstance(data, Sequence) and len(data) in (2, 3):
        freqs = _one_d(data[0], "data[0] (frequencies)", positive=True)
        s21, s11 = data[1], (data[2] if len(data) == 3 else None)
    else:
        raise ValueError(
            "data must be a SpectroscopyData (or an object with frequencies, s21, s11) or a "
            f"tuple (frequencies rad/s, s21[, s11]), got {type(data).__name__}"
        )
    s21 = _trace(s21, "data s21", freqs.size)
    s11 = _trace(s11, "data s11", freqs.size)
    if s21 is None and s11 is None:
        raise ValueError("data holds neither s21 nor s11")
    return freqs, s21, s11


def plot_spectrum(
    probe_frequencies: ArrayLike | Any,
    s21: ArrayLike | None = None,
    s11: ArrayLike | None = None,
    *,
    data: Any = None,
    ax: Axes | None = None,
) -> Figure:
    """Power transmission |S21|² and reflection |S11|² against the probe frequency.

    Parameters
    ----------
    probe_frequencies : array_like, rad/s, shape (P,), or Scattering
        Probe frequencies; a :class:`giantatoms.Scattering` (one trace, no batch axes) gives
        its own frequencies, ``s21`` and ``s11``.
    s21, s11 : array_like, complex, shape (P,), optional
        Model traces, drawn as lines.
    data : SpectroscopyData or (frequencies, s21[, s11]), optional
        Measured points (frequencies in rad/s, complex amplitudes; ``None`` for a missing
        trace), drawn as markers. The sign convention does not matter for |S|².
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if hasattr(probe_frequencies, "probe_frequencies") and s21 is None and s11 is None:
        result = probe_frequencies
        probe_frequencies, s21, s11 = result.probe_frequencies, result.s21, result.s11
        if np.ndim(s21) != 1:
            raise ValueError(
                f"probe_frequencies: a Scattering with batch axes {np.shape(s21)[:-1]} has more "
                "than one trace; pass one trace (e.g. result.s21[k]) explicitly"
            )
    probe = _one_d(probe_frequencies, "probe_frequencies", positive=True)
    model = {"S21": _trace(s21, "s21", probe.size), "S11": _trace(s11, "s11", probe.size)}
    measured = _measured(data) if data is not None else None
    if all(v is None for v in model.values()) and measured is None:
        raise ValueError("give at least one of s21, s11 or data")
    fig, ax = _figure_and_axes(ax, (6.4, 4.0))
    colours = {"S21": "C0", "S11": "C3"}
    for name, trace in model.items():
        if trace is not None:
            ax.plot(probe / GHz, np.abs(trace) ** 2, color=colours[name], label=f"|{name}|²")
    if measured is not None:
        freqs, m21, m11 = measured
        for name, trace in (("S21", m21), ("S11", m11)):
            if trace is not None:
                ax.plot(
                    freqs / GHz,
                    np.abs(trace) ** 2,
                    ls="",
                    marker="o",
                    ms=3,
                    alpha=0.6,
                    color=colours[name],
                    label=f"|{name}|² measured",
                )
    ax.set_xlabel(_label("probe frequency f = ω/2π", "GHz"))
    ax.set_ylabel("power transmission / reflection |S|²")
    ax.legend(fontsize="small")
    return fig


# --------------------------------------------------------------------------- fidelity map


def plot_line_fits(dataset: Any, *, axes: Sequence[Axes] | None = None) -> Figure:
    """Fitted single-atom linewidths and Lamb shifts against the analytic curves.

    Parameters
    ----------
    dataset : xarray.Dataset
        With dims ``atom`` and ``flux_frequency`` (GHz) and variables ``radiative_rate``,
        ``radiative_rate_fit``, ``lamb_shift``, ``lamb_shift_fit`` (MHz), as the
        ``"spectroscopy"`` dataset of :func:`giantatoms.experiments.reproduce.reproduce`.
    axes : two matplotlib Axes, optional
        Where to draw Γ/2π and the Lamb shift.

    Returns
    -------
    matplotlib.figure.Figure
        Lines: analytic Γ(ω)/2π and δω(ω)/2π; markers: the Lorentzian fits per flux point.
    """
    needed = ("radiative_rate", "radiative_rate_fit", "lamb_shift", "lamb_shift_fit")
    missing = [v for v in needed if v not in getattr(dataset, "data_vars", {})]
    if missing or "flux_frequency" not in getattr(dataset, "coords", {}):
        raise ValueError(
            f"dataset: needs variables {list(needed)} over flux_frequency; "
            f"missing {missing or ['flux_frequency']}"
        )
    _require_matplotlib()
    if axes is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6.4, 6.0), layout="constrained")
        axes = fig.subplots(2, 1, sharex=True)
    else:
        if len(axes) != 2:
            raise ValueError(f"axes: need two Axes, got {len(axes)}")
        fig = _root_figure(axes[0])
    x = np.asarray(dataset["flux_frequency"].values, dtype=float)
    for k, name in enumerate(np.asarray(dataset["atom"].values)):
        colour = f"C{k}"
        for ax, var, symbol in ((axes[0], "radiative_rate", "Γ"), (axes[1], "lamb_shift", "δω")):
            ax.plot(
                x,
                dataset[var].values[k],
                color=colour,
                label=f"{_symbol(symbol, str(name))}/2π analytic",
            )
            ax.plot(
                x,
                dataset[f"{var}_fit"].values[k],
                "o",
                color=colour,
                markersize=4,
                label=f"{_symbol(symbol, str(name))}/2π fitted",
            )
    axes[0].set_ylabel(_label("radiative rate Γ/2π", "MHz"))
    axes[1].set_ylabel(_label("Lamb shift δω/2π", "MHz"))
    axes[1].set_xlabel(_label("bare atom frequency f = ω/2π", "GHz"))
    for ax in axes:
        ax.axhline(0.0, color="0.6", linewidth=0.8)
        ax.legend(fontsize="small", ncols=2)
    axes[0].set_title("single-atom spectroscopy: Lorentzian fits vs analytic curves")
    return fig


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


# --------------------------------------------------------------------------- time traces


def _trace_of(
    label: str, item: Any, metric: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray | None, Any]:
    """(times s, values, spread or None, ProtocolResult or None) of one entry of ``results``."""
    if hasattr(item, "segment_labels") and hasattr(item, "populations"):  # ProtocolResult
        if metric in _PROTOCOL_METRICS:
            values = np.asarray(getattr(item, metric))
        elif metric in item.populations:
            values = np.asarray(item.populations[metric])
        else:
            raise ValueError(
                f"metric must be one of {[*_PROTOCOL_METRICS, *item.populations]}, got {metric!r}"
            )
        if values.ndim != 1:
            raise ValueError(
                f"results[{label!r}] has batch shape {values.shape[:-1]}; pass one run "
                "(or a (times, values) pair)"
            )
        return np.asarray(item.times), values, None, item
    if hasattr(item, "averaged_state") and hasattr(item, "times"):  # NoiseAverage
        # The shot-averaged state's metric (what a measurement sees) ± its standard error.
        if metric not in item.averaged_state:
            raise ValueError(f"metric must be one of {sorted(item.averaged_state)}, got {metric!r}")
        values = np.asarray(item.averaged_state[metric])
        spread = np.asarray(item.standard_error[metric])
        if values.ndim != 1:
            raise ValueError(f"results[{label!r}] has batch shape {values.shape[:-1]}")
        return np.asarray(item.times), values, spread, item.result
    if isinstance(item, Sequence) and len(item) == 2:
        times = _one_d(item[0], f"results[{label!r}] times")
        values = np.asarray(item[1], dtype=float)
        if values.shape != times.shape:
            raise ValueError(
                f"results[{label!r}]: values must have the shape of times {times.shape}, "
                f"got {values.shape}"
            )
        return times, values, None, None
    raise ValueError(
        f"results[{label!r}] must be a ProtocolResult, a NoiseAverage or (times s, values), "
        f"got {type(item).__name__}"
    )


def _segment_spans(protocol: Protocol | None, runs: list[Any]) -> list[tuple[float, float, str]]:
    """(start s, end s, label) of each segment: exact from a Protocol, else from save times."""
    if protocol is not None:
        edges = np.asarray(protocol.boundaries(), dtype=float)
        if edges.ndim != 1:
            raise ValueError("protocol must have scalar segment durations to mark its segments")
        labels = [seg.label or f"segment {k}" for k, seg in enumerate(protocol.segments)]
        return [(edges[k], edges[k + 1], labels[k]) for k in range(len(labels))]
    for run in runs:
        if run is None or np.ndim(run.segment) != 1:
            continue
        # A save time on a boundary belongs to the later segment, so the first save of each
        # segment is its start when the caller saves at the boundaries (else it is late by at
        # most one save interval).
        seg, times = np.asarray(run.segment), np.asarray(run.times)
        starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
        ends = [*times[starts[1:]], times[-1]]
        return [
            (times[s], e, run.segment_labels[seg[s]]) for s, e in zip(starts, ends, strict=True)
        ]
    return []


def plot_fidelity_vs_time(
    results: Mapping[str, Any] | Any,
    *,
    metric: str = "bell_fidelity_optimized",
    ax: Axes | None = None,
    segments: bool = True,
    protocol: Protocol | None = None,
) -> Figure:
    """A protocol metric against time for several runs, e.g. the three post-drive strategies.

    Typical use: ``{"stay": r_stay, "move to DF": r_df, "resonant": r_res}`` from
    :func:`giantatoms.run_protocol` of :func:`giantatoms.protocols.driven_dissipative` with
    ``after_drive="stay"``, ``"move_to_df"`` and ``"resonant"``.

    Parameters
    ----------
    results : mapping label → ProtocolResult, NoiseAverage or (times, values)
        Runs without batch axes. ``(times, values)``: times in s, shape (T,) each. A
        NoiseAverage is drawn as the metric of its shot-averaged state with a ±1
        standard-error band. A single ProtocolResult is
        accepted too (no legend).
    metric : str
        ``"bell_fidelity_optimized"``, ``"bell_fidelity"``, ``"concurrence"``, ``"leakage"``
        or a population key (``"gg"``, ``"psi-"``, …) of the results; for ``(times, values)``
        pairs it only names the vertical axis.
    ax : matplotlib.axes.Axes, optional
    segments : bool
        Shade the protocol's segments (alternating background, labels at the top) and draw
        their boundaries (``gid="segment_boundary"``).
    protocol : Protocol, optional
        Take the segment boundaries from this protocol (exact); otherwise from the first
        ProtocolResult's ``segment``, where a segment starts at its first save time.

    Returns
    -------
    matplotlib.figure.Figure
        Times on the horizontal axis in µs.
    """
    if not isinstance(results, Mapping):
        results = {"": results}
    if not results:
        raise ValueError("results must not be empty")
    traces = {str(k): _trace_of(str(k), v, metric) for k, v in results.items()}
    fig, ax = _figure_and_axes(ax, (6.8, 4.0))
    for label, (times, values, spread, _) in traces.items():
        style = {"marker": "o", "ms": 4} if times.size <= 20 else {}
        (line,) = ax.plot(times / us, values, label=label or None, **style)
        if spread is not None:
            ax.fill_between(
                times / us, values - spread, values + spread, color=line.get_color(), alpha=0.2
            )
    runs = [run for *_, run in traces.values()]
    if segments:
        spans = _segment_spans(protocol, runs)
        width = max((e for _, e, _ in spans), default=1.0) - min(
            (s for s, _, _ in spans), default=0.0
        )
        for k, (start, end, name) in enumerate(spans):
            if k % 2:
                ax.axvspan(start / us, end / us, color="0.92", zorder=0, lw=0)
            if k:
                ax.axvline(start / us, color="0.5", lw=0.8, ls="--", gid="segment_boundary")
            if end - start >= 0.06 * width:
                ax.text(
                    0.5 * (start + end) / us,
                    0.98,
                    name,
                    transform=ax.get_xaxis_transform(),
                    ha="center",
                    va="top",
                    fontsize=8,
                    color="0.35",
                )
    targets = {run.target for run in runs if run is not None}
    text = _PROTOCOL_METRICS.get(metric, f"population {metric}")
    if metric.startswith("bell_fidelity") and len(targets) == 1:
        (target,) = targets
        text = text.replace("Bell fidelity", f"fidelity to {_BELL_SYMBOLS.get(target, target)}")
    ax.set_xlabel(_label("time", "µs"))
    ax.set_ylabel(text)
    if any(traces):
        ax.legend(fontsize="small", loc="best")
    return fig


# --------------------------------------------------------------------------- density matrix


def _basis_labels(d: int, labels: Sequence[str] | str | None) -> list[str]:
    if labels is None or isinstance(labels, str):
        style = choice(labels or "letters", "labels", ("letters", "numbers"))
        levels = math.isqrt(d)
        if levels * levels != d or levels < 2:
            raise ValueError(
                f"labels: a {d}×{d} ρ is not two atoms of equal levels; give one label per "
                "basis state"
            )
        symbols = _LEVEL_LETTERS if style == "letters" else "0123456789"
        return [symbols[a] + symbols[b] for a in range(levels) for b in range(levels)]
    out = [str(label) for label in labels]
    if len(out) != d:
        raise ValueError(f"labels must have one entry per basis state ({d}), got {len(out)}")
    return out


def _target_matrix(target: Any, d: int) -> NDArray[np.complex128]:
    """Target density matrix (d, d) from a Bell name, a state vector or a matrix."""
    from giantatoms.measure.metrics import bell_state

    levels = math.isqrt(d)
    if isinstance(target, str):
        if levels * levels != d:
            raise ValueError(f"target: a Bell-state name needs a two-atom ρ, got d = {d}")
        vector = bell_state(target, (levels, levels))
        return np.outer(vector, vector.conj())
    arr = np.asarray(target, dtype=complex)
    if arr.ndim == 1:
        arr = np.outer(arr, arr.conj())
    if arr.shape == (4, 4) and d == levels * levels and levels > 2:
        qubit = np.array([0, 1, levels, levels + 1])  # |gg⟩, |ge⟩, |eg⟩, |ee⟩ in the full space
        full = np.zeros((d, d), dtype=complex)
        full[np.ix_(qubit, qubit)] = arr
        arr = full
    if arr.shape != (d, d):
        raise ValueError(
            f"target must be a Bell name, a state vector or a ({d}, {d}) matrix, got shape "
            f"{arr.shape}"
        )
    return arr


def plot_density_matrix(
    rho: ArrayLike,
    *,
    labels: Sequence[str] | str | None = None,
    title: str | None = None,
    target: Any = None,
    zlim: float | None = None,
    fig: Figure | None = None,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """Re ρ and Im ρ as 3D bar charts ("cityscape"), as tomography papers show them.

    Parameters
    ----------
    rho : array_like, complex, shape (d, d)
        Two-atom density matrix, d = 4 (qubits) or 9 (qutrits), first atom most significant;
        another d needs explicit ``labels``.
    labels : {"letters", "numbers"} or sequence of str, optional
        Basis-state tick labels: ``"letters"`` (default) gives gg, ge, eg, ee (g, e, f for
        qutrits), ``"numbers"`` 00, 01, 10, 11; or one string per basis state.
    title : str, optional
        Figure title.
    target : str, array_like, optional
        Ideal state drawn as transparent wireframe bars (``gid="target"``): a Bell-state name
        (``"psi-"``…), a state vector, or a density matrix of shape (d, d) (or (4, 4) in the
        qubit subspace of a qutrit ρ).
    zlim : float, optional
        Vertical range ±zlim; default 0.5, or the largest |element| rounded up to 0.1 when
        that is larger.
    fig : matplotlib.figure.Figure, optional
        Add the two panels to this figure.
    axes : (Axes3D, Axes3D), optional
        Draw into these two 3D axes (Re, Im) instead.

    Returns
    -------
    matplotlib.figure.Figure
        With two 3D axes, "Re ρ" and "Im ρ". Bars are drawn with one ``bar3d`` call per panel
        (heights Re ρ_ij resp. Im ρ_ij, row i along x, column j along y), coloured by value.
    """
    arr = np.asarray(rho, dtype=complex)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] < 2:
        raise ValueError(f"rho must be a square matrix (d, d), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("rho must be finite")
    d = arr.shape[0]
    ticks = _basis_labels(d, labels)
    ideal = _target_matrix(target, d) if target is not None else None
    largest = max(np.max(np.abs(arr.real)), np.max(np.abs(arr.imag)))
    if ideal is not None:
        largest = max(largest, np.max(np.abs(ideal.real)), np.max(np.abs(ideal.imag)))
    if zlim is None:
        zlim = max(0.5, math.ceil(largest * 10 - 1e-9) / 10)
    elif not (isinstance(zlim, int | float) and math.isfinite(zlim) and zlim > 0):
        raise ValueError(f"zlim must be a positive number, got {zlim!r}")

    _require_matplotlib()
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    if axes is not None:
        panels = list(axes)
        if len(panels) != 2 or not all(hasattr(p, "bar3d") for p in panels):
            raise ValueError("axes must be two 3D axes (projection='3d'): Re ρ and Im ρ")
        figure = _root_figure(panels[0])
    else:
        if fig is None:
            from matplotlib.figure import Figure

            fig = Figure(figsize=(10.0, 4.6), layout="constrained")
        figure = fig
        panels = [fig.add_subplot(1, 2, k, projection="3d") for k in (1, 2)]

    rows, cols = np.meshgrid(np.arange(d), np.arange(d), indexing="ij")
    width = 0.6
    x = rows.ravel() - width / 2
    y = cols.ravel() - width / 2
    cmap, norm = colormaps["RdBu_r"], Normalize(-zlim, zlim)
    parts = [("Re ρ", arr.real, None if ideal is None else ideal.real)]
    parts.append(("Im ρ", arr.imag, None if ideal is None else ideal.imag))
    for ax, (name, values, ideal_values) in zip(panels, parts, strict=True):
        heights = values.ravel()
        ax.computed_zorder = False  # keep the target wireframe above the bars
        ax.bar3d(
            x, y, np.zeros(d * d), width, width, heights,
            color=cmap(norm(heights)), shade=True, gid="bars", zorder=1,
        )  # fmt: skip
        shown = np.abs(ideal_values.ravel()) > 1e-12 if ideal_values is not None else []
        if np.any(shown):  # a wireframe on the target's non-zero elements only
            ax.bar3d(
                x[shown], y[shown], np.zeros(shown.sum()), width, width,
                ideal_values.ravel()[shown],
                color=(1.0, 1.0, 1.0, 0.0), edgecolor="k", linewidth=0.6, shade=False,
                gid="target", zorder=2,
            )  # fmt: skip
        ax.set_zlim(-zlim, zlim)
        ax.set_xticks(np.arange(d), ticks)
        ax.set_yticks(np.arange(d), ticks)
        ax.tick_params(labelsize=7 if d > 4 else 9, pad=0)
        ax.set_title(name)
    if title:
        figure.suptitle(title)
    return figure


# --------------------------------------------------------------------------- saving


def save_figure(
    fig: Figure, path: str | os.PathLike[str], *, dpi: float = 150, **kwargs: Any
) -> Path:
    """Save ``fig`` to ``path`` (format from the suffix), creating parent folders.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or path-like
        File name; ``.png``, ``.pdf``, ``.svg``… select the format.
    dpi : float
        Resolution of raster formats, dots per inch.
    **kwargs
        Passed to :meth:`matplotlib.figure.Figure.savefig`.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    if not hasattr(fig, "savefig"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not (isinstance(dpi, int | float) and math.isfinite(dpi) and dpi > 0):
        raise ValueError(f"dpi must be a positive number, got {dpi!r}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, **kwargs)
    return out
