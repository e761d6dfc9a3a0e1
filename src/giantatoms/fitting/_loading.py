"""Helpers of the loaders: reading a text data file, and putting points in frequency order.

Nothing is dropped silently: :func:`_order_points` sorts points out of frequency order and
drops exactly repeated rows with a :class:`UserWarning` that counts them, and refuses a
frequency repeated with different data; :func:`_read_text` gives one-line errors for a
missing, binary or special file.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__: list[str] = []


def _show_frequencies(values: NDArray[np.float64], unit: str, limit: int = 4) -> str:
    """The first ``limit`` of ``values`` as text, "and N more" after them."""
    shown = ", ".join(f"{v:.10g}" for v in values[:limit])
    more = f" and {values.size - limit} more" if values.size > limit else ""
    return f"{shown}{more} {unit}"


def _order_points(
    frequencies: ArrayLike,
    columns: Mapping[str, ArrayLike | None],
    *,
    where: str,
    unit: str,
) -> tuple[Any, dict[str, Any]]:
    """Sort user data by frequency and handle repeated frequencies, never silently.

    Parameters
    ----------
    frequencies : array_like, shape (P,)
        In ``unit`` (only used in messages).
    columns : mapping name → array_like of shape (P, ...) or None
        Everything that belongs to a point (traces, per-point σ, whole file rows); all are
        reordered together.
    where : str
        Names the data in messages (a file, ``"SpectroscopyData.from_arrays"``).
    unit : str
        Unit of ``frequencies`` for messages.

    Returns
    -------
    frequencies, columns
        Sorted, with exactly repeated rows dropped. Sorted inputs, and inputs the constructor
        will reject anyway (NaN, not numbers), are returned unchanged, for it to report.

    Raises
    ------
    ValueError
        When a frequency appears more than once with different data, or the points to sort
        have mismatched lengths.

    Warns
    -----
    UserWarning
        When points were out of order (they are sorted) or rows were repeated exactly (the
        repeats are dropped); the message says how many.
    """
    try:
        freq = np.asarray(frequencies, dtype=float)
        arrays = {k: np.asarray(v) for k, v in columns.items() if v is not None}
    except (TypeError, ValueError):
        return frequencies, dict(columns)
    n = freq.size
    if freq.ndim != 1 or n < 2 or not np.all(np.isfinite(freq)) or np.all(np.diff(freq) > 0):
        return frequencies, dict(columns)
    for name, a in arrays.items():
        if a.ndim < 1 or a.shape[0] != n:
            raise ValueError(
                f"{where}: {name} has shape {a.shape} but frequencies has {n} points "
                "(mismatched lengths)"
            )
    order = np.argsort(freq, kind="stable")
    moved = int(np.count_nonzero(order != np.arange(n)))
    freq = freq[order]
    arrays = {k: a[order] for k, a in arrays.items()}
    repeat = np.diff(freq) == 0  # point i + 1 repeats point i
    dropped = 0
    if np.any(repeat):
        differs = np.zeros(n - 1, dtype=bool)
        for a in arrays.values():
            same = a[1:] == a[:-1]
            differs |= ~same.reshape(n - 1, -1).all(axis=1)
        conflict = np.unique(freq[1:][repeat & differs])
        if conflict.size:
            raise ValueError(
                f"{where}: {conflict.size} frequency value(s) appear more than once with "
                f"different data ({_show_frequencies(conflict, unit)}); average or remove the "
                "repeated points (frequencies must be distinct)"
            )
        keep = np.concatenate([[True], ~repeat])
        dropped = int(n - keep.sum())
        freq = freq[keep]
        arrays = {k: a[keep] for k, a in arrays.items()}
        warnings.warn(
            f"{where}: dropped {dropped} exactly repeated row(s) (same frequency and data); "
            f"{freq.size} of {n} points kept",
            UserWarning,
            stacklevel=3,
        )
    if moved:
        warnings.warn(
            f"{where}: {moved} of {n} points were out of frequency order; sorted them by "
            "frequency (every trace and σ moved with its frequency)",
            UserWarning,
            stacklevel=3,
        )
    out: dict[str, Any] = dict.fromkeys(columns)
    out.update(arrays)
    return freq, out


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def _read_text(path: Path, what: str) -> str:
    """The text of a data file; one-line errors for a missing, empty-named or binary file."""
    if not path.exists():
        raise FileNotFoundError(f"no {what} file {str(path)!r} (the path does not exist)")
    if not path.is_file():
        raise ValueError(f"{path}: not a {what} file (it is a directory or a special file)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # instrument exports with a ° or µ in a comment
    bad = _CONTROL.search(text)
    if bad is not None:
        raise ValueError(
            f"{path}: not a text {what} file (character {bad.start()} is the control code "
            f"{bad.group()!r}: binary data?); expected lines of numbers"
        )
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
