"""Tests of the readout model: constructors, relaxation in readout, correlated confusion."""

from __future__ import annotations

import numpy as np
import pytest

from giantatoms.measure.tomography import (
    ReadoutModel,
    outcome_probabilities,
    reconstruct,
    simulate_counts,
)

from tests.measure.tomography._states import correlated_readout, rand_rho


def test_readout_model_constructors():
    model = ReadoutModel.from_fidelities([0.97, 0.95], [0.93, 0.91])
    a = np.array([[0.97, 0.07], [0.03, 0.93]])
    b = np.array([[0.95, 0.09], [0.05, 0.91]])
    assert np.allclose(model.assignment, np.kron(a, b))
    assert np.allclose(model.assignment.sum(axis=0), 1)
    assert np.all(model.relaxation_probability == 0)
    assert ReadoutModel.ideal() == ReadoutModel(np.eye(4))
    confusion = correlated_readout().assignment
    by_rows = ReadoutModel.from_confusion(confusion.T, rows="prepared")
    assert np.array_equal(by_rows.assignment, confusion)
    from_counts = ReadoutModel.from_confusion(1000 * confusion, normalize=True)
    assert np.allclose(from_counts.assignment, confusion)


# ------------------------------------------------------------------ 5. relaxation in readout


def test_relaxation_lowers_excited_population_by_stated_factor(rng):
    rho = rand_rho(rng, 4)
    readout = ReadoutModel(np.eye(4), readout_time=1.5e-6, t1=[10e-6, 25e-6])
    decay = 1 - np.exp(-1.5e-6 / (2 * np.array([10e-6, 25e-6])))
    assert np.allclose(readout.relaxation_probability, decay)
    ideal = outcome_probabilities(rho, ["ZZ"])[0]
    relaxed = outcome_probabilities(rho, ["ZZ"], readout=readout)[0]
    pe_a, pe_b = ideal[2] + ideal[3], ideal[1] + ideal[3]
    assert relaxed[2] + relaxed[3] == pytest.approx((1 - decay[0]) * pe_a, abs=1e-14)
    assert relaxed[1] + relaxed[3] == pytest.approx((1 - decay[1]) * pe_b, abs=1e-14)
    assert relaxed[3] == pytest.approx(np.prod(1 - decay) * ideal[3], abs=1e-14)
    # f decays down the ladder: it ends in g with probability p², else reads e.
    f_state = np.zeros((9, 9))
    f_state[6, 6] = 1.0  # |f g⟩
    p_f = outcome_probabilities(f_state, ["ZZ"], readout=readout)[0]
    assert p_f[0] == pytest.approx(decay[0] ** 2, abs=1e-14)
    # A reconstruction that knows the readout model undoes the relaxation.
    data = simulate_counts(rho, shots=None, readout=readout)
    assert np.max(np.abs(reconstruct(data, method="mle").rho - rho)) <= 1e-6
    assert np.max(np.abs(reconstruct(data, mitigate=False, method="linear").rho - rho)) > 1e-3


@pytest.mark.parametrize("method", ["linear", "mle"])
def test_correlated_confusion_is_mitigated_exactly(rng, method):
    rho = rand_rho(rng, 4, batch=(4,))
    readout = correlated_readout()
    assert not np.allclose(
        readout.assignment,
        np.kron(readout.assignment.reshape(2, 2, 2, 2).sum(axis=(1, 3)) / 2, np.eye(2)),
    )
    data = simulate_counts(rho, settings="pauli", shots=None, readout=readout)
    tol = 1e-10 if method == "linear" else 1e-6
    assert np.max(np.abs(reconstruct(data, method=method).rho - rho)) <= tol
    unmitigated = reconstruct(data, method=method, mitigate=False)
    assert np.max(np.abs(unmitigated.rho - rho)) > 1e-2
