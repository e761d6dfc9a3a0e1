"""Device files: read and write a :class:`~giantatoms.model.device.Device` as TOML.

A device file holds lab units, so that it reads like a chip's parameter table; the reader
converts them to the package's internal units (rad/s, s, m). Example::

    # Two giant atoms coupled sequentially (A1 A2 B1 B2).
    name = "sequential_pair"
    description = "What this chip is and where its numbers come from."
    assumptions = ["2 MHz per coupling point (not measured)"]

    [waveguide]
    phase_velocity_m_per_s = 1.2e8

    [[atoms]]
    name = "A"
    frequency_ghz = 4.6          # f = ω/2π
    points_mm = [0.0, 84.0]      # coupling-point positions along the waveguide
    point_rates_mhz = 2.0        # γ/2π per point: one number or one per point
    levels = 3
    anharmonicity_mhz = -200.0   # α/2π
    t1_us = 30.0
    t2_us = 29.5
    n_thermal = 0.01

    [[atoms]]
    name = "B"
    frequency = "4.6 GHz"        # the same parameters may be written as unit strings
    points = ["104.3 mm", "188.3 mm"]
    point_rates = "2 MHz"
    levels = 2

Top level
    ``name`` (string), ``description`` (string), ``assumptions`` (array of strings): all
    optional. ``[waveguide]`` (required) with ``phase_velocity_m_per_s`` (m/s).
    ``[[atoms]]`` (required, one table per atom, in basis order).

Atom keys (each numeric parameter has a unit-suffixed key taking numbers, and a plain key
taking unit strings read by :func:`giantatoms.units.parse_quantity`; give one of the two)

    ==========================  ======================  ===========================================
    numeric key                 unit-string key         meaning
    ==========================  ======================  ===========================================
    ``name``                                            unique string (required)
    ``frequency_ghz``           ``frequency``           bare g→e frequency f = ω/2π (required)
    ``points_mm``               ``points``              list of positions (required)
    ``point_rates_mhz``         ``point_rates``         γ/2π, number or one per point (required)
    ``right_fraction``                                  γ^R/γ, number or one per point (0.5)
    ``levels``                                          2 or 3 (default 2)
    ``anharmonicity_mhz``       ``anharmonicity``       α/2π (required when ``levels = 3``)
    ``t1_us``                   ``t1``                  intrinsic T1 (optional)
    ``t_phi_us``                ``t_phi``               pure-dephasing time (optional)
    ``t2_us``                   ``t2``                  intrinsic Ramsey T2 (optional; not with
                                                        ``t_phi``)
    ``n_thermal``                                       thermal occupation (default 0)
    ==========================  ======================  ===========================================

Frequencies and rates in files are ordinary frequencies (GHz, MHz); inside the package they are
angular, ``frequency_ghz = 4.6`` becomes ``4.6 * giantatoms.units.GHz`` rad/s. Unknown keys,
missing required keys, both forms of one parameter and values of the wrong type are errors
that name the key and the atom; the range checks are those of the dataclasses.

:func:`device_to_toml` writes every parameter with the unit-suffixed keys, each float with the
shortest decimal that converts back to the same bits, so ``device_from_toml(device_to_toml(d))
== d`` holds exactly whenever the values are representable as (float in the file's unit) × unit
(e.g. anything read from a file or built as ``4.6 * GHz``); otherwise to within one ulp.
"""

from __future__ import annotations

from pathlib import Path

from giantatoms.model._toml import _device_from_text as _parse
from giantatoms.model._toml import write_device
from giantatoms.model.device import Device

__all__ = ["device_from_toml", "device_to_toml"]


def device_from_toml(source: str | Path) -> Device:
    """Read a device from a TOML file or a TOML string.

    Parameters
    ----------
    source : str or pathlib.Path
        A path to a device file, or the TOML text itself (format: module docstring). A
        ``str`` with a newline is TOML text; otherwise it is a path if it names an existing
        file or ends in ``.toml``, TOML text if it contains ``=``, and an error if neither.

    Returns
    -------
    Device

    Raises
    ------
    TypeError
        When ``source`` is neither a ``str`` nor a ``Path``.
    FileNotFoundError
        When ``source`` is a path (a ``Path``, or a string ending in ``.toml``) that does not
        exist.
    ValueError
        Malformed TOML (with the line and column), unknown or missing keys, both spellings of
        one parameter, values of the wrong type or out of range. Messages name the key and
        the atom, and the file when reading one.
    """
    return Device.from_toml(source)


def _device_from_text(text: str, *, where: str | None = None) -> Device:
    """A device from TOML ``text``; ``where`` (a file name) prefixes every error message."""
    return _parse(text, Device, where=where)


def device_to_toml(device: Device, path: str | Path | None = None) -> str:
    """Write a device as TOML in the format of the module docstring.

    Parameters
    ----------
    device : Device
        A single chip: every parameter scalar, per-point parameters one-dimensional.
    path : str or pathlib.Path, optional
        When given, the text is also written there (UTF-8), replacing any existing file.

    Returns
    -------
    str
        The TOML text, starting with a comment header that states the units.

    Raises
    ------
    ValueError
        When a parameter has a batch dimension (e.g. ``frequency`` given as an array): a
        device file describes one chip.
    """
    if not isinstance(device, Device):
        raise TypeError(f"device must be a Device, got {type(device).__name__}")
    return write_device(device, path)
