"""Protocols in time: segments, the paper's driven-dissipative protocol, noise, stabilisation.

A protocol is a sequence of :class:`Segment` s (duration, atom frequencies as constants or
waveforms, drive on/off with an optional envelope); :func:`run_protocol` propagates it with
exact exponentials where the generator is constant and an adaptive fourth-order Magnus
integrator where it is not. See :mod:`giantatoms.protocols._runner` for the frames.
"""

from giantatoms.protocols._library import AFTER_DRIVE, driven_dissipative, nearest_df_frequencies
from giantatoms.protocols._noise import NoiseAverage, quasi_static_average, shot_average
from giantatoms.protocols._runner import (
    ProtocolResult,
    initial_state,
    master_equation_at,
    run_protocol,
)
from giantatoms.protocols._segments import (
    Constant,
    FunctionWaveform,
    Protocol,
    Ramp,
    Sampled,
    Segment,
    Waveform,
)
from giantatoms.protocols._stabilisation import Stabilisation, stabilisation

__all__ = [
    "AFTER_DRIVE",
    "Constant",
    "FunctionWaveform",
    "NoiseAverage",
    "Protocol",
    "ProtocolResult",
    "Ramp",
    "Sampled",
    "Segment",
    "Stabilisation",
    "Waveform",
    "driven_dissipative",
    "initial_state",
    "master_equation_at",
    "nearest_df_frequencies",
    "quasi_static_average",
    "run_protocol",
    "shot_average",
    "stabilisation",
]
