"""Tests of the POVMs and outcome probabilities: completeness, qutrits, larger systems, QuTiP."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from giantatoms.measure.metrics import partial_trace
from giantatoms.measure.tomography import (
    OUTCOMES,
    SETTINGS_PAULI,
    ReadoutModel,
    measurement_operators,
    outcome_probabilities,
    reconstruct,
    simulate_counts,
)

from tests.measure.tomography._states import rand_rho

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import qutip
    from qutip.core import gates as qutip_gates


@pytest.mark.parametrize("dims", [(2, 2), (3, 3), (2, 3)])
def test_povm_complete_and_positive(dims):
    readout = ReadoutModel.from_fidelities(
        [0.97, 0.9], [0.93, 0.88], readout_time=2e-6, t1=[20e-6, 30e-6]
    )
    ops = measurement_operators("cardinal", readout=readout, dims=dims)
    d = dims[0] * dims[1]
    assert ops.shape == (36, 4, d, d)
    assert np.allclose(ops.sum(axis=1), np.eye(d), atol=1e-13)
    assert np.allclose(ops, np.conj(np.swapaxes(ops, -1, -2)), atol=1e-14)
    assert np.all(np.linalg.eigvalsh(ops) >= -1e-13)


# ------------------------------------------------------------------ qutrits and larger systems


def test_qutrit_state_in_qubit_subspace_measures_like_its_block(rng):
    rho4 = rand_rho(rng, 4)
    idx = [0, 1, 3, 4]  # gg, ge, eg, ee in the 3x3 product basis
    rho9 = np.zeros((9, 9), dtype=complex)
    rho9[np.ix_(idx, idx)] = rho4
    for name in ("pauli", "cardinal"):
        p9 = outcome_probabilities(rho9, name)
        assert np.allclose(p9, outcome_probabilities(rho4, name), atol=1e-14)


def test_f_level_reads_as_e_in_every_setting():
    ff = np.zeros(9)
    ff[8] = 1.0  # |f f⟩: the pre-rotations leave it alone, both atoms read e
    probs = outcome_probabilities(np.outer(ff, ff), "cardinal")
    assert np.allclose(probs[:, OUTCOMES.index("ee")], 1.0, atol=1e-14)
    fg = np.zeros(9)
    fg[6] = 1.0  # |f g⟩: the first atom reads e whatever its pre-rotation
    probs = outcome_probabilities(np.outer(fg, fg), "cardinal")
    assert np.allclose(probs[:, 2] + probs[:, 3], 1.0, atol=1e-14)


def test_pair_of_a_larger_system_uses_the_reduced_state(rng):
    rho = rand_rho(rng, 12)  # atoms with (2, 3, 2) levels
    reduced = partial_trace(rho, (2, 3, 2), (2, 0))
    got = outcome_probabilities(rho, "pauli", pair=(2, 0), dims=(2, 3, 2))
    assert np.allclose(got, outcome_probabilities(reduced, "pauli"), atol=1e-14)
    data = simulate_counts(rho, shots=None, pair=(2, 0), dims=(2, 3, 2))
    assert np.max(np.abs(reconstruct(data, method="linear").rho - reduced)) <= 1e-10


# ------------------------------------------------------------------ 8. QuTiP cross-check


def test_pauli_probabilities_agree_with_qutip(rng):
    rho = rand_rho(rng, 4)
    state = qutip.Qobj(rho, dims=[[2, 2], [2, 2]])
    ours = outcome_probabilities(rho, "pauli")
    gate = {
        "X": qutip_gates.ry(-np.pi / 2),
        "Y": qutip_gates.rx(np.pi / 2),
        "Z": qutip.qeye(2),
    }
    pauli = {"X": qutip.sigmax(), "Y": qutip.sigmay(), "Z": qutip.sigmaz()}
    for k, setting in enumerate(SETTINGS_PAULI):
        u = qutip.tensor(gate[setting[0]], gate[setting[1]])
        rotated = u * state * u.dag()
        assert np.allclose(ours[k], np.real(np.diag(rotated.full())), atol=1e-12)
        # Outcome g is eigenvalue +1 of the measured axis.
        correlator = qutip.expect(qutip.tensor(pauli[setting[0]], pauli[setting[1]]), state)
        assert ours[k] @ np.array([1, -1, -1, 1]) == pytest.approx(correlator, abs=1e-12)
