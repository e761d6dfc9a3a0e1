"""Ready-made devices, shipped as commented TOML files (package data).

Each preset is a device file in the format of :mod:`giantatoms.model.io` whose comment header
explains the device and whose ``assumptions`` list every parameter that was assumed rather
than measured::

    >>> from giantatoms import presets
    >>> presets.names()
    ['braided_pair', 'sequential_pair', 'small_atoms_one_wavelength']
    >>> device = presets.load("sequential_pair")      # or presets.load(), the default
    >>> print(presets.text("braided_pair"))           # doctest: +SKIP
    >>> device = device.replace_atom("A", t1=50e-6)   # override an assumption

Presets
    ``sequential_pair`` (alias ``almanakly2026``, the default)
        The reconstructed chip of Almanakly et al., arXiv:2606.13375 (PHYSICS.md §1.1): two
        giant atoms, two points each, sequential; DF point at 5.000 GHz, entangling point at
        4.6 GHz.
    ``braided_pair``
        Braided giant atoms at φ = π/2: decoherence-free interaction, Γ = Γ_coll = 0, |J| = γ
        (Kannan et al., Nature 583, 775 (2020)).
    ``small_atoms_one_wavelength``
        Two lossless two-level small atoms one wavelength apart: perfect correlation, J = 0.

The files are read with :mod:`importlib.resources`, so presets work from an installed wheel.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType

from giantatoms.model.device import Device

__all__ = ["ALIASES", "DEFAULT", "describe", "load", "names", "path", "text"]

#: The preset of the experiment this package reproduces.
DEFAULT: str = "sequential_pair"

#: Other names accepted by every function of this module, mapped to the preset they denote.
ALIASES = MappingProxyType({"almanakly2026": "sequential_pair"})

_SUFFIX = ".toml"


def names() -> list[str]:
    """Names of the available presets (without aliases), sorted.

    Returns
    -------
    list of str
    """
    files = resources.files(__name__).iterdir()
    return sorted(f.name[: -len(_SUFFIX)] for f in files if f.name.endswith(_SUFFIX))


def _canonical(name: str) -> str:
    available = names()
    key = name.strip().lower() if isinstance(name, str) else name
    key = ALIASES.get(key, key)
    if key not in available:
        aliases = ", ".join(f"{a!r} → {t!r}" for a, t in ALIASES.items())
        raise ValueError(
            f"unknown preset {name!r}; available presets: {available} (aliases: {aliases})"
        )
    return key


def path(name: str = DEFAULT) -> Traversable:
    """Location of a preset's TOML file inside the installed package.

    Parameters
    ----------
    name : str
        Preset name or alias (case-insensitive).

    Returns
    -------
    importlib.resources.abc.Traversable
        A :class:`pathlib.Path` for an ordinary installation; use :func:`text` or :func:`load`
        when the package may live inside a zip archive.
    """
    return resources.files(__name__).joinpath(_canonical(name) + _SUFFIX)


def text(name: str = DEFAULT) -> str:
    """Return the raw TOML of a preset, with its explanatory comments.

    Parameters
    ----------
    name : str
        Preset name or alias (case-insensitive).

    Returns
    -------
    str
    """
    return path(name).read_text(encoding="utf-8")


def load(name: str = DEFAULT) -> Device:
    """Build the device of a preset.

    Parameters
    ----------
    name : str, default ``DEFAULT``
        Preset name or alias (case-insensitive).

    Returns
    -------
    Device
        Immutable; change parameters with :meth:`Device.replace_atom`.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the available presets).
    """
    from giantatoms.model.io import _device_from_text

    key = _canonical(name)
    return _device_from_text(text(key), where=f"preset {key!r} ({key}{_SUFFIX})")


def describe(name: str = DEFAULT) -> str:
    """Summarise a preset for humans: description, parameters in lab units, assumptions.

    Parameters
    ----------
    name : str
        Preset name or alias (case-insensitive).

    Returns
    -------
    str
    """
    from giantatoms.units import GHz, MHz, us

    key = _canonical(name)
    device = load(key)
    aliases = [a for a, target in ALIASES.items() if target == key]
    title = key + (f" (alias: {', '.join(aliases)})" if aliases else "")
    lines = [title, "=" * len(title), device.description, ""]
    lines.append(f"waveguide: phase velocity v = {device.waveguide.phase_velocity:.6g} m/s")
    for atom in device.atoms:
        points = ", ".join(f"{x / 1e-3:.10g}" for x in atom.points)
        rates = ", ".join(f"{g / MHz:.6g}" for g in atom.rates_per_point)
        parts = [f"f = {float(atom.frequency) / GHz:.6g} GHz", f"{atom.levels} levels"]
        if atom.anharmonicity is not None:
            parts.append(f"α/2π = {float(atom.anharmonicity) / MHz:.6g} MHz")
        lines.append(f"atom {atom.name}: " + ", ".join(parts))
        lines.append(f"  coupling points (mm): {points}")
        lines.append(f"  γ/2π per point (MHz): {rates}")
        times = [
            f"{label} = {float(value) / us:.6g} µs"
            for label, value in (("T1", atom.t1), ("Tφ", atom.t_phi), ("T2", atom.t2))
            if value is not None
        ]
        times.append(f"n_th = {float(atom.n_thermal):.6g}")
        lines.append("  " + ", ".join(times))
    lines.append("")
    lines.append("assumptions:")
    lines.extend(f"  - {a}" for a in device.assumptions)
    return "\n".join(lines)
