"""The coherence times expected from the rates (PHYSICS.md §3)."""

from __future__ import annotations

import numpy as np

from giantatoms.measure.coherence import coherence_times
from giantatoms.units import GHz

from tests.measure.coherence._devices import intrinsic_rates


def test_coherence_times_broadcast(pair) -> None:
    frequencies = np.stack([np.linspace(4.5, 5.5, 5) * GHz, np.full(5, 5.5 * GHz)], axis=-1)
    times = coherence_times(pair, "A", frequencies=frequencies)
    assert times.t1.shape == (5,)
    rates = pair.couplings(frequencies=frequencies).decay_rates[:, 0]
    gamma1, _ = intrinsic_rates(pair.atom("A"))
    np.testing.assert_allclose(times.t1, 1 / (rates + gamma1))
    dephasing = pair.atom("A").dephasing_rate
    np.testing.assert_allclose(times.t2, 1 / (0.5 * (rates + gamma1) + dephasing))
