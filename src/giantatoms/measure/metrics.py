"""Entanglement and state metrics of (batched) multi-atom density matrices.

Conventions (see ``PHYSICS.md`` §2 and §8):

* Product basis, the first atom is the most significant tensor factor (QuTiP ``tensor``
  convention); level 0 is |g⟩, 1 is |e⟩, 2 is |f⟩. For ``dims=(3, 3)`` the index of
  |l_A l_B⟩ is ``3*l_A + l_B``.
* Density matrices have shape ``(*batch, d, d)`` with ``d = prod(dims)``; every function
  accepts any leading batch shape (including none) and is vectorised over it. Results have
  the batch shape (0-d arrays for a single matrix).
* ``dims`` is the tuple of levels of each atom. When ``None`` it is inferred from ``d``:
  4 → (2, 2), 9 → (3, 3); any other size needs explicit ``dims``.
* Two-atom metrics take ``atoms=(i, j)``: the state is first reduced to atoms ``i`` and ``j``
  (in that order: ``i`` plays the role of "A", the first factor, ``j`` the role of "B").
  With exactly two atoms the default is ``(0, 1)``; with more, ``atoms`` is required.
* Bell states live in the two-atom qubit subspace {gg, ge, eg, ee} (embedded in the qutrit
  space when an atom has 3 levels):
  Φ± = (|gg⟩ ± |ee⟩)/√2, Ψ± = (|eg⟩ ± |ge⟩)/√2 (so Ψ⁻ = (|eg⟩ − |ge⟩)/√2 as in PHYSICS.md).

* Every function taking ``rho`` checks first that it holds density matrices, vectorised over
  the batch: finite entries, Hermitian (max over entries of |Re(ρ − ρ†)| and |Im(ρ − ρ†)|)
  and unit trace within ``atol`` (default :data:`RHO_ATOL` = 1e-6, loose enough for
  integrated or solved states, whose errors are ~1e-8); :func:`concurrence`, which
  diagonalises the state anyway, also refuses eigenvalues below −``atol``. A failed check
  raises ValueError naming ``rho``, the property, the largest violation and its batch index.
  ``atol=math.inf`` keeps only the finiteness check.

All functions are pure (no global state) and return real ``float64`` arrays unless stated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BELL_STATES",
    "RHO_ATOL",
    "bell_fidelity",
    "bell_state",
    "concurrence",
    "excited_population",
    "log_negativity",
    "negativity",
    "optimal_phases",
    "partial_trace",
    "populations",
    "purity",
]

#: Canonical names of the Bell states accepted by :func:`bell_state` (case-insensitive;
#: the Greek spellings "Φ+", "φ-", "Ψ+", "ψ-" are accepted too).
BELL_STATES: tuple[str, ...] = ("phi+", "phi-", "psi+", "psi-")

#: Default tolerance ``atol`` of the density-matrix checks of every metric: Hermiticity (per
#: real and imaginary part of ρ − ρ†), |tr ρ − 1| and, in :func:`concurrence`, the most
#: negative eigenvalue allowed. Loose enough for states from time evolution and steady-state
#: solvers (trace and Hermiticity errors ~1e-8, eigenvalues ~−1e-9).
RHO_ATOL: float = 1e-6

# Bell name -> (first basis pair as (levels_1, levels_2), sign of the second component).
# Ψ± = (|eg⟩ ± |ge⟩)/√2 and Φ± = (|gg⟩ ± |ee⟩)/√2.
_BELL_COMPONENTS: dict[str, tuple[tuple[int, int], tuple[int, int], int]] = {
    "phi+": ((0, 0), (1, 1), +1),
    "phi-": ((0, 0), (1, 1), -1),
    "psi+": ((1, 0), (0, 1), +1),
    "psi-": ((1, 0), (0, 1), -1),
}

# σy ⊗ σy in the qubit basis (gg, ge, eg, ee); real and symmetric.
_SIGMA_YY = np.array(
    [[0, 0, 0, -1], [0, 0, 1, 0], [0, 1, 0, 0], [-1, 0, 0, 0]],
    dtype=complex,
)


# ----------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------


def _as_rho(rho: ArrayLike, atol: float) -> NDArray[np.complex128]:
    """Convert ``rho`` (array or QuTiP ``Qobj``) to a complex array (*batch, d, d) and check it.

    The checks (finite, Hermitian, unit trace within ``atol``) are in :func:`_check_rho`.
    """
    if hasattr(rho, "full") and callable(rho.full):  # QuTiP Qobj (duck-typed, no import)
        rho = rho.full()
    arr = np.asarray(rho, dtype=complex)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(
            f"rho must be a (batch of) square density matrix with shape (..., d, d); "
            f"got shape {arr.shape}"
        )
    _check_rho(arr, _check_atol(atol))
    return arr


def _check_atol(atol: float) -> float:
    """Validate the tolerance keyword of the metrics (a number ≥ 0, ``inf`` allowed)."""
    if isinstance(atol, bool) or not isinstance(atol, int | float | np.integer | np.floating):
        raise ValueError(f"atol must be a number >= 0; got {atol!r}")
    if not atol >= 0:  # also refuses NaN
        raise ValueError(f"atol must be a number >= 0; got {atol!r}")
    return float(atol)


# Points per chunk of the Hermiticity check: the temporaries of one chunk (about 2**16
# complex entries) stay in cache: ~1.5x faster than whole-batch temporaries (measured).
_CHECK_ENTRIES = 2**16


def _check_rho(arr: NDArray[np.complex128], atol: float) -> None:
    """Raise ValueError unless every matrix of ``arr`` is finite, Hermitian and of unit trace.

    Fast path: per chunk of the flattened batch, A = Re ρ − (Re ρ)ᵀ and B = Im ρ + (Im ρ)ᵀ
    (the real and imaginary parts of ρ − ρ†) are compared with ``atol`` through their
    max/min, and |Re tr ρ − 1| through a diagonal sum. A NaN or inf entry makes A or B NaN or
    infinite, so it fails the same comparisons; only on failure is the batch scanned again to
    name the violation.
    """
    d = arr.shape[-1]
    flat = arr.reshape(-1, d, d)
    n = flat.shape[0]
    if n == 0:
        return
    ok = True
    step = max(1, _CHECK_ENTRIES // (d * d))
    with np.errstate(invalid="ignore", over="ignore"):  # inf − inf: NaN, which fails below
        for start in range(0, n, step):
            re = flat[start : start + step].real
            im = flat[start : start + step].imag
            anti = re - np.swapaxes(re, -1, -2)  # antisymmetric: max |A| = max A
            sym = im + np.swapaxes(im, -1, -2)
            if not (anti.max() <= atol and sym.max() <= atol and sym.min() >= -atol):
                ok = False
                break
        trace = np.einsum("...ii->...", flat.real)
        if ok and np.abs(trace - 1.0).max() <= atol:
            return
    _explain_bad_rho(flat, arr.shape[:-2], trace, atol)


def _where(flat_index: int, batch: tuple[int, ...]) -> str:
    """`` (batch index (i, j))`` for a point of a batch; empty for a single matrix."""
    if not batch:
        return ""
    return f" (batch index {tuple(int(i) for i in np.unravel_index(flat_index, batch))})"


def _explain_bad_rho(
    flat: NDArray[np.complex128],
    batch: tuple[int, ...],
    trace: NDArray[np.float64],
    atol: float,
) -> None:
    """Slow path of :func:`_check_rho`: raise the ValueError that names the worst violation."""
    n = flat.shape[0]
    finite = np.isfinite(flat).all(axis=(-2, -1))
    if not finite.all():
        first = int(np.flatnonzero(~finite)[0])
        raise ValueError(
            f"rho must be finite density matrices: {n - int(finite.sum())} of {n} contain NaN "
            f"or inf{_where(first, batch)}"
        )
    diff = flat - np.conj(np.swapaxes(flat, -1, -2))
    herm = np.maximum(np.abs(diff.real), np.abs(diff.imag)).max(axis=(-2, -1))
    worst = int(np.argmax(herm))
    if herm[worst] > atol:
        raise ValueError(
            f"rho must be Hermitian within atol={atol:g}: largest |ρ_ij − conj(ρ_ji)| = "
            f"{np.abs(diff[worst]).max():.3g}{_where(worst, batch)}"
        )
    error = np.abs(trace - 1.0)
    worst = int(np.argmax(error))
    raise ValueError(
        f"rho must have unit trace within atol={atol:g}: largest |tr ρ − 1| = "
        f"{error[worst]:.3g} (tr ρ = {trace[worst]:.6g}){_where(worst, batch)}"
    )


def _check_positive(w: NDArray[np.float64], atol: float, what: str) -> None:
    """Raise ValueError if an eigenvalue in ``w`` (*batch, d) is below −``atol``."""
    if w.size == 0:
        return
    lowest = w.min(axis=-1)
    worst = int(np.argmin(lowest))
    if lowest.reshape(-1)[worst] < -atol:
        raise ValueError(
            f"rho must be positive semidefinite within atol={atol:g}: smallest eigenvalue of "
            f"{what} is {lowest.reshape(-1)[worst]:.3g}{_where(worst, lowest.shape)}"
        )


def _qobj_dims(rho: object) -> tuple[int, ...] | None:
    """Return the subsystem dims of a QuTiP operator, or None for plain arrays."""
    dims = getattr(rho, "dims", None)
    if hasattr(rho, "full") and isinstance(dims, list) and dims and isinstance(dims[0], list):
        flat = dims[0]
        if all(isinstance(n, int | np.integer) for n in flat):
            return tuple(int(n) for n in flat)
    return None


def _resolve_dims(d: int, dims: Sequence[int] | None, rho_obj: object = None) -> tuple[int, ...]:
    """Validate ``dims`` against the Hilbert-space size ``d`` (infer when ``None``)."""
    if dims is None:
        qdims = _qobj_dims(rho_obj)
        if qdims is not None and math.prod(qdims) == d:
            return qdims
        if d == 4:
            return (2, 2)
        if d == 9:
            return (3, 3)
        raise ValueError(
            f"cannot infer dims for a Hilbert space of size d={d}; pass dims explicitly, "
            f"e.g. dims=(2, 3) (levels of each atom)"
        )
    try:
        out = tuple(int(n) for n in dims)
    except TypeError as exc:
        raise ValueError(f"dims must be a sequence of ints; got {dims!r}") from exc
    bad = any(n < 1 for n in out) or any(n != m for n, m in zip(out, dims, strict=True))
    if len(out) == 0 or bad:
        raise ValueError(f"dims must be a non-empty sequence of positive ints; got {dims!r}")
    if math.prod(out) != d:
        raise ValueError(
            f"dims={out} implies a Hilbert space of size {math.prod(out)}, but rho has d={d}"
        )
    return out


def _resolve_atoms(atoms: Sequence[int] | None, n_atoms: int) -> tuple[int, int]:
    """Validate a pair of distinct atom indices (default (0, 1) for exactly two atoms)."""
    if atoms is None:
        if n_atoms == 2:
            return (0, 1)
        raise ValueError(
            f"atoms must be given (a pair of atom indices) for a state of {n_atoms} atoms"
        )
    try:
        pair = tuple(int(a) for a in atoms)
    except TypeError as exc:
        raise ValueError(f"atoms must be a pair of atom indices; got {atoms!r}") from exc
    if len(pair) != 2:
        raise ValueError(f"atoms must be a pair of atom indices; got {atoms!r}")
    if any(not 0 <= a < n_atoms for a in pair):
        raise ValueError(f"atoms={pair} out of range for {n_atoms} atoms (valid: 0..{n_atoms - 1})")
    if pair[0] == pair[1]:
        raise ValueError(f"atoms must be two distinct atoms; got {pair}")
    return pair[0], pair[1]


def _two_atom(
    rho: ArrayLike,
    dims: Sequence[int] | None,
    atoms: Sequence[int] | None,
    atol: float = RHO_ATOL,
) -> tuple[NDArray[np.complex128], tuple[int, int]]:
    """Validate and reduce ``rho`` to the pair ``atoms``; return (rho_pair, dims_pair)."""
    arr = _as_rho(rho, atol)
    full_dims = _resolve_dims(arr.shape[-1], dims, rho)
    pair = _resolve_atoms(atoms, len(full_dims))
    if len(full_dims) != 2 or pair != (0, 1):
        arr = _partial_trace(arr, full_dims, pair)
    pair_dims = (full_dims[pair[0]], full_dims[pair[1]])
    if min(pair_dims) < 2:
        raise ValueError(f"dims of the selected atoms must be >= 2 levels; got {pair_dims}")
    return arr, pair_dims


def _normalise_bell_name(name: str) -> str:
    """Map user spellings ("Psi-", "Ψ-", " phi+ ") to a key of ``_BELL_COMPONENTS``."""
    if not isinstance(name, str):
        raise ValueError(f"state must be one of {BELL_STATES}; got {name!r}")
    key = name.strip().lower().replace("φ", "phi").replace("ψ", "psi").replace(" ", "")
    key = key.replace("_", "").replace("plus", "+").replace("minus", "-")
    if key not in _BELL_COMPONENTS:
        raise ValueError(
            f"unknown Bell state {name!r} for parameter state; allowed names: "
            f"{', '.join(BELL_STATES)} (case-insensitive; Greek Φ/Ψ accepted)"
        )
    return key


def _qubit_indices(pair_dims: tuple[int, int]) -> NDArray[np.intp]:
    """Return the indices of |gg⟩, |ge⟩, |eg⟩, |ee⟩ in the two-atom product basis."""
    return np.array(
        [np.ravel_multi_index(lv, pair_dims) for lv in ((0, 0), (0, 1), (1, 0), (1, 1))],
        dtype=np.intp,
    )


def _hermitian(arr: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Hermitian part (ρ + ρ†)/2, to make eigh-based routines safe against round-off."""
    return 0.5 * (arr + np.conj(np.swapaxes(arr, -1, -2)))


