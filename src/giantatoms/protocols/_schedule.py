"""What a protocol run sets up before it propagates: initial states, batch shape, frames, schedule.

:func:`initial_state` builds product initial states; ``_batch_shape`` and
``_reference_frequency`` check a device and protocol against each other and pick the reporting
frame's frequency; ``_Schedule`` evaluates every segment's ``assemble`` coefficients for one
set of scalar durations on the flattened batch (the frames are described in
:mod:`giantatoms.protocols._runner`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms.model.device import Device
from giantatoms.model.lindblad import device_terms
from giantatoms.protocols._segments import Protocol, Segment

__all__ = ["initial_state"]

FRAMES = ("drive", "atoms")


# --------------------------------------------------------------------------------------------
# Initial states
# --------------------------------------------------------------------------------------------


def _product_state(device: Device, kind: str) -> NDArray[np.complex128]:
    return initial_state(device, kind)


def initial_state(device: Device, kind: str = "ground") -> NDArray[np.complex128]:
    """A product initial state of the device's atoms.

    Parameters
    ----------
    device : Device
    kind : {"ground", "thermal"}
        ``"ground"``: |g…g⟩. ``"thermal"``: each atom in equilibrium with its intrinsic bath
        (level populations in ratio n_th/(1 + n_th), the steady state of the decay and
        excitation terms); batched when n_th is an array.

    Returns
    -------
    ndarray, complex, shape (batch…, d, d)
    """
    if kind not in ("ground", "thermal"):
        raise ValueError(f"initial_state kind must be 'ground' or 'thermal', got {kind!r}")
    rho: NDArray = np.ones((1, 1))
    for atom in device.atoms:
        levels = atom.levels
        if kind == "ground":
            p = np.zeros(levels)
            p[0] = 1.0
        else:
            n_th = np.asarray(atom.n_thermal, dtype=float)
            ratio = n_th / (1.0 + n_th)
            p = ratio[..., None] ** np.arange(levels)
            p = p / p.sum(axis=-1, keepdims=True)
        local = p[..., :, None] * np.eye(levels)
        rho = np.einsum("...ij,...kl->...ikjl", rho, local)
        rho = rho.reshape(*rho.shape[:-4], rho.shape[-4] * rho.shape[-3], -1)
    return rho.astype(complex)


# --------------------------------------------------------------------------------------------
# The schedule of one group of (scalar) durations
# --------------------------------------------------------------------------------------------


def _lead(value: ArrayLike) -> NDArray:
    """A batch-only array with a leading length-1 axis for the K (time node) axis."""
    arr = np.asarray(value)
    return arr[None, ...] if arr.ndim else arr


def _pad(arr: NDArray, batch_ndim: int, trailing: int) -> NDArray:
    """Insert length-1 axes after the leading K axis so the batch axes align (K, batch…, tail)."""
    missing = batch_ndim - (arr.ndim - 1 - trailing)
    return arr.reshape((arr.shape[0],) + (1,) * max(missing, 0) + arr.shape[1:])


class _Schedule:
    """Coefficients of every segment for one set of scalar durations, on the flattened batch.

    Every quantity is computed on the full batch shape (K, batch…, …), then flattened to N
    points and restricted to the rows ``rows`` of this group.
    """

    #: assemble keywords (and extras) with the number of trailing (non-batch) axes.
    TRAILING: ClassVar[dict[str, int]] = {
        "detunings": 1,
        "anharmonicities": 1,
        "coherent": 2,
        "channels": 2,
        "drive_amplitudes": 1,
        "intrinsic_decay": 1,
        "thermal_occupation": 1,
        "dephasing": 1,
        "frame_frequency": 0,
    }

    def __init__(
        self,
        device: Device,
        protocol: Protocol,
        durations: tuple[float, ...],
        batch: tuple[int, ...],
        rows: NDArray[np.intp],
    ) -> None:
        self.device = device
        self.protocol = protocol
        self.durations = durations
        self.batch = batch
        self.rows = rows
        self.n = device.n_atoms
        starts = []
        value = np.asarray(device.frequencies, dtype=float)
        for seg, dur in zip(protocol.segments, durations, strict=True):
            starts.append(value)
            value = np.asarray(seg.frequencies(np.array([dur]), value, dur), dtype=float)[0]
        self.starts = starts
        #: Phase (rad, per group row) of each driven segment's tone in the simulation frame
        #: at the segment start; set by the propagation loop before the segment runs.
        self.tone_phase: dict[int, NDArray[np.float64]] = {}

    def _flat(self, arr: ArrayLike, k: int, trailing: int) -> NDArray:
        """Broadcast (K, batch…, *trailing) values to (K, N_group, *trailing)."""
        arr = np.asarray(arr)
        tail = arr.shape[arr.ndim - trailing :] if trailing else ()
        full = np.broadcast_to(arr, (k, *self.batch, *tail))
        return full.reshape(k, -1, *tail)[:, self.rows]

    def _frequencies_full(self, index: int, tau: NDArray[np.float64]) -> NDArray[np.float64]:
        seg = self.protocol.segments[index]
        nominal = seg.frequencies(tau, self.starts[index], self.durations[index])
        nominal = _pad(np.asarray(nominal, dtype=float), len(self.batch), 1)
        values = nominal + _lead(self.protocol.frequency_offset)
        if values.shape[-1:] != (self.n,):
            raise ValueError(
                f"segment {index}: frequencies must have shape (..., {self.n}) (one per atom), "
                f"got {values.shape[1:]}"
            )
        if np.any(values <= 0) or not np.all(np.isfinite(values)):
            raise ValueError(f"segment {index}: atom frequencies must be finite and > 0 rad/s")
        return np.broadcast_to(values, (tau.size, *self.batch, self.n))

    def frequencies(self, index: int, tau: NDArray[np.float64]) -> NDArray[np.float64]:
        """Bare frequencies (K, N, n) with the quasi-static offsets, rad/s."""
        return self._flat(self._frequencies_full(index, tau), tau.size, 1)

    def terms(self, index: int, tau: NDArray[np.float64]) -> dict[str, Any]:
        """``assemble`` keywords at times ``tau`` (K,) of segment ``index``, on (K, N).

        Adds ``"dressed_detunings"`` (ω̃_j − ν, (K, N, n)) for the frame phases.
        """
        seg: Segment = self.protocol.segments[index]
        k = tau.size
        freqs = self._frequencies_full(index, tau)
        if seg.drive is None:
            terms = device_terms(self.device, None, freqs, freqs.mean(axis=-1))
        else:
            terms = device_terms(self.device, seg.drive, freqs)
            envelope = np.asarray(
                seg.drive_envelope(tau, np.array(1.0), self.durations[index]), dtype=float
            )
            envelope = _pad(envelope.reshape(k, *envelope.shape[1:]), len(self.batch), 0)
            factor = (
                envelope
                * _lead(self.protocol.amplitude_scale)
                * np.exp(1j * _lead(self.protocol.phase_offset))
            )
            factor = np.broadcast_to(factor, (k, *self.batch))
            amplitudes = np.broadcast_to(terms["drive_amplitudes"], (k, *self.batch, self.n))
            terms["drive_amplitudes"] = amplitudes * factor[..., None]
        out = dict(terms)
        for key, trailing in self.TRAILING.items():
            if out[key] is not None:
                out[key] = self._flat(out[key], k, trailing)
        out["dressed_detunings"] = self._flat(terms["info"]["detunings"], k, 1)
        if seg.drive is not None and index in self.tone_phase:
            shift = np.exp(-1j * self.tone_phase[index])
            out["drive_amplitudes"] = out["drive_amplitudes"] * shift[None, :, None]
        return out


# --------------------------------------------------------------------------------------------
# Batch shape and reference frequency of a run
# --------------------------------------------------------------------------------------------


def _batch_shape(device: Device, protocol: Protocol) -> tuple[int, ...]:
    """Broadcast batch shape of the device, every segment and the protocol's perturbations."""
    shapes: list[tuple[int, ...]] = [
        np.shape(protocol.frequency_offset)[:-1] if np.ndim(protocol.frequency_offset) else (),
        np.shape(protocol.amplitude_scale),
        np.shape(protocol.phase_offset),
    ]
    if protocol.reference_frequency is not None:
        shapes.append(np.shape(protocol.reference_frequency))
    value = np.asarray(device.frequencies, dtype=float)
    n = device.n_atoms
    for i, seg in enumerate(protocol.segments):
        shapes.append(np.shape(seg.duration))
        dur = float(np.max(seg.duration))
        tau = np.array([0.0, dur])
        name = f"segment {i}" + (f" ({seg.label!r})" if seg.label else "")
        try:
            values = np.asarray(seg.frequencies(tau, value, dur), dtype=float)
        except ValueError as exc:
            raise ValueError(
                f"{name}: frequencies must broadcast to shape (..., {n}) (one per atom, rad/s) "
                f"with the previous segment's {np.shape(value)}: {exc}"
            ) from None
        if values.ndim < 2 or values.shape[-1] != n:
            raise ValueError(
                f"{name}: frequencies must have shape (..., {n}) (one per atom, rad/s), got "
                f"{values.shape[1:]}"
            )
        shapes.append(values.shape[1:-1])
        value = values[-1]
        envelope = np.asarray(seg.drive_envelope(tau, np.array(1.0), dur))
        shapes.append(envelope.shape[1:])
        if seg.drive is not None:
            shapes.extend(
                np.shape(x) for x in (seg.drive.frequency, seg.drive.power_dbm, seg.drive.phase)
            )
        terms = device_terms(device, seg.drive, value)
        shapes.append(np.shape(terms["intrinsic_decay"])[:-1])
        shapes.append(np.shape(terms["coherent"])[:-2])
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(
            "the array parameters of the device and the protocol do not broadcast together: "
            f"batch shapes {sorted(set(shapes))}"
        ) from None


def _reference_frequency(
    device: Device, protocol: Protocol, frame: str | float
) -> tuple[str, NDArray[np.float64]]:
    if not isinstance(frame, str):
        value = np.asarray(frame, dtype=float)
        if not (np.all(np.isfinite(value)) and np.all(value > 0)):
            raise ValueError(
                f"frame must be 'drive', 'atoms' or a frequency > 0 rad/s, got {frame!r}"
            )
        return "fixed", value
    if frame not in FRAMES:
        raise ValueError(
            f"frame must be one of {list(FRAMES)} or a frequency (rad/s), got {frame!r}"
        )
    if protocol.reference_frequency is not None:
        return frame, np.asarray(protocol.reference_frequency)
    for seg in protocol.segments:
        if seg.drive is not None:
            return frame, np.asarray(seg.drive.frequency, dtype=float)
    return frame, np.mean(np.asarray(device.frequencies, dtype=float), axis=-1)
