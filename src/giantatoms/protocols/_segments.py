"""Protocol description: waveforms, segments and protocols (pure, frozen data).

A :class:`Protocol` is a sequence of :class:`Segment` s. Each segment lasts ``duration``
seconds and says where the atoms are (bare frequencies, rad/s: a constant, a :class:`Ramp`,
a :class:`Sampled` waveform or any :class:`Waveform`), whether the drive is on (a
:class:`~giantatoms.Drive`, whose frequency, power, port and phase apply to the whole
segment) and an optional dimensionless ``drive_envelope`` that scales the drive amplitude in
time (e.g. a ramp from 0 to 1). Every number may be an array: its axes are batch axes and
broadcast against those of the device and of every other segment.

Waveforms are functions of the time τ ∈ [0, duration] since the segment started. A
:class:`Ramp` or a ``None`` frequency starts from where the previous segment ended, so a
protocol never jumps unless it says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import choice, real_array
from giantatoms.model.device import Drive

__all__ = ["Constant", "FunctionWaveform", "Protocol", "Ramp", "Sampled", "Segment", "Waveform"]

RAMP_SHAPES = ("linear", "cosine")


class Waveform:
    """A value as a function of the time since its segment started (base class).

    Subclasses implement :meth:`__call__`. ``constant`` is True when the value does not
    depend on time (the segment can then be propagated exactly in one exponential).
    """

    constant: bool = False

    def __call__(self, tau: NDArray[np.float64], start: NDArray, duration: float) -> NDArray:
        """Values at times ``tau`` (K,) s of a segment lasting ``duration`` s.

        ``start`` is the previous segment's end value.

        Returns an array of shape (K, batch…, …) broadcastable against ``start``.
        """
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class Constant(Waveform):
    """A time-independent value (any batch shape)."""

    value: NDArray[np.float64]
    constant: bool = field(default=True, init=False)

    def __call__(self, tau: NDArray[np.float64], start: NDArray, duration: float) -> NDArray:
        """The value, repeated for every τ."""
        del start, duration
        return np.broadcast_to(self.value, (tau.size, *np.shape(self.value)))


@dataclass(frozen=True, eq=False)
class _Hold(Waveform):
    """The previous segment's end value."""

    constant: bool = field(default=True, init=False)

    def __call__(self, tau: NDArray[np.float64], start: NDArray, duration: float) -> NDArray:
        del duration
        return np.broadcast_to(start, (tau.size, *np.shape(start)))


def _ramp_fraction(shape: str | Callable[[NDArray], ArrayLike], s: NDArray) -> NDArray:
    if callable(shape):
        value = np.asarray(shape(s), dtype=float)
        if value.shape != s.shape or not np.all(np.isfinite(value)):
            raise ValueError(
                "Ramp: a callable shape must map normalised times s (any shape) to finite "
                f"values of the same shape; got shape {value.shape} for input {s.shape}"
            )
        return value
    if shape == "linear":
        return s
    return 0.5 - 0.5 * np.cos(np.pi * s)


@dataclass(frozen=True, eq=False)
class Ramp(Waveform):
    """A ramp from ``start`` to ``stop`` over the whole segment.

    value(τ) = start + (stop − start)·f(τ/duration), with f = s (``"linear"``),
    f = (1 − cos πs)/2 (``"cosine"``: zero slope at both ends, the usual flux-pulse shape) or
    a user function f(s) with f(0) = 0 and f(1) = 1 (vectorised over s).

    Parameters
    ----------
    stop : array_like
        Final value (for frequencies: rad/s, shape (..., n_atoms)).
    start : array_like, optional
        Initial value; default: where the previous segment ended.
    shape : {"linear", "cosine"} or callable
    """

    stop: ArrayLike
    start: ArrayLike | None = None
    shape: str | Callable[[NDArray], ArrayLike] = "cosine"

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "stop", real_array(self.stop, "stop", owner="Ramp"))
        if self.start is not None:
            s(self, "start", real_array(self.start, "start", owner="Ramp"))
        if callable(self.shape):
            ends = np.asarray(self.shape(np.array([0.0, 1.0])), dtype=float)
            if ends.shape != (2,) or not np.allclose(ends, [0.0, 1.0], atol=1e-12):
                raise ValueError(
                    f"Ramp: a callable shape must give f(0) = 0 and f(1) = 1, got {ends!r}"
                )
        else:
            s(self, "shape", choice(self.shape, "shape", RAMP_SHAPES, owner="Ramp"))

    def __call__(self, tau: NDArray[np.float64], start: NDArray, duration: float) -> NDArray:
        """Ramp values at ``tau`` (K,), shape (K, batch…)."""
        first = start if self.start is None else self.start
        batch_ndim = max(np.ndim(first), np.ndim(self.stop))
        s = np.clip(tau / duration, 0.0, 1.0).reshape((tau.size,) + (1,) * batch_ndim)
        return first + (self.stop - first) * _ramp_fraction(self.shape, s)


