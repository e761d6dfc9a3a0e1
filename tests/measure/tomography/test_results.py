"""Tests of the reconstructed-state result: the choice of the closest Bell state."""

from __future__ import annotations

import numpy as np
import pytest

from giantatoms.measure.metrics import bell_state
from giantatoms.measure.tomography import reconstruct, simulate_counts

from tests.measure.tomography._states import projector


@pytest.mark.parametrize("name", ["phi+", "phi-", "psi+", "psi-"])
def test_closest_bell_state_is_found(name):
    rho = 0.8 * projector(bell_state(name)) + 0.05 * np.eye(4)
    data = simulate_counts(rho, shots=None)
    result = reconstruct(data, method="linear")
    value, chosen = result.bell_fidelity()
    assert chosen == name and value == pytest.approx(0.85, abs=1e-10)
    # Rotate by a local phase: the optimised choice keeps the family and the sign.
    rotated = simulate_counts(rho, shots=None, local_phases=(0.0, 0.7))
    value_opt, chosen_opt = reconstruct(rotated, method="linear").bell_fidelity(
        optimize_phases=True
    )
    assert chosen_opt == name and value_opt == pytest.approx(0.85, abs=1e-10)