# ----------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------


def partial_trace(
    rho: ArrayLike,
    dims: Sequence[int] | None,
    keep: Sequence[int],
    *,
    atol: float = RHO_ATOL,
) -> NDArray[np.complex128]:
    """Reduced density matrix of the atoms ``keep`` (batched).

    Parameters
    ----------
    rho : array_like, complex, shape (*batch, d, d)
        Density matrices, ``d = prod(dims)``; a QuTiP ``Qobj`` operator is accepted.
    dims : sequence of int or None
        Levels of each atom (inferred for d = 4 or 9 when ``None``).
    keep : sequence of int
        Indices of the atoms to keep, in the order wanted for the output tensor factors
        (e.g. ``keep=(2, 0)`` returns a matrix whose most significant factor is atom 2).
        Must be distinct; may be empty (the result is then the trace, shape (*batch, 1, 1)).
    atol : float, optional
        Tolerance of the checks of ``rho`` (finite, Hermitian, unit trace); default
        :data:`RHO_ATOL` = 1e-6.

    Returns
    -------
    ndarray, complex, shape (*batch, d_keep, d_keep)
        ``d_keep = prod(dims[k] for k in keep)``. Agrees with ``qutip.ptrace`` for sorted
        ``keep``.

    Raises
    ------
    ValueError
        If ``rho`` is not a batch of density matrices within ``atol`` (not square, not
        finite, not Hermitian or trace ≠ 1), or ``dims``/``keep`` do not fit it.
    """
    arr = _as_rho(rho, atol)
    full_dims = _resolve_dims(arr.shape[-1], dims, rho)
    n = len(full_dims)
    if isinstance(keep, int | np.integer):
        keep = (int(keep),)
    try:
        keep_t = tuple(int(k) for k in keep)
    except TypeError as exc:
        raise ValueError(f"keep must be a sequence of atom indices; got {keep!r}") from exc
    if any(not 0 <= k < n for k in keep_t):
        raise ValueError(f"keep={keep_t} out of range for {n} atoms (valid: 0..{n - 1})")
    if len(set(keep_t)) != len(keep_t):
        raise ValueError(f"keep must not repeat an atom; got {keep_t}")
    if n > 26:
        raise ValueError(f"partial_trace supports at most 26 atoms; got dims of length {n}")
    return _partial_trace(arr, full_dims, keep_t)


