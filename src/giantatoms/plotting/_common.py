"""What every figure shares: matplotlib on demand, headless figures, labels in lab units, saving.

matplotlib is imported when a function is called (:func:`_require_matplotlib`), so importing
this module (and :mod:`giantatoms.plotting`) works without it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import os

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["save_figure"]

_INSTALL_HINT = "pip install 'giantatoms[plot]'"
_PROTOCOL_METRICS = {
    "bell_fidelity": "Bell fidelity (drive frame)",
    "bell_fidelity_optimized": "Bell fidelity (max. over local Z phases)",
    "concurrence": "concurrence",
    "leakage": "leakage out of the qubit subspace",
}
_DISPLAY_UNITS = {"us": "µs", "1": ""}


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
