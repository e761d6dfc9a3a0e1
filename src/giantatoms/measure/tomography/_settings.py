"""Measurement settings: the named setting sets, their canonical spelling and pre-rotations."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

#: Joint outcomes in the order of the last axis of every count array (first qubit first).
OUTCOMES: tuple[str, ...] = ("gg", "ge", "eg", "ee")

#: Single-qubit pre-rotations of the gate settings, in the order used by SETTINGS_CARDINAL.
PRE_ROTATIONS: tuple[str, ...] = ("I", "X180", "X90", "mX90", "Y90", "mY90")

#: The 9 Pauli settings: each letter is the axis measured on that qubit.
SETTINGS_PAULI: tuple[str, ...] = tuple(a + b for a, b in itertools.product("XYZ", repeat=2))

#: The 36 gate settings "R_A:R_B" from the 6 pre-rotations on each qubit (over-complete).
SETTINGS_CARDINAL: tuple[str, ...] = tuple(
    f"{a}:{b}" for a, b in itertools.product(PRE_ROTATIONS, repeat=2)
)

_NAMED_SETS: dict[str, tuple[str, ...]] = {"pauli": SETTINGS_PAULI, "cardinal": SETTINGS_CARDINAL}

_I2 = np.eye(2, dtype=complex)
_SX = np.array([[0, 1], [1, 0]], dtype=complex)
_SY = np.array([[0, -1j], [1j, 0]], dtype=complex)
_SZ = np.array([[1, 0], [0, -1]], dtype=complex)


def _rotation(sigma: NDArray[np.complex128], angle: float) -> NDArray[np.complex128]:
    """R(θ) = exp(−iθσ/2) = cos(θ/2) − i sin(θ/2) σ."""
    return math.cos(angle / 2) * _I2 - 1j * math.sin(angle / 2) * sigma


_GATES: dict[str, NDArray[np.complex128]] = {
    "I": _I2,
    "X180": _rotation(_SX, math.pi),
    "X90": _rotation(_SX, math.pi / 2),
    "mX90": _rotation(_SX, -math.pi / 2),
    "Y90": _rotation(_SY, math.pi / 2),
    "mY90": _rotation(_SY, -math.pi / 2),
}
_PAULI_GATE = {"X": "mY90", "Y": "X90", "Z": "I"}


def _canonical_gate(token: str, setting: str) -> str:
    text = token.strip()
    if text.startswith("-"):
        text = "m" + text[1:]
    for gate in PRE_ROTATIONS:
        if text.lower() == gate.lower():
            return gate
    raise ValueError(
        f"settings: unknown pre-rotation {token!r} in setting {setting!r}; allowed: "
        f"{list(PRE_ROTATIONS)} (or '-X90', '-Y90')"
    )


def _canonical_setting(setting: object) -> str:
    """Return the canonical spelling of one setting, or raise naming it."""
    if not isinstance(setting, str):
        raise TypeError(f"settings: each setting must be a string, got {setting!r}")
    text = setting.strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 2:
            raise ValueError(f"settings: a gate setting is 'R_A:R_B' with one ':', got {setting!r}")
        return ":".join(_canonical_gate(p, setting) for p in parts)
    upper = text.upper()
    if len(upper) == 2 and all(c in "XYZ" for c in upper):
        return upper
    raise ValueError(
        f"settings: unknown setting {setting!r}; use two Pauli letters ('XY', see "
        f"SETTINGS_PAULI) or two pre-rotations 'R_A:R_B' from {list(PRE_ROTATIONS)}"
    )


def _resolve_settings(settings: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(settings, str):
        key = settings.strip().lower()
        if key not in _NAMED_SETS:
            raise ValueError(
                f"settings must be 'pauli', 'cardinal' or a sequence of setting strings, "
                f"got {settings!r}"
            )
        return _NAMED_SETS[key]
    try:
        out = tuple(_canonical_setting(s) for s in settings)
    except TypeError as exc:
        raise TypeError(f"settings must be a sequence of strings, got {settings!r}") from exc
    if not out:
        raise ValueError("settings must not be empty")
    return out


def _gate_names(setting: str) -> tuple[str, str]:
    if ":" in setting:
        a, b = setting.split(":")
        return a, b
    return _PAULI_GATE[setting[0]], _PAULI_GATE[setting[1]]


def pre_rotations(setting: str) -> NDArray[np.complex128]:
    """Pre-rotation unitaries of one setting, one per qubit.

    Parameters
    ----------
    setting : str
        A Pauli setting (``"XY"``: measured axis of each qubit) or a gate setting
        (``"X90:mY90"``); see the module docstring for the conventions.

    Returns
    -------
    ndarray, complex, shape (2, 2, 2)
        ``[U_A, U_B]`` in the basis (|g⟩, |e⟩), applied as ρ → (U_A ⊗ U_B) ρ (U_A ⊗ U_B)†
        before the measurement of g versus e.
    """
    name = _canonical_setting(setting)
    return np.array([_GATES[g] for g in _gate_names(name)])