def _partial_trace(
    arr: NDArray[np.complex128], full_dims: tuple[int, ...], keep_t: tuple[int, ...]
) -> NDArray[np.complex128]:
    """:func:`partial_trace` of a checked array with checked ``dims`` and ``keep``."""
    n = len(full_dims)
    batch = arr.shape[:-2]
    tensor = arr.reshape(*batch, *full_dims, *full_dims)
    row = [chr(ord("a") + i) for i in range(n)]
    col = [chr(ord("A") + i) for i in range(n)]
    for i in range(n):
        if i not in keep_t:
            col[i] = row[i]  # repeated label -> traced
    out_idx = "".join(row[k] for k in keep_t) + "".join(col[k] for k in keep_t)
    spec = "..." + "".join(row) + "".join(col) + "->..." + out_idx
    reduced = np.einsum(spec, tensor)
    d_keep = math.prod(full_dims[k] for k in keep_t)
    return np.ascontiguousarray(reduced).reshape(*batch, d_keep, d_keep)


def _pair_dims(dims: Sequence[int]) -> tuple[int, int]:
    """Check and return the levels of two atoms (each ≥ 2)."""
    try:
        pair_dims = tuple(int(n) for n in dims)
    except TypeError as exc:
        raise ValueError(f"dims must be a pair of ints; got {dims!r}") from exc
    if len(pair_dims) != 2 or min(pair_dims) < 2:
        raise ValueError(f"dims must be two atoms with ≥ 2 levels each; got {dims!r}")
    return pair_dims[0], pair_dims[1]


