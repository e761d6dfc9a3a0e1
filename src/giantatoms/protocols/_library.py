"""Built-in protocols: the driven-dissipative entanglement experiment (PHYSICS.md §1)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from giantatoms._validation import choice, real_array
from giantatoms.model.couplings import (
    OperatingPoint,
    decoherence_free_frequencies,
    entangling_operating_point,
)
from giantatoms.model.device import Device, Drive
from giantatoms.protocols._segments import Protocol, Ramp, Segment

__all__ = ["AFTER_DRIVE", "driven_dissipative", "nearest_df_frequencies"]

#: What happens when the drive stops.
AFTER_DRIVE = ("move_to_df", "stay", "resonant")


def nearest_df_frequencies(
    device: Device,
    frequencies: ArrayLike,
    *,
    pair: tuple[int, int] = (0, 1),
    band: tuple[float, float] | None = None,
) -> np.ndarray:
    """The decoherence-free frequency of each atom of ``pair`` nearest to ``frequencies``.

    Parameters
    ----------
    device : Device
    frequencies : array_like, rad/s, shape (n_atoms,)
        Where the atoms are now (e.g. the entangling point).
    pair : (int, int)
    band : (float, float), rad/s, optional
        Search band; default ±20 % around the mean of ``frequencies``.

    Returns
    -------
    ndarray, rad/s, shape (n_atoms,)
        ``frequencies`` with the pair's entries replaced by their DF frequencies.
    """
    w = np.array(frequencies, dtype=float)
    centre = float(np.mean(w))
    band = band if band is not None else (0.8 * centre, 1.2 * centre)
    for atom in pair:
        found = decoherence_free_frequencies(device, atom, band)
        if found.size == 0:
            raise ValueError(
                f"atom {device.atom_names[atom]!r} has no decoherence-free frequency in "
                f"[{band[0] / 2e9 / np.pi:.4g}, {band[1] / 2e9 / np.pi:.4g}] GHz; pass "
                "df_frequencies or a wider band"
            )
        w[..., atom] = found[np.argmin(np.abs(found - w[atom]))]
    return w


def driven_dissipative(
    device: Device,
    *,
    power_dbm: ArrayLike,
    detuning: ArrayLike,
    t_drive: ArrayLike,
    ramp_time: ArrayLike,
    t_store: ArrayLike,
    ramp_shape: str = "cosine",
    after_drive: str = "move_to_df",
    pair: tuple[str | int, str | int] = (0, 1),
    operating_point: OperatingPoint | None = None,
    df_frequencies: ArrayLike | None = None,
    port: str = "left",
    drive_rise_time: float = 0.0,
    band: tuple[float, float] | None = None,
) -> Protocol:
    """The paper's protocol: drive into the dark state, stop, move to the DF point, store.

    Segments (PHYSICS.md §1, steps 2–4; the atoms start wherever the initial state says,
    usually |gg⟩, which the initial bias to the entangling point does not change):

    1. ``"drive"`` (``t_drive``): atoms at the entangling point ω̃_A,B = ω_d ± δ (Lamb shifts
       included, drive at the dressed centre; :func:`giantatoms.entangling_operating_point`),
       drive on. With ``drive_rise_time`` > 0 the drive first rises over that time with a
       cosine envelope (a separate segment ``"rise"``).
    2. ``"ramp"`` (``ramp_time``): drive off, flux pulses move the atoms with ``ramp_shape``.
       ``after_drive="move_to_df"``: to each atom's nearest decoherence-free point;
       ``"resonant"``: both atoms to the perfect-correlation frequency ω₀ (δ = 0, the dark state
       is exactly subradiant but not decoupled); ``"stay"``: no move (the atoms idle at the
       entangling point, the comparison the paper's step 4 is about).
    3. ``"store"`` (``t_store``): wait there, drive off.

    Parameters
    ----------
    device : Device
    power_dbm : array_like, dBm
        Drive power at the chip.
    detuning : array_like, rad/s
        δ: the dressed atoms sit at ω_d ± δ while driven (the first atom of ``pair`` above).
    t_drive, ramp_time, t_store : array_like, s
        Segment durations (> 0); arrays are batch axes.
    ramp_shape : {"cosine", "linear"} or callable
        Shape of the flux ramp (see :class:`Ramp`).
    after_drive : {"move_to_df", "stay", "resonant"}
    pair : (str or int, str or int)
    operating_point : OperatingPoint, optional
        Use this entangling point instead of computing it from the device and ``detuning``.
    df_frequencies : array_like, rad/s, shape (n_atoms,), optional
        Storage frequencies (bare) instead of the nearest DF points.
    port : {"left", "right"}
        Drive port.
    drive_rise_time : float, s
        Length of a cosine switch-on of the drive before the ``"drive"`` segment (0: none).
    band : (float, float), rad/s, optional
        Search band for the DF points and the perfect-correlation frequency.

    Returns
    -------
    Protocol
        With ``target`` the dark state of the operating point (Ψ⁻ or Ψ⁺).
    """
    after_drive = choice(after_drive, "after_drive", AFTER_DRIVE)
    i, j = (device.index(p) for p in pair)
    rise = float(real_array(drive_rise_time, "drive_rise_time", minimum=0))
    if operating_point is None:
        operating_point = entangling_operating_point(device, detuning, pair=(i, j), band=band)
    op = operating_point
    drive = Drive(frequency=op.drive_frequency, power_dbm=power_dbm, port=port)
    segments = []
    if rise > 0:
        segments.append(
            Segment(rise, op.frequencies, drive, drive_envelope=Ramp(1.0, start=0.0), label="rise")
        )
    segments.append(Segment(t_drive, op.frequencies, drive, label="drive"))
    if after_drive == "stay":
        segments.append(Segment(ramp_time, None, label="ramp"))
    else:
        if after_drive == "resonant":
            target = np.array(np.broadcast_to(op.frequencies, op.frequencies.shape), dtype=float)
            target[..., i] = target[..., j] = op.correlation_frequency
        elif df_frequencies is not None:
            target = real_array(df_frequencies, "df_frequencies", minimum=0, strict_minimum=True)
        else:
            start = np.asarray(op.frequencies, dtype=float)
            if start.ndim > 1:
                start = start.reshape(-1, start.shape[-1])[0]
            target = nearest_df_frequencies(device, start, pair=(i, j), band=band)
        segments.append(Segment(ramp_time, Ramp(target, shape=ramp_shape), label="ramp"))
    segments.append(Segment(t_store, None, label="store"))
    dark = op.dark_state if op.dark_state != "mixed" else "psi-"
    return Protocol(segments, target=dark, pair=(i, j))
