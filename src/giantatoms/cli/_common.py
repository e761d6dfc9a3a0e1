"""What the subcommands share: the argument parser, unit strings, devices and pairs, JSON."""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from giantatoms.cli._errors import _UsageError


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and whose values may be negative quantities.

    argparse takes any argument that starts with ``-`` and is not a plain negative number for an
    option, so ``--power -130dBm`` would fail with "expected one argument"; negative numbers
    followed by a unit are accepted as values here.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(
            r"^-(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?:\s*[A-Za-zµμ/]+)?$|^-inf(?:\s*[A-Za-z]+)?$"
        )

    def error(self, message: str) -> Any:  # type: ignore[override]
        """Raise instead of printing the usage: :func:`main` prints one line and returns 2."""
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _parse_quantity(text: str | float, kind: str) -> float:
    """``parse_quantity`` whose error says so when the text is a quantity of another kind."""
    from giantatoms.units import parse_quantity

    try:
        return parse_quantity(text, kind)
    except ValueError as exc:
        for other in ("frequency", "time", "power", "length"):
            if other == kind:
                continue
            try:
                parse_quantity(text, other)
            except ValueError:
                continue
            raise ValueError(f"{exc} ({text!r} is a {other}, a {kind} is expected)") from None
        raise


def _quantity(kind: str) -> Any:
    """An argparse ``type=`` reading a unit string of ``kind`` into internal units."""

    def parse(text: str) -> float:
        try:
            return _parse_quantity(text, kind)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = kind  # argparse names the type in its messages
    return parse


def _atom_frequency(text: str) -> tuple[str, float]:
    """``NAME=4.6GHz`` → (name, rad/s), an argparse ``type=``."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(
            f"expected NAME=FREQUENCY such as 'A=4.60GHz', got {text!r}"
        )
    return name.strip(), _quantity("frequency")(value)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"need at least 2 points, got {value}")
    return value


def _add_device_options(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    source = parser.add_mutually_exclusive_group()
    if default is None:
        source.add_argument("--preset", help="packaged device name (overrides the file's device)")
        source.add_argument("--device", help="device TOML file (overrides the file's device)")
        return
    source.add_argument(
        "--preset",
        default=default,
        help=f"packaged device name (default: {default}; see 'giantatoms presets')",
    )
    source.add_argument("--device", help="device TOML file")


def _paragraphs(*texts: str) -> str:
    """Help text of several paragraphs, each filled to 88 columns (raw help formatter)."""
    import textwrap

    return "\n\n".join(textwrap.fill(" ".join(t.split()), 88) for t in texts)


def _add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print machine-readable JSON (lab units, named in the keys) and nothing else",
    )


def _load_device(args: argparse.Namespace) -> Any:
    from giantatoms.model import presets
    from giantatoms.model.device import Device

    if args.device is not None:
        return Device.from_toml(Path(args.device))
    return presets.load(args.preset)


_TARGETS = ("auto", "psi-", "psi+", "phi+", "phi-")


def _atom_index(device: Any, name: str | int) -> int:
    """Index of an atom given by name, or by position when no atom has that name."""
    if isinstance(name, str) and name not in device.atom_names and re.fullmatch(r"-?\d+", name):
        return device.index(int(name))
    return device.index(name)


def _pair_indices(device: Any, pair: Sequence[str | int] | None) -> tuple[int, int] | None:
    """The pair as indices (default the first two atoms; None for a one-atom device)."""
    if pair is None:
        return (0, 1) if device.n_atoms >= 2 else None
    if len(pair) != 2:
        raise ValueError(f"pair must name two atoms, got {list(pair)}")
    i, j = (_atom_index(device, p) for p in pair)
    if i == j:
        raise ValueError(f"pair must name two different atoms, got {list(pair)}")
    return i, j


def _needs_pair(device: Any, pair: tuple[int, int] | None) -> tuple[int, int]:
    if pair is None:
        raise ValueError(
            f"device {device.name or '(unnamed)'!r} has one atom; this needs a pair of atoms"
        )
    return pair


def _frequencies_with(device: Any, overrides: Sequence[tuple[str, float]] | None) -> Any:
    """The device's bare frequencies (rad/s, one per atom) with ``NAME=FREQ`` overrides."""
    freqs = np.array(device.frequencies, dtype=float)
    if freqs.ndim != 1:
        raise ValueError("the device's atom frequencies must be single values, not arrays")
    for name, value in overrides or ():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"atom frequency of {name!r} must be > 0 Hz")
        freqs[_atom_index(device, name)] = value
    return freqs


def _device_label(device: Any) -> str:
    return device.name or "device"


def _operating_point(
    device: Any,
    detuning: float,
    pair: tuple[int, int],
    band: tuple[float, float] | None = None,
) -> Any:
    """``entangling_operating_point`` with a lab-unit message when there is none in the band.

    The perfect-correlation frequency is the one in ``band`` (default ±5 % about the pair's
    mean bare frequency, as the library's) nearest that mean frequency.
    """
    from giantatoms.model.couplings import (
        entangling_operating_point,
        perfect_correlation_frequencies,
    )
    from giantatoms.units import GHz

    i, j = pair
    centre = 0.5 * float(device.atoms[i].frequency + device.atoms[j].frequency)
    band = band if band is not None else (0.95 * centre, 1.05 * centre)
    found = perfect_correlation_frequencies(device, pair, band)
    if found.size == 0:
        names = device.atom_names
        raise ValueError(
            f"atoms {names[i]!r} and {names[j]!r} have no perfect-correlation frequency in "
            f"{band[0] / GHz:.6g}–{band[1] / GHz:.6g} GHz, so no entangling operating point"
        )
    w0 = float(found[np.argmin(np.abs(found - centre))])
    return entangling_operating_point(device, detuning, pair=pair, correlation_frequency=w0)


def _clean(value: Any) -> Any:
    """JSON-ready copy: numpy scalars and arrays to Python, NaN and ±inf to None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _print_json(payload: dict[str, Any]) -> None:
    print(json.dumps(_clean(payload), indent=2, ensure_ascii=False, allow_nan=False))


def _per_atom(names: Sequence[str], values: Any, scale: float) -> dict[str, float]:
    return {n: float(v) / scale for n, v in zip(names, np.asarray(values), strict=True)}


def _ghz_list(values: Any) -> str:
    from giantatoms.units import GHz

    values = np.atleast_1d(np.asarray(values, dtype=float))
    if values.size == 0:
        return "none"
    return ", ".join(f"{v / GHz:.6f}" for v in values) + " GHz"