def bell_state(name: str, dims: Sequence[int] = (2, 2)) -> NDArray[np.complex128]:
    """State vector of a Bell state in the two-atom qubit subspace.

    Parameters
    ----------
    name : str
        One of ``"phi+"``, ``"phi-"``, ``"psi+"``, ``"psi-"`` (case-insensitive; ``"Φ+"``,
        ``"Ψ-"`` etc. also accepted). Φ± = (|gg⟩ ± |ee⟩)/√2, Ψ± = (|eg⟩ ± |ge⟩)/√2.
    dims : tuple of two ints, optional
        Levels of the two atoms (default (2, 2)); with 3 levels the state is embedded in the
        qutrit space with no |f⟩ component.

    Returns
    -------
    ndarray, complex, shape (dims[0]*dims[1],)
    """
    key = _normalise_bell_name(name)
    pair_dims = _pair_dims(dims)
    first, second, sign = _BELL_COMPONENTS[key]
    vec = np.zeros(math.prod(pair_dims), dtype=complex)
    vec[np.ravel_multi_index(first, pair_dims)] = 1 / np.sqrt(2)
    vec[np.ravel_multi_index(second, pair_dims)] = sign / np.sqrt(2)
    return vec


def _bell_elements(
    rho2: NDArray[np.complex128], pair_dims: tuple[int, int], key: str
) -> tuple[NDArray[np.float64], NDArray[np.complex128], int]:
    """Return (½(ρ_11 + ρ_22), ρ_12, sign) for the Bell pair of basis states of ``key``."""
    first, second, sign = _BELL_COMPONENTS[key]
    i = np.ravel_multi_index(first, pair_dims)
    j = np.ravel_multi_index(second, pair_dims)
    mean_pop = 0.5 * (rho2[..., i, i].real + rho2[..., j, j].real)
    coh = rho2[..., i, j]
    return mean_pop, coh, sign


