"""Figures against frequency: rates and Lamb shifts, S-parameter maps and traces, line fits.

Waveguide rates and Lamb shifts of a pair with its operating points, spectroscopy maps and
|S|² traces (with measured points), and fitted single-atom lines against the analytic curves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import choice
from giantatoms.plotting._common import (
    _colour_mesh,
    _figure_and_axes,
    _label,
    _one_d,
    _require_matplotlib,
    _root_figure,
    _symbol,
)
from giantatoms.units import GHz, MHz

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from giantatoms.model.device import Device

__all__ = [
    "SPECTROSCOPY_QUANTITIES",
    "plot_line_fits",
    "plot_rates",
    "plot_spectroscopy_map",
    "plot_spectrum",
]

#: What :func:`plot_spectroscopy_map` can show of S21.
SPECTROSCOPY_QUANTITIES = ("magnitude", "db", "phase")


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


# --------------------------------------------------------------------------- line fits


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
