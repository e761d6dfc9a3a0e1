"""Tests of giantatoms.measure.tomography: exact reconstruction, readout mitigation, physicality."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from giantatoms.measure.metrics import bell_fidelity, bell_state, partial_trace
from giantatoms.measure.tomography import (
    OUTCOMES,
    PRE_ROTATIONS,
    SETTINGS_CARDINAL,
    SETTINGS_PAULI,
    BellEstimate,
    ReadoutModel,
    TomographyData,
    TomographyResult,
    bell_fidelity_with_errors,
    measurement_operators,
    outcome_probabilities,
    pre_rotations,
    reconstruct,
    simulate_counts,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import qutip
    from qutip.core import gates as qutip_gates

SX = np.array([[0, 1], [1, 0]], dtype=complex)
SY = np.array([[0, -1j], [1j, 0]], dtype=complex)
SZ = np.array([[1, 0], [0, -1]], dtype=complex)


def rand_rho(rng, d, batch=(), rank=None):
    """Random density matrices (Ginibre), shape (*batch, d, d)."""
    k = d if rank is None else rank
    g = rng.normal(size=(*batch, d, k)) + 1j * rng.normal(size=(*batch, d, k))
    rho = g @ np.conj(np.swapaxes(g, -1, -2))
    return rho / np.trace(rho, axis1=-2, axis2=-1)[..., None, None]


def projector(vec):
    return np.outer(vec, vec.conj())


def werner_like(fidelity=0.85):
    """Ψ⁻ mixed with an asymmetric diagonal background (full rank, F = fidelity + small)."""
    return fidelity * projector(bell_state("psi-")) + (1 - fidelity) * np.diag([0.3, 0.2, 0.2, 0.3])


def correlated_readout():
    """A non-product (correlated) joint assignment matrix A[measured, prepared]."""
    base = ReadoutModel.from_fidelities([0.97, 0.95], [0.93, 0.9]).assignment.copy()
    # Crosstalk: an excited first qubit sometimes flips the second one's reading.
    base[:, 2] = 0.9 * base[:, 2] + 0.1 * np.array([0.0, 0.05, 0.15, 0.8])
    base[:, 3] = 0.92 * base[:, 3] + 0.08 * np.array([0.02, 0.1, 0.8, 0.08])
    return ReadoutModel.from_confusion(base / base.sum(axis=0))


def assert_physical(rho, atol=1e-12):
    assert np.allclose(rho, np.conj(np.swapaxes(rho, -1, -2)), atol=atol, rtol=0)
    assert np.allclose(np.trace(rho, axis1=-2, axis2=-1), 1.0, atol=atol, rtol=0)
    assert np.all(np.linalg.eigvalsh(rho) >= -atol)


# ------------------------------------------------------------------ settings and POVMs


def test_setting_sets_and_canonical_names():
    assert len(SETTINGS_PAULI) == 9 and SETTINGS_PAULI[0] == "XX" and SETTINGS_PAULI[-1] == "ZZ"
    assert len(SETTINGS_CARDINAL) == 36 and len(set(SETTINGS_CARDINAL)) == 36
    data = TomographyData.from_arrays(["xy", "-x90:i", "Y90:mY90"], np.ones((3, 4), dtype=int))
    assert data.settings == ("XY", "mX90:I", "Y90:mY90")


# Measured axis (Bloch vector of outcome g) of each single-qubit pre-rotation.
AXES = {"I": SZ, "X180": -SZ, "X90": SY, "mX90": -SY, "Y90": -SX, "mY90": SX}


@pytest.mark.parametrize("gate", PRE_ROTATIONS)
def test_pre_rotation_measures_documented_axis(gate):
    u = pre_rotations(f"{gate}:I")[0]
    assert np.allclose(u.conj().T @ SZ @ u, AXES[gate], atol=1e-14)


@pytest.mark.parametrize(("letter", "axis"), [("X", SX), ("Y", SY), ("Z", SZ)])
def test_pauli_letters_measure_their_axis(letter, axis):
    u_first, u_second = pre_rotations(letter + letter)
    for u in (u_first, u_second):
        assert np.allclose(u.conj().T @ SZ @ u, axis, atol=1e-14)


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


# ------------------------------------------------------------------ qutrits and larger systems


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


def test_qutrit_state_in_qubit_subspace_measures_like_its_block(rng):
    rho4 = rand_rho(rng, 4)
    idx = [0, 1, 3, 4]  # gg, ge, eg, ee in the 3x3 product basis
    rho9 = np.zeros((9, 9), dtype=complex)
    rho9[np.ix_(idx, idx)] = rho4
    for name in ("pauli", "cardinal"):
        p9 = outcome_probabilities(rho9, name)
        assert np.allclose(p9, outcome_probabilities(rho4, name), atol=1e-14)


def test_qutrit_pauli_linear_inversion_is_the_documented_map(rng):
    rho9 = rand_rho(rng, 9, batch=(3,))
    lam = qutrit_to_qubit_map()
    tensor = rho9.reshape(3, 3, 3, 3, 3)
    expected = np.einsum("ikac,jlbd,nabcd->nijkl", lam, lam, tensor).reshape(3, 4, 4)
    data = simulate_counts(rho9, shots=None, dims=(3, 3))
    linear = reconstruct(data, method="linear")
    assert np.max(np.abs(linear.rho - expected)) <= 1e-10
    assert_physical(reconstruct(data, method="mle").rho)


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


# ------------------------------------------------------------------ 2. unbiased with mitigation


def test_mitigated_bootstrap_fidelity_is_unbiased_over_seeds():
    n_seeds = 100
    rho = werner_like(0.85)
    truth = float(bell_fidelity(rho, "psi-"))
    readout = ReadoutModel.from_fidelities(0.97, 0.93)
    batch = np.broadcast_to(rho, (n_seeds, 4, 4))
    data = simulate_counts(batch, shots=2000, readout=readout, seed=2026)  # one draw per seed
    estimate = bell_fidelity_with_errors(data, bootstrap=40, seed=7, state="closest")
    assert np.all(estimate.state == "psi-")
    values = estimate.value
    sem = values.std(ddof=1) / np.sqrt(n_seeds)
    assert abs(values.mean() - truth) < 3 * sem
    # The bootstrap width matches the seed-to-seed spread, and the interval covers.
    assert 0.7 < estimate.std.mean() / values.std(ddof=1) < 1.4
    low, high = estimate.interval[..., 0], estimate.interval[..., 1]
    coverage = np.mean((low <= truth) & (truth <= high))
    assert 0.5 <= coverage <= 0.85
    raw = bell_fidelity_with_errors(data, bootstrap=0, mitigate=False, state="psi-")
    assert raw.value.mean() < truth - 10 * sem
    assert np.all(np.isnan(raw.std))


def test_bell_estimate_is_reproducible_and_formats():
    rho = werner_like(0.9)
    readout = ReadoutModel.from_fidelities(0.97, 0.93)
    data = simulate_counts(rho, shots=2000, readout=readout, seed=3)
    first = bell_fidelity_with_errors(data, bootstrap=60, seed=11)
    again = bell_fidelity_with_errors(data, bootstrap=60, seed=11)
    assert isinstance(first, BellEstimate) and isinstance(first.result, TomographyResult)
    assert np.array_equal(first.samples, again.samples)
    assert first.samples.shape == (60,) and first.state == "psi-"
    assert isinstance(first.value, float) and isinstance(first.std, float)
    assert first.interval[0] <= first.value <= first.interval[1]
    assert re.fullmatch(r"0\.\d+ ± 0\.\d+", first.format())
    assert first.format(decimals=2).count(".") == 2
    drawn = bell_fidelity_with_errors(data, bootstrap=5)
    assert isinstance(drawn.seed, int)
    replay = bell_fidelity_with_errors(data, bootstrap=5, seed=drawn.seed)
    assert np.array_equal(drawn.samples, replay.samples)


def test_format_rounding_rules():
    result = reconstruct(simulate_counts(werner_like(), shots=None))

    def make(value, std):
        return BellEstimate(value, std, (0.0, 1.0), np.zeros(0), "psi-", 0.68, 0, result)

    assert make(0.8912, 0.0213).format() == "0.89 ± 0.02"
    assert make(0.8912, 0.0153).format() == "0.891 ± 0.015"
    assert make(0.8912, float("nan")).format() == "0.8912"


# ------------------------------------------------------------------ Bell-state choice


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


# ------------------------------------------------------------------ counts, seeds, CSV


def test_simulated_counts_shapes_and_seeds(rng):
    rho = rand_rho(rng, 4, batch=(2, 3))
    data = simulate_counts(rho, settings="cardinal", shots=500, seed=42)
    assert data.counts.shape == (2, 3, 36, 4) and data.counts.dtype == np.int64
    assert np.all(data.shots == 500) and data.seed == 42 and not data.expected
    again = simulate_counts(rho, settings="cardinal", shots=500, seed=42)
    assert np.array_equal(data.counts, again.counts)
    drawn = simulate_counts(rho, shots=100)
    assert isinstance(drawn.seed, int)
    assert np.array_equal(simulate_counts(rho, shots=100, seed=drawn.seed).counts, drawn.counts)


def test_csv_round_trip(tmp_path, rng):
    data = simulate_counts(rand_rho(rng, 4), settings="cardinal", shots=1000, seed=1)
    path = tmp_path / "counts.csv"
    data.to_csv(path)
    assert path.read_text().splitlines()[0] == "setting,gg,ge,eg,ee"
    back = TomographyData.from_csv(path, readout=ReadoutModel.ideal())
    assert back.settings == data.settings
    assert np.array_equal(back.counts, data.counts) and back.counts.dtype == np.int64
    assert back.readout == ReadoutModel.ideal()
    expected = simulate_counts(rand_rho(rng, 4), shots=None)
    expected.to_csv(path)
    assert np.array_equal(TomographyData.from_csv(path, expected=True).counts, expected.counts)
    with pytest.raises(ValueError, match="integers"):
        TomographyData.from_csv(path)


def test_csv_accepts_comments_and_rejects_bad_header(tmp_path):
    path = tmp_path / "lab.csv"
    rows = "\n".join(f"{s},10,20,30,40" for s in SETTINGS_PAULI)
    path.write_text(f"# run 17, 2026-06-13\nsetting,gg,ge,eg,ee\n{rows}\n")
    data = TomographyData.from_csv(path)
    assert data.counts.shape == (9, 4) and np.all(data.shots == 100)
    path.write_text(f"setting,00,01,10,11\n{rows}\n")
    with pytest.raises(ValueError, match="header"):
        TomographyData.from_csv(path)


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


# ------------------------------------------------------------------ readout model


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


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: ReadoutModel.from_confusion(np.full((4, 4), 0.3)), ValueError, "column"),
        (lambda: ReadoutModel.from_confusion(np.eye(3)), ValueError, "shape"),
        (lambda: ReadoutModel.from_confusion(np.eye(4), rows="columns"), ValueError, "rows"),
        (lambda: ReadoutModel.from_fidelities(1.2, 0.9), ValueError, "f_g"),
        (lambda: ReadoutModel.from_fidelities(0.9, [0.9, 0.9, 0.9]), ValueError, "f_e"),
        (lambda: ReadoutModel(np.eye(4), readout_time=1e-6, t1=-1.0), ValueError, "t1"),
        (
            lambda: TomographyData.from_arrays("pauli", -np.ones((9, 4), dtype=int)),
            ValueError,
            "counts",
        ),
        (lambda: TomographyData.from_arrays("pauli", np.ones((8, 4))), ValueError, "shape"),
        (lambda: TomographyData.from_arrays("pauli", np.ones((9, 3))), ValueError, "shape"),
        (lambda: TomographyData.from_arrays("pauli", np.full((9, 4), 0.5)), ValueError, "integ"),
        (lambda: TomographyData.from_arrays("pauli", np.zeros((9, 4))), ValueError, "no shots"),
        (lambda: TomographyData.from_arrays(["XW"], np.ones((1, 4))), ValueError, "unknown"),
        (lambda: TomographyData.from_arrays(["X90:Z45"], np.ones((1, 4))), ValueError, "Z45"),
        (lambda: TomographyData.from_arrays("tetra", np.ones((9, 4))), ValueError, "pauli"),
        (lambda: TomographyData.from_arrays([3], np.ones((1, 4))), TypeError, "string"),
        (
            lambda: TomographyData.from_arrays("pauli", np.ones((9, 4)), readout=np.eye(4)),
            TypeError,
            "readout",
        ),
    ],
)
def test_bad_inputs_raise_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


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


def test_local_phases_follow_the_protocol_convention():
    # simulate_counts(ρ_drive, local_phases=φ) measures the atoms-frame state of run_protocol.
    import giantatoms as ga
    from giantatoms.units import MHz, ns, us

    chip = ga.presets.load("sequential_pair")
    protocol = ga.protocols.driven_dissipative(
        chip,
        power_dbm=-131.5,
        detuning=1 * MHz,
        t_drive=1 * us,
        ramp_time=10 * ns,
        t_store=0.1 * us,
    )
    t = np.array([1 * us + 10 * ns])
    drive = ga.run_protocol(chip, protocol, t, frame="drive")
    atoms = ga.run_protocol(chip, protocol, t, frame="atoms")
    phases = drive.local_phases[0]
    assert np.ptp(phases) > 0.1  # the phases matter here
    from_drive = simulate_counts(drive.rho[0], shots=None, local_phases=phases, dims=chip.dims)
    from_atoms = simulate_counts(atoms.rho[0], shots=None, dims=chip.dims)
    np.testing.assert_allclose(from_drive.counts, from_atoms.counts, atol=1e-10)