def bell_fidelity(
    rho: ArrayLike,
    state: str = "psi-",
    *,
    optimize_phases: bool = False,
    dims: Sequence[int] | None = None,
    atoms: Sequence[int] | None = None,
    atol: float = RHO_ATOL,
) -> NDArray[np.float64]:
    """Fidelity ⟨Ψ|ρ|Ψ⟩ to a Bell state, optionally maximised over local Z phases.

    Parameters
    ----------
    rho : array_like, complex, shape (*batch, d, d)
        Density matrices (or a QuTiP operator).
    state : str, optional
        Bell state name: ``"phi+"``, ``"phi-"``, ``"psi+"``, ``"psi-"`` (default Ψ⁻ =
        (|eg⟩ − |ge⟩)/√2).
    optimize_phases : bool, optional
        If True, return max over φ_A, φ_B of ⟨Ψ|U ρ U†|Ψ⟩ with U = diag(1, e^{iφ_A}) ⊗
        diag(1, e^{iφ_B}) (the f-level phase is irrelevant for these states). Closed form:
        Ψ±: ½(ρ_eg,eg + ρ_ge,ge) + |ρ_eg,ge|; Φ±: ½(ρ_gg,gg + ρ_ee,ee) + |ρ_gg,ee|. With this
        option "psi+" and "psi-" (and "phi+"/"phi-") give the same value. The phase that
        achieves it is given by :func:`optimal_phases`.
    dims : sequence of int, optional
        Levels of each atom (inferred for d = 4 or 9).
    atoms : pair of int, optional
        Atoms to evaluate (the state is reduced to them first); default (0, 1) for two atoms.
    atol : float, optional
        Tolerance of the checks of ``rho``: finite, Hermitian and unit trace within ``atol``
        (default :data:`RHO_ATOL` = 1e-6).

    Returns
    -------
    ndarray, float, shape batch
        Dimensionless fidelity in [0, 1] for a density matrix (to within ``atol``).

    Raises
    ------
    ValueError
        If ``rho`` is not a batch of density matrices within ``atol`` (not square, not
        finite, not Hermitian or trace ≠ 1), or ``dims``/``atoms`` do not fit it.
    """
    key = _normalise_bell_name(state)
    rho2, pair_dims = _two_atom(rho, dims, atoms, atol)
    mean_pop, coh, sign = _bell_elements(rho2, pair_dims, key)
    if optimize_phases:
        return np.asarray(mean_pop + np.abs(coh), dtype=float)
    return np.asarray(mean_pop + sign * coh.real, dtype=float)


