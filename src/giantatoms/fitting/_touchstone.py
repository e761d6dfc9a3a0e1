"""Reading Touchstone files (.sNp version 1 here, version 2 and Y/Z/G/H via scikit-rf).

:func:`_read_touchstone` returns the frequencies in the file's unit, the S matrices and that
unit, keeping every data row; :meth:`~giantatoms.fitting.SpectroscopyData.from_touchstone`
turns them into data.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from giantatoms.fitting._loading import _is_number

__all__: list[str] = []


_TOUCHSTONE_UNITS = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9}
_TOUCHSTONE_FORMATS = ("ri", "ma", "db")
_TOUCHSTONE_EXTENSION = re.compile(r"\.[sygzh](\d+)p$", re.IGNORECASE)


def _read_touchstone(path: Path, text: str) -> tuple[NDArray[np.float64], NDArray, str]:
    """Frequencies (in the file's unit), S matrices (F, N, N) and that unit, every row kept.

    Version-1 S-parameter files are parsed line by line: each frequency point of a 1- or
    2-port file is one line of 1 + 2N² numbers, of more ports 1 + 2N² numbers over several
    lines; a 2-port file may end with a noise block of 5-number lines, which is skipped.
    Version-2 files (a ``[Version]`` keyword) and Y/Z/G/H parameters go through scikit-rf,
    with the point count checked against the file.
    """
    match = _TOUCHSTONE_EXTENSION.search(path.name)
    lines = list(enumerate(text.splitlines(), start=1))
    keyword = any(line.lstrip().startswith("[") for _, line in lines)
    if match is None and not (path.suffix.lower() == ".ts" or keyword):
        raise ValueError(
            f"{path}: not a Touchstone file name; expected the extension .sNp (N ports: .s1p, "
            ".s2p, …) or .ts"
        )
    if not any(line.split("!", 1)[0].strip() for _, line in lines):
        raise ValueError(
            f"{path}: empty Touchstone file (no option line and no data rows); expected "
            "'# <unit> S <format> R <ohms>' and one line per frequency"
        )
    if keyword or match is None:
        return _read_touchstone_with_skrf(path, text)
    ports = int(match.group(1))
    if ports < 1:
        raise ValueError(f"{path}: a Touchstone file has at least one port, the name says 0")
    unit, parameter, layout = "ghz", "s", "ma"
    per_point = 1 + 2 * ports * ports
    records: list[list[float]] = []
    current: list[float] = []
    first_line = 0
    option_seen = noise = False
    for number, line in lines:
        body = line.split("!", 1)[0].strip()
        if not body:
            continue
        if body.startswith("#"):
            if not option_seen:
                unit, parameter, layout = _touchstone_options(path, number, body)
                option_seen = True
            continue
        tokens = body.split()
        for column, token in enumerate(tokens):
            if not _is_number(token):
                raise ValueError(
                    f"{path}, line {number}, field {column}: {token!r} is not a number "
                    "(Touchstone data lines hold only numbers)"
                )
        values = [float(t) for t in tokens]
        if ports <= 2:
            if noise or (ports == 2 and records and len(values) == 5):
                noise = True  # the noise parameters after the network data of a 2-port
                if len(values) != 5:
                    raise ValueError(
                        f"{path}, line {number}: {len(values)} numbers in the noise-parameter "
                        "block, which has 5 per line (network data must come first)"
                    )
                continue
            if len(values) != per_point:
                raise ValueError(
                    f"{path}, line {number}: {len(values)} numbers, but a {ports}-port "
                    f"Touchstone data line has {per_point} (frequency + {ports * ports} complex "
                    f"values); is the extension .s{ports}p right for this file?"
                )
            records.append(values)
            continue
        if not current:
            first_line = number
        current.extend(values)
        if len(current) > per_point:
            raise ValueError(
                f"{path}, line {number}: the frequency point starting on line {first_line} runs "
                f"over its {per_point} numbers (frequency + {ports * ports} complex values for "
                f"{ports} ports); is the extension .s{ports}p right for this file?"
            )
        if len(current) == per_point:
            records.append(current)
            current = []
    if current:
        raise ValueError(
            f"{path}: the last frequency point (from line {first_line}) has {len(current)} of "
            f"its {per_point} numbers; the file is truncated or its port count is wrong"
        )
    if not records:
        raise ValueError(f"{path}: no data rows (only the option line and comments)")
    if parameter != "s":
        return _read_touchstone_with_skrf(path, text, expected=len(records))
    table = np.array(records)
    a, b = table[:, 1::2], table[:, 2::2]
    if layout == "ri":
        flat = a + 1j * b
    else:
        magnitude = 10.0 ** (a / 20.0) if layout == "db" else a
        flat = magnitude * np.exp(1j * np.deg2rad(b))
    s = flat.reshape(-1, ports, ports)
    if ports == 2:  # version 1 writes a 2-port as S11 S21 S12 S22
        s = s.transpose(0, 2, 1)
    return table[:, 0], s, _touchstone_unit_name(unit)


def _touchstone_unit_name(unit: str) -> str:
    return {"hz": "Hz", "khz": "kHz", "mhz": "MHz", "ghz": "GHz"}[unit]


def _touchstone_options(path: Path, number: int, line: str) -> tuple[str, str, str]:
    """Frequency unit, parameter and format of an option line ``# GHz S MA R 50``."""
    unit, parameter, layout = "ghz", "s", "ma"
    tokens = line[1:].lower().split()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in _TOUCHSTONE_UNITS:
            unit = token
        elif token in ("s", "y", "z", "g", "h"):
            parameter = token
        elif token in _TOUCHSTONE_FORMATS:
            layout = token
        elif token == "r" and i + 1 < len(tokens) and _is_number(tokens[i + 1]):
            i += 1
        else:
            raise ValueError(
                f"{path}, line {number}: unknown entry {token!r} in the option line; expected "
                "'# <Hz|kHz|MHz|GHz> <S|Y|Z|G|H> <RI|MA|DB> R <ohms>'"
            )
        i += 1
    return unit, parameter, layout


def _read_touchstone_with_skrf(
    path: Path, text: str, expected: int | None = None
) -> tuple[NDArray[np.float64], NDArray, str]:
    """Read through scikit-rf; refuse when it returns fewer points than the file holds."""
    try:
        from skrf.io.touchstone import Touchstone
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{path}: reading Touchstone version 2 or Y/Z/G/H parameters needs scikit-rf: "
            "pip install 'giantatoms[fit]'"
        ) from exc
    try:
        touchstone = Touchstone(str(path))
        frequencies = np.asarray(touchstone.f, dtype=float)
        s = np.asarray(touchstone.s, dtype=complex)
    except Exception as exc:  # a third-party parser: report any failure as bad file content
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{path}: not a readable Touchstone file ({message})") from exc
    if frequencies.size == 0 or s.ndim != 3:
        raise ValueError(f"{path}: no network data rows")
    declared = re.search(r"^\s*\[number of frequencies\]\s*(\d+)", text, re.I | re.M)
    if expected is None and declared is not None:
        expected = int(declared.group(1))
    if expected is not None and frequencies.size != expected:
        raise ValueError(
            f"{path}: scikit-rf read {frequencies.size} frequency points but the file holds "
            f"{expected}; refusing to drop data silently (check the row order and noise block)"
        )
    return frequencies, s, "Hz"
