"""Density matrices as 3D bar charts ("cityscapes"), with an ideal target state."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import choice
from giantatoms.plotting._common import _require_matplotlib, _root_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_density_matrix"]

_LEVEL_LETTERS = "gefhijkl"


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