def optimal_phases(
    rho: ArrayLike,
    state: str = "psi-",
    dims: Sequence[int] | None = None,
    atoms: Sequence[int] | None = None,
    *,
    atol: float = RHO_ATOL,
) -> NDArray[np.float64]:
    """Local Z phase on the second atom that maximises the fidelity to a Bell state.

    Returns φ such that ρ' = U ρ U† with U = 1 ⊗ diag(1, e^{iφ}) (acting on ``atoms[1]``,
    identity on ``atoms[0]``; for 3 levels the f phase is irrelevant) has
    ``bell_fidelity(ρ', state) == bell_fidelity(ρ, state, optimize_phases=True)``.
    Explicitly φ = arg(s·ρ_eg,ge) for Ψ± and φ = arg(s·ρ_gg,ee) for Φ±, with s = ±1 the sign
    in the state's name. Only this one relative phase matters (the fidelity depends on
    φ_A − φ_B for Ψ± and on φ_A + φ_B for Φ±), so any split between the atoms works.

    Parameters
    ----------
    rho : array_like, complex, shape (*batch, d, d)
        Density matrices.
    state : str, optional
        Bell state name (see :func:`bell_state`), default ``"psi-"``.
    dims : sequence of int, optional
        Levels of each atom (inferred for d = 4 or 9).
    atoms : pair of int, optional
        Atoms to evaluate; default (0, 1) for two atoms.
    atol : float, optional
        Tolerance of the checks of ``rho``: finite, Hermitian and unit trace within ``atol``
        (default :data:`RHO_ATOL` = 1e-6).

    Returns
    -------
    ndarray, float, shape batch
        Phase in radians, in (−π, π]; 0 where the relevant coherence vanishes.

    Raises
    ------
    ValueError
        If ``rho`` is not a batch of density matrices within ``atol`` (not square, not
        finite, not Hermitian or trace ≠ 1), or ``dims``/``atoms`` do not fit it.
    """
    key = _normalise_bell_name(state)
    rho2, pair_dims = _two_atom(rho, dims, atoms, atol)
    _, coh, sign = _bell_elements(rho2, pair_dims, key)
    return np.asarray(np.angle(sign * coh), dtype=float)


def concurrence(
    rho: ArrayLike,
    *,
    dims: Sequence[int] | None = None,
    atoms: Sequence[int] | None = None,
    atol: float = RHO_ATOL,
) -> NDArray[np.float64]:
    """Wootters concurrence of two atoms (batched).

    C = max(0, λ₁ − λ₂ − λ₃ − λ₄), λ_i the decreasing square roots of the eigenvalues of
    ρ(σy⊗σy)ρ*(σy⊗σy). They are computed as the singular values of AᵀYA, where ρ = AA†
    (A = V·diag(√w) from a batched ``eigh``) and Y = σy⊗σy, which is well conditioned also
    for rank-deficient (pure) states.

    Convention for atoms with 3 levels: C is evaluated on the qubit block of ρ (rows and
    columns gg, ge, eg, ee) **without renormalisation**. Population leaked to |f⟩ therefore
    counts as lost entanglement (C scales with the qubit-subspace population); the result
    equals the usual concurrence whenever ρ has no weight outside the qubit subspace.

    Parameters
    ----------
    rho : array_like, complex, shape (*batch, d, d)
        Density matrices.
    dims : sequence of int, optional
        Levels of each atom (inferred for d = 4 or 9).
    atoms : pair of int, optional
        Atoms to evaluate; default (0, 1) for two atoms.
    atol : float, optional
        Tolerance of the checks of ``rho``: finite, Hermitian and unit trace within ``atol``,
        and no eigenvalue of the two-atom qubit block below −``atol`` (default
        :data:`RHO_ATOL` = 1e-6).

    Returns
    -------
    ndarray, float, shape batch
        Dimensionless concurrence in [0, 1].

    Raises
    ------
    ValueError
        If ``rho`` is not a batch of density matrices within ``atol`` (not square, not
        finite, not Hermitian, trace ≠ 1, or a negative eigenvalue of the qubit block), or
        ``dims``/``atoms`` do not fit it.
    """
    rho2, pair_dims = _two_atom(rho, dims, atoms, atol)
    if pair_dims != (2, 2):
        idx = _qubit_indices(pair_dims)
        rho2 = rho2[..., idx[:, None], idx[None, :]]
    w, v = np.linalg.eigh(_hermitian(rho2))
    _check_positive(w, atol, "the two-atom qubit block")
    a = v * np.sqrt(np.clip(w, 0.0, None))[..., None, :]
    tau = np.swapaxes(a, -1, -2) @ _SIGMA_YY @ a
    lam = np.linalg.svd(tau, compute_uv=False)  # descending
    c = lam[..., 0] - lam[..., 1] - lam[..., 2] - lam[..., 3]
    return np.asarray(np.maximum(c, 0.0), dtype=float)


