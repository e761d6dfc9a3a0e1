"""Tests of the reconstruction: exact inversion, qutrits, local phases, MLE always physical."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from giantatoms.measure.metrics import bell_fidelity, bell_state
from giantatoms.measure.tomography import (
    ReadoutModel,
    TomographyData,
    bell_fidelity_with_errors,
    reconstruct,
    simulate_counts,
)

from tests.measure.tomography._states import (
    SX,
    SY,
    SZ,
    assert_physical,
    projector,
    rand_rho,
    werner_like,
)

# ------------------------------------------------------------------ 1. exact reconstruction


@pytest.mark.parametrize("settings_name", ["pauli", "cardinal"])
@pytest.mark.parametrize("rank", [1, 2, 4])
def test_exact_probabilities_reconstruct_state(rng, settings_name, rank):
    rho = rand_rho(rng, 4, batch=(6,), rank=rank)
    data = simulate_counts(rho, settings=settings_name, shots=None)
    assert data.expected and data.counts.shape == (6, len(data.settings), 4)
    linear = reconstruct(data, method="linear")
    projected = reconstruct(data, method="projected")
    mle = reconstruct(data, method="mle")
    assert np.max(np.abs(linear.rho - rho)) <= 1e-10
    assert np.max(np.abs(projected.rho - rho)) <= 1e-10
    assert np.max(np.abs(mle.rho - rho)) <= 1e-6
    assert np.all(mle.converged) and np.all(mle.iterations >= 1)
    assert np.all(linear.residual <= 1e-12) and np.all(mle.residual <= 1e-7)


def qutrit_to_qubit_map():
    """Λ[i, k, a, c]: what Pauli-setting tomography of one qutrit sees, as a qubit operator.

    The g–e block is kept; the f population reads "e" on every axis, i.e. acts as the
    (unphysical) operator τ_f = (1 − σx − σy − σz)/2; coherences with f are invisible.
    """
    tau_f = 0.5 * (np.eye(2) - SX - SY - SZ)
    lam = np.zeros((2, 2, 3, 3), dtype=complex)
    for i in range(2):
        for k in range(2):
            lam[i, k, i, k] = 1.0
    lam[:, :, 2, 2] = tau_f
    return lam


def test_qutrit_pauli_linear_inversion_is_the_documented_map(rng):
    rho9 = rand_rho(rng, 9, batch=(3,))
    lam = qutrit_to_qubit_map()
    tensor = rho9.reshape(3, 3, 3, 3, 3)
    expected = np.einsum("ikac,jlbd,nabcd->nijkl", lam, lam, tensor).reshape(3, 4, 4)
    data = simulate_counts(rho9, shots=None, dims=(3, 3))
    linear = reconstruct(data, method="linear")
    assert np.max(np.abs(linear.rho - expected)) <= 1e-10
    assert_physical(reconstruct(data, method="mle").rho)


# ------------------------------------------------------------------ 4. local phases


@pytest.mark.parametrize("phases", [(0.3, -1.1), (2.0, 0.0), (np.pi, 0.5)])
def test_local_phases_are_undone_in_software(phases):
    rho = projector(bell_state("psi-"))
    data = simulate_counts(rho, shots=None, local_phases=phases)
    corrected = reconstruct(data, method="mle", local_phases=phases)
    assert np.max(np.abs(corrected.rho - rho)) <= 1e-6
    raw = reconstruct(data, method="linear")
    expected = 0.5 * (1 + np.cos(phases[0] - phases[1]))
    assert raw.bell_fidelity("psi-")[0] == pytest.approx(expected, abs=1e-10)
    # The phases only rotate the coherence: maximising over local Z phases recovers 1.
    assert raw.bell_fidelity("psi-", optimize_phases=True)[0] == pytest.approx(1.0, abs=1e-10)


def test_local_phases_broadcast_over_a_batch():
    rho = projector(bell_state("phi+"))
    phases = np.array([[0.0, 0.0], [0.4, 0.2], [1.0, -2.0]])
    data = simulate_counts(rho, shots=None, local_phases=phases)
    assert data.counts.shape == (3, 9, 4)
    fid = bell_fidelity(reconstruct(data, method="linear").rho, "phi+")
    assert np.allclose(fid, 0.5 * (1 + np.cos(phases.sum(axis=-1))), atol=1e-10)
    back = reconstruct(data, method="linear", local_phases=phases)
    assert np.allclose(back.rho, rho, atol=1e-10)


# ------------------------------------------------------------------ 3. MLE always physical


@settings(max_examples=40, deadline=None)
@given(
    counts=hnp.arrays(np.int64, (9, 4), elements=st.integers(0, 6)),
    fix=hnp.arrays(np.int64, (9,), elements=st.integers(0, 3)),
    with_readout=st.booleans(),
    method=st.sampled_from(["mle", "projected"]),
)
def test_mle_output_always_physical(counts, fix, with_readout, method):
    counts = counts.copy()
    empty = counts.sum(axis=-1) == 0
    counts[empty, fix[empty]] = 1
    readout = ReadoutModel.from_fidelities(0.97, 0.93) if with_readout else None
    data = TomographyData.from_arrays("pauli", counts, readout=readout)
    result = reconstruct(data, method=method)
    assert_physical(result.rho)
    assert result.min_eigenvalue >= -1e-12
    assert abs(result.trace - 1) <= 1e-12


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shots=st.integers(1, 5))
def test_mle_physical_for_few_shots_overcomplete(seed, shots):
    rho = rand_rho(np.random.default_rng(seed), 4, batch=(5,), rank=1)
    data = simulate_counts(rho, settings="cardinal", shots=shots, seed=seed)
    result = reconstruct(data)
    assert_physical(result.rho)


def test_mle_maximises_the_likelihood(rng):
    rho = rand_rho(rng, 4, batch=(8,), rank=1)
    readout = ReadoutModel.from_fidelities(0.97, 0.93)
    data = simulate_counts(rho, shots=300, readout=readout, seed=5)
    mle = reconstruct(data, tol=1e-10)
    projected = reconstruct(data, method="projected")
    assert np.all(mle.converged) and np.all(mle.gradient_norm <= 1e-10)
    assert np.all(mle.log_likelihood >= projected.log_likelihood - 1e-9)
    assert np.all(np.isnan(projected.gradient_norm)) and np.all(projected.iterations == 0)


# ------------------------------------------------------------------ arguments


def test_bad_reconstruction_arguments_raise():
    data = simulate_counts(werner_like(), shots=100, seed=0)
    with pytest.raises(ValueError, match="method"):
        reconstruct(data, method="bayes")
    with pytest.raises(TypeError, match="TomographyData"):
        reconstruct(np.ones((9, 4)))
    with pytest.raises(ValueError, match="local_phases"):
        reconstruct(data, local_phases=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="complete"):
        reconstruct(TomographyData.from_arrays(["ZZ", "XX"], np.ones((2, 4), dtype=int)))
    with pytest.raises(ValueError, match="shots"):
        simulate_counts(werner_like(), shots=0)
    with pytest.raises(ValueError, match="trace"):
        simulate_counts(2 * werner_like(), shots=10)
    with pytest.raises(ValueError, match="dims"):
        simulate_counts(np.eye(8) / 8, shots=10)
    with pytest.raises(ValueError, match="seed"):
        simulate_counts(werner_like(), seed=-3)
    with pytest.raises(ValueError, match="expected counts"):
        bell_fidelity_with_errors(simulate_counts(werner_like(), shots=None))
    with pytest.raises(ValueError, match="confidence"):
        bell_fidelity_with_errors(data, confidence=1.5, bootstrap=2)
    with pytest.raises(ValueError, match="Bell"):
        bell_fidelity_with_errors(data, state="ghz", bootstrap=2)
    with pytest.raises(ValueError, match="to_csv"):
        simulate_counts(np.stack([werner_like()] * 2), shots=10, seed=1).to_csv("unused.csv")
