"""Parameter checks shared by the public constructors: fail early, name the parameter."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def real_array(
    value: ArrayLike,
    name: str,
    *,
    owner: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
    strict_minimum: bool = False,
    allow_inf: bool = False,
) -> NDArray[np.float64]:
    """Return ``value`` as a read-only float array after checking finiteness and bounds.

    Raises
    ------
    TypeError
        When the value is not real numbers.
    ValueError
        Naming ``owner`` and ``name``, the offending value and the allowed range.
    """
    where = f"{owner}: " if owner else ""
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{where}{name} must be real numbers, got {value!r}") from exc
    if np.iscomplexobj(np.asarray(value)):
        raise TypeError(f"{where}{name} must be real, got complex {value!r}")
    if np.any(np.isnan(arr)):
        raise ValueError(f"{where}{name} must not be NaN, got {value!r}")
    if not allow_inf and np.any(np.isinf(arr)):
        raise ValueError(f"{where}{name} must be finite, got {value!r}")
    if minimum is not None:
        bad = arr <= minimum if strict_minimum else arr < minimum
        if np.any(bad):
            op = ">" if strict_minimum else "≥"
            raise ValueError(f"{where}{name} must be {op} {minimum:g}, got {_show(arr[bad])}")
    if maximum is not None and np.any(arr > maximum):
        raise ValueError(f"{where}{name} must be ≤ {maximum:g}, got {_show(arr[arr > maximum])}")
    arr.setflags(write=False)
    return arr


def _show(bad: NDArray) -> str:
    flat = np.ravel(bad)
    return f"{flat[0]:g}" if flat.size == 1 else f"{flat[0]:g} (and {flat.size - 1} more)"


def choice(value: str, name: str, allowed: tuple[str, ...], *, owner: str = "") -> str:
    """Check that ``value`` is one of ``allowed`` (case-insensitive) and return it lower-cased."""
    where = f"{owner}: " if owner else ""
    if not isinstance(value, str) or value.lower() not in allowed:
        raise ValueError(f"{where}{name} must be one of {list(allowed)}, got {value!r}")
    return value.lower()