def _partial_transpose_eigs(
    rho: ArrayLike, dims: Sequence[int] | None, atoms: Sequence[int] | None, atol: float
) -> NDArray[np.float64]:
    """Eigenvalues of the partial transpose (on the second atom of the pair), batched."""
    rho2, (da, db) = _two_atom(rho, dims, atoms, atol)
    batch = rho2.shape[:-2]
    t = rho2.reshape(*batch, da, db, da, db)
    t = np.swapaxes(t, -3, -1).reshape(*batch, da * db, da * db)
    return np.linalg.eigvalsh(_hermitian(t))


def negativity(
    rho: ArrayLike,
    *,
    dims: Sequence[int] | None = None,
    atoms: Sequence[int] | None = None,
    atol: float = RHO_ATOL,
) -> NDArray[np.float64]:
    """Negativity N = Σ|negative eigenvalues of ρ^{T_B}| = (‖ρ^{T_B}‖₁ − tr ρ)/2 (batched).

    The partial transpose is taken on the second atom of the pair over its full level
    space (so it works for qutrits; maximal value (d−1)/2 for two d-level atoms, ½ for a
    Bell state). For normalised ρ this is the usual (‖ρ^{T_B}‖₁ − 1)/2.

    Parameters
    ----------
    rho : array_like, complex, shape (*batch, d, d)
        Density matrices.
    dims : sequence of int, optional
        Levels of each atom (inferred for d = 4 or 9).
    atoms : pair of int, optional
        Atoms to evaluate; default (0, 1) for two atoms.
    atol : float, optional
        Tolerance of the checks of ``rho``: finite, Hermitian and unit trace within ``atol``
        (default :data:`RHO_ATOL` = 1e-6).

    Returns
    -------
    ndarray, float, shape batch
        Dimensionless negativity ≥ 0.

    Raises
    ------
    ValueError
        If ``rho`` is not a batch of density matrices within ``atol`` (not square, not
        finite, not Hermitian or trace ≠ 1), or ``dims``/``atoms`` do not fit it.
    """
    eigs = _partial_transpose_eigs(rho, dims, atoms, atol)
    return np.asarray(np.sum(np.clip(-eigs, 0.0, None), axis=-1), dtype=float)


def log_negativity(
    rho: ArrayLike,
    *,
    dims: Sequence[int] | None = None,
    atoms: Sequence[int] | None = None,
    atol: float = RHO_ATOL,
) -> NDArray[np.float64]:
    """Logarithmic negativity E_N = log₂‖ρ^{T_B}‖₁ = log₂(2N + 1) for normalised ρ (batched).

    Parameters
    ----------
    rho : array_like, complex, shape (*batch, d, d)
        Density matrices.
    dims : sequence of int, optional
        Levels of each atom (inferred for d = 4 or 9).
    atoms : pair of int, optional
        Atoms to evaluate; default (0, 1) for two atoms.
    atol : float, optional
        Tolerance of the checks of ``rho``: finite, Hermitian and unit trace within ``atol``
        (default :data:`RHO_ATOL` = 1e-6).

    Returns
    -------
    ndarray, float, shape batch
        Log-negativity in ebits (base-2 logarithm); 1 for a Bell state.

    Raises
    ------
    ValueError
        If ``rho`` is not a batch of density matrices within ``atol`` (not square, not
        finite, not Hermitian or trace ≠ 1), or ``dims``/``atoms`` do not fit it.
    """
    eigs = _partial_transpose_eigs(rho, dims, atoms, atol)
    return np.asarray(np.log2(np.sum(np.abs(eigs), axis=-1)), dtype=float)


def purity(rho: ArrayLike, *, atol: float = RHO_ATOL) -> NDArray[np.float64]:
    """Purity tr ρ² (batched, any dimension).

    Parameters
    ----------
    rho : array_like, complex, shape (*batch, d, d)
        Density matrices.
    atol : float, optional
        Tolerance of the checks of ``rho``: finite, Hermitian and unit trace within ``atol``
        (default :data:`RHO_ATOL` = 1e-6).

    Returns
    -------
    ndarray, float, shape batch
        Dimensionless purity in [1/d, 1] for a density matrix.

    Raises
    ------
    ValueError
        If ``rho`` is not a batch of density matrices within ``atol`` (not square, not
        finite, not Hermitian or trace ≠ 1).
    """
    arr = _as_rho(rho, atol)
    return np.asarray(np.einsum("...ij,...ji->...", arr, arr).real, dtype=float)