@dataclass(frozen=True, eq=False)
class Sampled(Waveform):
    """A waveform given by samples (e.g. an AWG file), interpolated in time.

    Parameters
    ----------
    times : array_like, s, shape (K,)
        Strictly increasing sample times from the segment start; the first must be 0 and the
        last must be at least the segment's duration.
    values : array_like, shape (K, ...)
        Samples (for frequencies: rad/s, shape (K, n_atoms) or (K, batch…, n_atoms)).
    kind : {"cubic", "linear"}
        Interpolation: a not-a-knot cubic spline (smooth; the Magnus error control then sees
        no kinks) or piecewise linear.
    """

    times: ArrayLike
    values: ArrayLike
    kind: str = "cubic"

    def __post_init__(self) -> None:
        t = real_array(self.times, "times", owner="Sampled")
        v = real_array(self.values, "values", owner="Sampled")
        if t.ndim != 1 or t.size < 2:
            raise ValueError(f"Sampled: times must be 1-D with ≥ 2 samples, got shape {t.shape}")
        if t[0] != 0 or np.any(np.diff(t) <= 0):
            raise ValueError("Sampled: times must start at 0 s and increase strictly")
        if v.shape[:1] != t.shape:
            raise ValueError(
                f"Sampled: values must have shape ({t.size}, ...) to match times, got {v.shape}"
            )
        kind = choice(self.kind, "kind", ("cubic", "linear"), owner="Sampled")
        if kind == "cubic" and t.size < 4:
            raise ValueError("Sampled: cubic interpolation needs ≥ 4 samples (or kind='linear')")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "kind", kind)

    def __call__(self, tau: NDArray[np.float64], start: NDArray, duration: float) -> NDArray:
        """Interpolated values at ``tau`` (K,)."""
        from scipy.interpolate import make_interp_spline

        del start
        if duration > self.times[-1] * (1 + 1e-12):
            raise ValueError(
                f"Sampled: the samples end at {self.times[-1]:g} s, before the segment's "
                f"duration {duration:g} s"
            )
        spline = make_interp_spline(self.times, self.values, k=3 if self.kind == "cubic" else 1)
        return spline(np.clip(tau, 0.0, self.times[-1]))


@dataclass(frozen=True, eq=False)
class FunctionWaveform(Waveform):
    """A user function of time: ``function(tau)`` with τ in s since the segment started.

    ``function`` receives a scalar τ and returns the value (for frequencies: rad/s, shape
    (n_atoms,) or (batch…, n_atoms)). It must be smooth inside the segment (the Magnus error
    control assumes a differentiable generator).
    """

    function: Callable[[float], ArrayLike]

    def __post_init__(self) -> None:
        if not callable(self.function):
            raise TypeError(f"FunctionWaveform: function must be callable, got {self.function!r}")

    def __call__(self, tau: NDArray[np.float64], start: NDArray, duration: float) -> NDArray:
        """Values at ``tau`` (K,), stacked along a new first axis."""
        del start, duration
        values = [np.asarray(self.function(float(x)), dtype=float) for x in tau]
        out = np.stack(values)
        if not np.all(np.isfinite(out)):
            raise ValueError("FunctionWaveform: the function returned non-finite values")
        return out


def as_waveform(value: ArrayLike | Waveform | Callable | None, name: str) -> Waveform:
    """Normalise a segment field to a :class:`Waveform` (``None`` holds the previous value)."""
    if value is None:
        return _Hold()
    if isinstance(value, Waveform):
        return value
    if callable(value):
        return FunctionWaveform(value)
    return Constant(real_array(value, name, owner="Segment"))


@dataclass(frozen=True, eq=False)
class Segment:
    """One step of a protocol.

    Parameters
    ----------
    duration : array_like, s, > 0
        Length of the segment; an array is a batch axis.
    frequencies : array_like or Waveform or callable, rad/s, shape (..., n_atoms), optional
        Bare atom frequencies (the model adds the Lamb shifts at every instant); default: hold
        the previous segment's final frequencies (the device's for the first segment). A
        callable is wrapped in :class:`FunctionWaveform`.
    drive : Drive, optional
        The tone during this segment; ``None`` (default) for no drive.
    drive_envelope : array_like or Waveform, optional
        Dimensionless factor on the drive amplitude (default 1), e.g.
        ``Ramp(1.0, start=0.0)`` for a smooth switch-on.
    label : str
        A name shown in results (default ``"segment <i>"``).
    """

    duration: ArrayLike
    frequencies: Any = None
    drive: Drive | None = None
    drive_envelope: Any = None
    label: str = ""

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(
            self,
            "duration",
            real_array(self.duration, "duration", owner="Segment", minimum=0, strict_minimum=True),
        )
        s(self, "frequencies", as_waveform(self.frequencies, "frequencies"))
        if self.drive is not None and not isinstance(self.drive, Drive):
            raise TypeError(f"Segment: drive must be a Drive or None, got {self.drive!r}")
        envelope = 1.0 if self.drive_envelope is None else self.drive_envelope
        s(self, "drive_envelope", as_waveform(envelope, "drive_envelope"))
        if not isinstance(self.label, str):
            raise TypeError(f"Segment: label must be a string, got {self.label!r}")

    @property
    def constant(self) -> bool:
        """Whether the generator is time-independent during the segment."""
        return bool(self.frequencies.constant and self.drive_envelope.constant)


