"""Chains on one waveguide: the chiral dimer chain against its closed form."""

from __future__ import annotations

import numpy as np
import pytest

from giantatoms.measure.metrics import purity
from giantatoms.measure.pairwise import pairwise_bell_fidelity, pairwise_concurrence
from giantatoms.model.chains import chain_master_equation, dimer_fidelity
from giantatoms.solvers.steady_state import steady_state

MHZ = 2 * np.pi * 1e6


@pytest.mark.parametrize("n", [2, 4, 6])
@pytest.mark.parametrize(("right", "left"), [(1.0, 0.0), (0.8, 0.2), (0.6, 0.4)])
def test_chiral_dimer_chain_is_a_pure_product_of_dimers(n, right, left):
    gamma, delta, rabi = 2 * MHZ, 1.0 * MHZ, 2.0 * MHZ
    me = chain_master_equation(
        delta * (-1.0) ** np.arange(n), right * gamma, left * gamma, rabi=rabi
    )
    ss = steady_state(me)
    assert purity(ss.rho) == pytest.approx(1.0, abs=1e-9)
    fidelity = pairwise_bell_fidelity(ss.rho, me.dims, "psi-", optimize_phases=False)
    expected = dimer_fidelity(right * gamma, left * gamma, delta, rabi)
    for p in range(0, n, 2):
        assert fidelity[p, p + 1] == pytest.approx(expected, abs=1e-9)
    if n > 2:  # no entanglement across dimers
        assert np.nanmax(pairwise_concurrence(ss.rho, me.dims)[0, 2:]) < 1e-6


def test_closed_form_limits_and_bad_input():
    assert dimer_fidelity(1.0, 0.0, 0.0, 1e9) == pytest.approx(1.0)
    assert dimer_fidelity(1.0, 0.0, 1.0, 0.0) == 0.0
    with pytest.raises(ValueError, match="gamma_left"):
        chain_master_equation([0.0, 0.0], 1.0, -1.0)
    with pytest.raises(ValueError, match="phases"):
        chain_master_equation([0.0, 0.0], 1.0, 0.0, phases=[1.0, 0.0])