def populations(
    rho: ArrayLike,
    *,
    dims: Sequence[int] | None = None,
    atoms: Sequence[int] | None = None,
    atol: float = RHO_ATOL,
) -> dict[str, NDArray[np.float64]]:
    """Compute the populations of the two-atom product and Bell states (batched).

    Parameters
    ----------
    rho : array_like, complex, shape (*batch, d, d)
        Density matrices.
    dims : sequence of int, optional
        Levels of each atom (inferred for d = 4 or 9).
    atoms : pair of int, optional
        Atoms to evaluate (the state is reduced to them first); default (0, 1) for two atoms.
    atol : float, optional
        Tolerance of the checks of ``rho``: finite, Hermitian and unit trace within ``atol``
        (default :data:`RHO_ATOL` = 1e-6).

    Returns
    -------
    dict of str to ndarray, float, shape batch
        ``"gg"``, ``"ge"``, ``"eg"``, ``"ee"``: diagonal populations (first letter = first
        atom of the pair); ``"psi+"``, ``"psi-"``, ``"phi+"``, ``"phi-"``: ⟨Ψ|ρ|Ψ⟩ of the Bell
        states (no phase optimisation); ``"leakage"``: population outside the two-atom qubit
        subspace, i.e. probability that at least one of the two atoms is above |e⟩ (exactly
        0 for qubits).

    Raises
    ------
    ValueError
        If ``rho`` is not a batch of density matrices within ``atol`` (not square, not
        finite, not Hermitian or trace ≠ 1), or ``dims``/``atoms`` do not fit it.
    """
    rho2, pair_dims = _two_atom(rho, dims, atoms, atol)
    diag = np.diagonal(rho2, axis1=-2, axis2=-1).real
    idx = _qubit_indices(pair_dims)
    out: dict[str, NDArray[np.float64]] = {
        label: np.asarray(diag[..., i], dtype=float)
        for label, i in zip(("gg", "ge", "eg", "ee"), idx, strict=True)
    }
    for key in ("psi+", "psi-", "phi+", "phi-"):
        mean_pop, coh, sign = _bell_elements(rho2, pair_dims, key)
        out[key] = np.asarray(mean_pop + sign * coh.real, dtype=float)
    outside = np.setdiff1d(np.arange(diag.shape[-1]), idx)
    out["leakage"] = np.asarray(np.sum(diag[..., outside], axis=-1), dtype=float)
    return out


def excited_population(
    rho: ArrayLike, atom: int, dims: Sequence[int] | None = None, *, atol: float = RHO_ATOL
) -> NDArray[np.float64]:
    """Probability that atom ``atom`` is not in |g⟩ (batched).

    Parameters
    ----------
    rho : array_like, complex, shape (*batch, d, d)
        Density matrices.
    atom : int
        Index of the atom (0 is the most significant tensor factor).
    dims : sequence of int, optional
        Levels of each atom (inferred for d = 4 or 9).
    atol : float, optional
        Tolerance of the checks of ``rho``: finite, Hermitian and unit trace within ``atol``
        (default :data:`RHO_ATOL` = 1e-6).

    Returns
    -------
    ndarray, float, shape batch
        1 − P(atom in g), i.e. the population of e (and f) of that atom.

    Raises
    ------
    ValueError
        If ``rho`` is not a batch of density matrices within ``atol`` (not square, not
        finite, not Hermitian or trace ≠ 1), or ``dims``/``atom`` do not fit it.
    """
    arr = _as_rho(rho, atol)
    full_dims = _resolve_dims(arr.shape[-1], dims, rho)
    try:
        atom = int(atom)
    except TypeError as exc:
        raise ValueError(f"atom must be an int; got {atom!r}") from exc
    if not 0 <= atom < len(full_dims):
        raise ValueError(
            f"atom={atom} out of range for {len(full_dims)} atoms (valid: 0..{len(full_dims) - 1})"
        )
    batch = arr.shape[:-2]
    diag = np.diagonal(arr, axis1=-2, axis2=-1).real.reshape(*batch, *full_dims)
    diag = np.moveaxis(diag, len(batch) + atom, -1)[..., 1:]
    return np.asarray(diag.reshape(*batch, -1).sum(axis=-1), dtype=float)
