"""Operators on the multi-atom Hilbert space.

Basis order: the first atom is the most significant tensor factor (QuTiP's ``tensor``
convention), so a basis state index is ``np.ravel_multi_index(levels_of_each_atom, dims)``.
Level 0 is |g⟩, 1 is |e⟩, 2 is |f⟩. States and operators therefore move to and from QuTiP
unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "basis_index",
    "basis_labels",
    "embed",
    "lowering",
    "number",
    "transition_lowering",
]

LEVEL_NAMES = "gef"


def lowering(levels: int) -> NDArray[np.complex128]:
    """Transmon ladder operator b = |g⟩⟨e| + √2|e⟩⟨f| truncated to ``levels`` (2 or 3).

    Returns
    -------
    ndarray, complex, shape (levels, levels)
    """
    return np.diag(np.sqrt(np.arange(1, levels)), k=1).astype(complex)


def number(levels: int) -> NDArray[np.complex128]:
    """Number operator b†b = diag(0, 1, 2, ...), shape (levels, levels)."""
    return np.diag(np.arange(levels)).astype(complex)


def transition_lowering(levels: int, lower: int) -> NDArray[np.complex128]:
    """Lowering operator of the single transition ``lower+1 → lower`` with its matrix element.

    For ``lower=0`` this is |g⟩⟨e|, for ``lower=1`` it is √2|e⟩⟨f|, so that the transitions
    sum to the ladder operator :func:`lowering`.
    """
    op = np.zeros((levels, levels), dtype=complex)
    op[lower, lower + 1] = np.sqrt(lower + 1)
    return op


def embed(op: NDArray, index: int, dims: Sequence[int]) -> NDArray[np.complex128]:
    """Embed a single-atom operator acting on atom ``index`` into the full space.

    Parameters
    ----------
    op : ndarray, shape (dims[index], dims[index])
    index : int
        Position of the atom (0 is the most significant factor).
    dims : sequence of int
        Levels of each atom.

    Returns
    -------
    ndarray, complex, shape (prod(dims), prod(dims))
    """
    factors = [np.eye(n, dtype=complex) for n in dims]
    factors[index] = np.asarray(op, dtype=complex)
    return reduce(np.kron, factors)


def basis_index(levels: Sequence[int], dims: Sequence[int]) -> int:
    """Index of the product basis state with the given level of each atom."""
    return int(np.ravel_multi_index(tuple(levels), tuple(dims)))


def basis_labels(dims: Sequence[int]) -> list[str]:
    """Labels of the product basis, e.g. ``['gg', 'ge', 'gf', 'eg', ...]`` for dims (3, 3)."""
    return ["".join(LEVEL_NAMES[i] for i in idx) for idx in np.ndindex(*dims)]