@dataclass(frozen=True, eq=False)
class Protocol:
    """A sequence of segments, plus what to compare the state with.

    Parameters
    ----------
    segments : sequence of Segment
    target : str
        Bell state the fidelities refer to (``"psi-"``, ``"psi+"``, ``"phi+"``, ``"phi-"``).
    pair : (int, int)
        The two atoms whose entanglement the metrics describe.
    reference_frequency : array_like, rad/s, optional
        Frequency of the frame the states are reported in with ``frame="drive"``; default:
        the drive frequency of the first driven segment, else the mean bare frequency at t = 0.
    frequency_offset : array_like, rad/s, shape (..., n_atoms)
        Quasi-static offset added to the atom frequencies in every segment (noise studies).
    amplitude_scale : array_like
        Factor on every drive amplitude (1 + relative amplitude error).
    phase_offset : array_like, rad
        Added to every drive phase.
    """

    segments: Sequence[Segment]
    target: str = "psi-"
    pair: tuple[int, int] = (0, 1)
    reference_frequency: ArrayLike | None = None
    frequency_offset: ArrayLike = 0.0
    amplitude_scale: ArrayLike = 1.0
    phase_offset: ArrayLike = 0.0

    def __post_init__(self) -> None:
        s = object.__setattr__
        segments = tuple(self.segments)
        if not segments:
            raise ValueError("Protocol: segments must not be empty")
        for i, seg in enumerate(segments):
            if not isinstance(seg, Segment):
                raise TypeError(f"Protocol: segments[{i}] must be a Segment, got {seg!r}")
        s(self, "segments", segments)
        s(self, "target", choice(self.target, "target", ("psi-", "psi+", "phi+", "phi-")))
        pair = tuple(int(p) for p in self.pair)
        if len(pair) != 2 or pair[0] == pair[1]:
            raise ValueError(f"Protocol: pair must name two different atoms, got {self.pair!r}")
        s(self, "pair", pair)
        if self.reference_frequency is not None:
            s(
                self,
                "reference_frequency",
                real_array(
                    self.reference_frequency,
                    "reference_frequency",
                    owner="Protocol",
                    minimum=0,
                    strict_minimum=True,
                ),
            )
        s(self, "frequency_offset", real_array(self.frequency_offset, "frequency_offset"))
        s(self, "amplitude_scale", real_array(self.amplitude_scale, "amplitude_scale"))
        s(self, "phase_offset", real_array(self.phase_offset, "phase_offset"))

    @property
    def durations(self) -> tuple[NDArray[np.float64], ...]:
        """Duration of each segment, s."""
        return tuple(seg.duration for seg in self.segments)

    @property
    def duration(self) -> NDArray[np.float64]:
        """Total duration, s (broadcast over the batch)."""
        return sum(self.durations[1:], start=self.durations[0])

    def boundaries(self) -> NDArray[np.float64]:
        """Segment start times and the end, s, shape (n_segments + 1, batch…)."""
        durations = np.broadcast_arrays(*self.durations)
        return np.concatenate([np.zeros((1, *durations[0].shape)), np.cumsum(durations, axis=0)])

    def perturbed(
        self,
        *,
        frequency_offset: ArrayLike = 0.0,
        amplitude_scale: ArrayLike = 1.0,
        phase_offset: ArrayLike = 0.0,
    ) -> Protocol:
        """The same protocol with quasi-static errors added (composes with existing ones).

        Parameters
        ----------
        frequency_offset : array_like, rad/s, shape (..., n_atoms)
        amplitude_scale : array_like
            Multiplies the drive amplitude.
        phase_offset : array_like, rad
        """
        return replace(
            self,
            frequency_offset=np.add(self.frequency_offset, frequency_offset),
            amplitude_scale=np.multiply(self.amplitude_scale, amplitude_scale),
            phase_offset=np.add(self.phase_offset, phase_offset),
        )

    def __repr__(self) -> str:
        parts = []
        for i, seg in enumerate(self.segments):
            label = seg.label or f"segment {i}"
            dur = np.asarray(seg.duration)
            text = f"{dur.item() * 1e9:.4g} ns" if dur.ndim == 0 else f"shape {dur.shape}"
            kind = "driven" if seg.drive is not None else "undriven"
            ramp = "constant" if seg.constant else "time-dependent"
            parts.append(f"{label}: {text}, {kind}, {ramp}")
        return f"Protocol(target={self.target!r}, segments=[" + "; ".join(parts) + "])"
