"""Liouvillian gap: QuTiP spectra, the analytic qubit, dense against sparse."""

from __future__ import annotations

import numpy as np
import pytest
import qutip

from giantatoms.solvers.gap import LiouvillianGap, liouvillian_gap

from tests.reference.random_models import (
    MHZ,
    collective_decay_pair,
    decaying_dephasing_qubit,
    random_dims,
    random_master_equation,
)


def qutip_spectrum(me, index=()):
    h, cs = me.to_qutip(index)
    return np.linalg.eigvals(qutip.liouvillian(h, cs).full())


def slowest_by_hand(values, count):
    """Reference selection: drop the eigenvalue closest to 0, sort the rest by −Re."""
    values = np.asarray(values)
    steady = np.argmin(np.abs(values))
    rest = np.delete(values, steady)
    rest = rest[np.argsort(-rest.real, kind="stable")]
    return values[steady], rest[: count - 1]


@pytest.mark.parametrize("seed", range(6))
def test_matches_the_spectrum_of_qutips_liouvillian(seed):
    rng = np.random.default_rng(seed)
    me = random_master_equation(rng, random_dims(rng), n_random_jumps=int(rng.integers(0, 3)))
    result = liouvillian_gap(me, "dense", n_eigenvalues=5)
    assert isinstance(result, LiouvillianGap) and result.method == "dense"
    spectrum = qutip_spectrum(me)
    scale = np.abs(spectrum).max()
    steady, rest = slowest_by_hand(spectrum, 5)
    assert abs(result.eigenvalues[0] - steady) < 1e-8 * scale
    assert result.gap == pytest.approx(-rest[0].real, rel=1e-8)
    assert result.gap == pytest.approx(-result.eigenvalues[1].real)
    # every reported eigenvalue is in QuTiP's spectrum, real parts in decreasing order
    for value in result.eigenvalues:
        assert np.abs(spectrum - value).min() < 1e-8 * scale
    np.testing.assert_allclose(result.eigenvalues[1:].real, rest.real, rtol=1e-8, atol=1e-8 * scale)
    assert np.all(np.diff(result.eigenvalues[1:].real) <= 1e-8 * scale)


@pytest.mark.parametrize(
    ("gamma", "dephasing", "detuning"),
    [(1.0, 0.0, 0.0), (1.0, 0.3, 2.0), (1.0, 2.0, -0.5), (0.2, 0.05, 7.0)],
)
def test_decaying_dephasing_qubit_is_analytic(gamma, dephasing, detuning):
    gamma, dephasing, detuning = gamma * MHZ, dephasing * MHZ, detuning * MHZ
    me = decaying_dephasing_qubit(gamma, dephasing, detuning)
    result = liouvillian_gap(me, n_eigenvalues=4)
    coherence = gamma / 2 + dephasing
    expected = np.array([0, -gamma, -coherence + 1j * detuning, -coherence - 1j * detuning])
    got = result.eigenvalues
    assert abs(got[0]) < 1e-9 * gamma
    np.testing.assert_allclose(
        np.sort_complex(got[1:]), np.sort_complex(expected[1:]), rtol=1e-12, atol=1e-9 * gamma
    )
    assert result.gap == pytest.approx(min(gamma, coherence), rel=1e-12)


def test_batched_equals_loop_and_pads_missing_eigenvalues(rng):
    me = random_master_equation(rng, (2,), n_random_jumps=1, batch_shape=(2, 3))
    result = liouvillian_gap(me, n_eigenvalues=6)
    assert result.gap.shape == (2, 3)
    assert result.eigenvalues.shape == (2, 3, 6)
    assert np.isnan(result.eigenvalues[..., 4:]).all()  # a qubit has only 4 eigenvalues
    for index in np.ndindex(2, 3):
        single = liouvillian_gap(me[index], n_eigenvalues=6)
        np.testing.assert_allclose(single.eigenvalues, result.eigenvalues[index], rtol=1e-12)
        assert single.gap == pytest.approx(result.gap[index], rel=1e-12)


def test_second_steady_state_closes_the_gap():
    result = liouvillian_gap(collective_decay_pair(1 * MHZ))
    assert result.gap < 1e-6 * MHZ


def test_sparse_shift_invert_agrees_with_dense_on_a_medium_model():
    # Five two-level atoms (d² = 1024); weak coherent part so that the slowest modes are
    # near the real axis, where shift-invert about 0 finds them (see the module caveat).
    rng = np.random.default_rng(4)
    me = random_master_equation(rng, (2, 2, 2, 2, 2), n_random_jumps=0, energy_scale=0.2 * MHZ)
    dense = liouvillian_gap(me, "dense", n_eigenvalues=4)
    sparse = liouvillian_gap(me, "sparse", n_eigenvalues=4)
    assert sparse.method == "sparse" and dense.method == "dense"
    assert sparse.gap == pytest.approx(dense.gap, rel=1e-8)
    assert abs(sparse.eigenvalues[0]) < 1e-6 * dense.gap
    assert liouvillian_gap(me, n_eigenvalues=4).method == "sparse"  # auto above d² = 400


def test_sparse_on_tiny_spaces_falls_back_to_dense():
    me = decaying_dephasing_qubit(1 * MHZ, 0.1 * MHZ)
    assert liouvillian_gap(me, "sparse", n_eigenvalues=3).method == "dense"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"method": "arpack"}, "method must be one of"), ({"n_eigenvalues": 1}, "n_eigenvalues")],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        liouvillian_gap(decaying_dephasing_qubit(1.0, 0.0), **kwargs)
