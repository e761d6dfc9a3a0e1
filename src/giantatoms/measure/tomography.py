"""Two-qubit state tomography as the lab does it: settings, readout, counts, reconstruction.

The measurement chain modelled here (PHYSICS.md §1, step 5):

1. the atoms carry local Z phases φ_j acquired while they moved, relative to the reporting
   frame — the phases :attr:`giantatoms.ProtocolResult.local_phases` reports. The lab measures
   each qubit in its own rotating frame, i.e. the state U_φ ρ U_φ† with
   U_φ = exp(+i Σ_j φ_j n_j) (n_j = b_j†b_j), where ρ is the reporting-frame state (for
   ``run_protocol``: ``frame="atoms"`` gives U_φ ρ U_φ† of ``frame="drive"``); the analysis
   undoes U_φ in software;
2. each qubit gets a pre-rotation R (a setting names one per qubit) acting on g–e only;
3. optionally each qubit relaxes during the readout window (amplitude damping, see
   :class:`ReadoutModel`);
4. a projective measurement of g versus "not g" on each qubit (a transmon's f level reads as e);
5. the joint outcome (gg, ge, eg, ee) is mis-assigned by the 4×4 assignment matrix A;
6. a finite number of shots per setting gives multinomial counts.

Conventions
-----------
* Basis and outcome order gg, ge, eg, ee: the first qubit of the pair is the most significant
  factor ("g" = 0, "e" = 1), as in :mod:`giantatoms.measure.metrics`.
* Pauli matrices in the basis (|g⟩, |e⟩): σ_z = diag(1, −1) (so |g⟩ is the +1 eigenstate, as
  QuTiP's ``basis(2, 0)``), σ_x = [[0, 1], [1, 0]], σ_y = [[0, −i], [i, 0]]; rotations
  R_a(θ) = exp(−iθσ_a/2). Outcome g of a setting means eigenvalue +1 of the measured axis.
* Pauli settings (:data:`SETTINGS_PAULI`, e.g. ``"XY"``): each letter is the measured axis of
  that qubit, realised by the pre-rotation X → R_y(−π/2) (``"mY90"``), Y → R_x(+π/2)
  (``"X90"``), Z → identity (``"I"``).
* Gate settings (:data:`SETTINGS_CARDINAL`, e.g. ``"X90:mY90"``): one pre-rotation per qubit
  from ``I`` (+Z), ``X180`` = R_x(π) (−Z, i.e. Z with swapped outcomes), ``X90`` = R_x(π/2)
  (+Y), ``mX90`` = R_x(−π/2) (−Y), ``Y90`` = R_y(π/2) (−X), ``mY90`` = R_y(−π/2) (+X),
  joined by ``":"`` (first qubit first). ``"-X90"`` is accepted for ``"mX90"``. The 36
  combinations measure every signed axis pair, an over-complete set.

Reconstruction (:func:`reconstruct`) offers least-squares linear inversion, its projection on
the physical states (Smolin, Gambetta & Smith, PRL 108, 070502 (2012)) and maximum likelihood
by an accelerated projected gradient with restart (Shang, Zhang & Ng, PRA 95, 062336 (2017)),
all batched. :func:`bell_fidelity_with_errors` adds the parametric bootstrap that turns counts
into the "0.89 ± 0.02" of the paper.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import choice, real_array
from giantatoms.measure.metrics import BELL_STATES, _normalise_bell_name, _pair_dims, _two_atom
from giantatoms.measure.metrics import bell_fidelity as _bell_fidelity

__all__ = [
    "OUTCOMES",
    "PRE_ROTATIONS",
    "SETTINGS_CARDINAL",
    "SETTINGS_PAULI",
    "BellEstimate",
    "ReadoutModel",
    "TomographyData",
    "TomographyResult",
    "bell_fidelity_with_errors",
    "measurement_operators",
    "outcome_probabilities",
    "pre_rotations",
    "reconstruct",
    "simulate_counts",
]

#: Joint outcomes in the order of the last axis of every count array (first qubit first).
OUTCOMES: tuple[str, ...] = ("gg", "ge", "eg", "ee")

#: Single-qubit pre-rotations of the gate settings, in the order used by SETTINGS_CARDINAL.
PRE_ROTATIONS: tuple[str, ...] = ("I", "X180", "X90", "mX90", "Y90", "mY90")

#: The 9 Pauli settings: each letter is the axis measured on that qubit.
SETTINGS_PAULI: tuple[str, ...] = tuple(a + b for a, b in itertools.product("XYZ", repeat=2))

#: The 36 gate settings "R_A:R_B" from the 6 pre-rotations on each qubit (over-complete).
SETTINGS_CARDINAL: tuple[str, ...] = tuple(
    f"{a}:{b}" for a, b in itertools.product(PRE_ROTATIONS, repeat=2)
)

_NAMED_SETS: dict[str, tuple[str, ...]] = {"pauli": SETTINGS_PAULI, "cardinal": SETTINGS_CARDINAL}
_METHODS = ("mle", "linear", "projected")

_I2 = np.eye(2, dtype=complex)
_SX = np.array([[0, 1], [1, 0]], dtype=complex)
_SY = np.array([[0, -1j], [1j, 0]], dtype=complex)
_SZ = np.array([[1, 0], [0, -1]], dtype=complex)


def _rotation(sigma: NDArray[np.complex128], angle: float) -> NDArray[np.complex128]:
    """R(θ) = exp(−iθσ/2) = cos(θ/2) − i sin(θ/2) σ."""
    return math.cos(angle / 2) * _I2 - 1j * math.sin(angle / 2) * sigma


_GATES: dict[str, NDArray[np.complex128]] = {
    "I": _I2,
    "X180": _rotation(_SX, math.pi),
    "X90": _rotation(_SX, math.pi / 2),
    "mX90": _rotation(_SX, -math.pi / 2),
    "Y90": _rotation(_SY, math.pi / 2),
    "mY90": _rotation(_SY, -math.pi / 2),
}
_PAULI_GATE = {"X": "mY90", "Y": "X90", "Z": "I"}

# Orthonormal Hermitian operator basis B_k = σ_a ⊗ σ_b / 2 (k = 4a + b, a, b ∈ I, X, Y, Z):
# ρ = Σ_k x_k B_k with real x_k = Tr(ρ B_k), x_0 = Tr(ρ)/2. Frobenius norm of an operator
# equals the Euclidean norm of its coordinates.
_PAULIS = (_I2, _SX, _SY, _SZ)
_BASIS = np.array([np.kron(a, b) / 2 for a in _PAULIS for b in _PAULIS])
_N_COORD = 16
_BASIS_FLAT = _BASIS.reshape(_N_COORD, 16)  # x @ _BASIS_FLAT = vec(ρ)
_BASIS_DUAL = np.ascontiguousarray(_BASIS_FLAT.conj().T)  # vec(ρ) @ _BASIS_DUAL = x (+0j)


# ----------------------------------------------------------------------------------------
# settings
# ----------------------------------------------------------------------------------------


def _canonical_gate(token: str, setting: str) -> str:
    text = token.strip()
    if text.startswith("-"):
        text = "m" + text[1:]
    for gate in PRE_ROTATIONS:
        if text.lower() == gate.lower():
            return gate
    raise ValueError(
        f"settings: unknown pre-rotation {token!r} in setting {setting!r}; allowed: "
        f"{list(PRE_ROTATIONS)} (or '-X90', '-Y90')"
    )


def _canonical_setting(setting: object) -> str:
    """Return the canonical spelling of one setting, or raise naming it."""
    if not isinstance(setting, str):
        raise TypeError(f"settings: each setting must be a string, got {setting!r}")
    text = setting.strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 2:
            raise ValueError(f"settings: a gate setting is 'R_A:R_B' with one ':', got {setting!r}")
        return ":".join(_canonical_gate(p, setting) for p in parts)
    upper = text.upper()
    if len(upper) == 2 and all(c in "XYZ" for c in upper):
        return upper
    raise ValueError(
        f"settings: unknown setting {setting!r}; use two Pauli letters ('XY', see "
        f"SETTINGS_PAULI) or two pre-rotations 'R_A:R_B' from {list(PRE_ROTATIONS)}"
    )


def _resolve_settings(settings: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(settings, str):
        key = settings.strip().lower()
        if key not in _NAMED_SETS:
            raise ValueError(
                f"settings must be 'pauli', 'cardinal' or a sequence of setting strings, "
                f"got {settings!r}"
            )
        return _NAMED_SETS[key]
    try:
        out = tuple(_canonical_setting(s) for s in settings)
    except TypeError as exc:
        raise TypeError(f"settings must be a sequence of strings, got {settings!r}") from exc
    if not out:
        raise ValueError("settings must not be empty")
    return out


def _gate_names(setting: str) -> tuple[str, str]:
    if ":" in setting:
        a, b = setting.split(":")
        return a, b
    return _PAULI_GATE[setting[0]], _PAULI_GATE[setting[1]]


def pre_rotations(setting: str) -> NDArray[np.complex128]:
    """Pre-rotation unitaries of one setting, one per qubit.

    Parameters
    ----------
    setting : str
        A Pauli setting (``"XY"``: measured axis of each qubit) or a gate setting
        (``"X90:mY90"``); see the module docstring for the conventions.

    Returns
    -------
    ndarray, complex, shape (2, 2, 2)
        ``[U_A, U_B]`` in the basis (|g⟩, |e⟩), applied as ρ → (U_A ⊗ U_B) ρ (U_A ⊗ U_B)†
        before the measurement of g versus e.
    """
    name = _canonical_setting(setting)
    return np.array([_GATES[g] for g in _gate_names(name)])


# ----------------------------------------------------------------------------------------
# readout model
# ----------------------------------------------------------------------------------------


def _per_qubit(value: ArrayLike, name: str, owner: str, **bounds: Any) -> NDArray[np.float64]:
    arr = real_array(value, name, owner=owner, **bounds)
    if arr.ndim == 0:
        arr = np.full(2, float(arr))
    if arr.shape != (2,):
        raise ValueError(f"{owner}: {name} must be a scalar or one value per qubit (shape (2,))")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class ReadoutModel:
    """Dispersive single-shot readout of the two qubits: assignment errors and relaxation.

    A transmon's f level (and any higher level) reads as e: the discriminator separates g
    from "not g".

    Parameters
    ----------
    assignment : array_like, shape (4, 4)
        Joint assignment matrix A[measured, prepared] over the outcomes gg, ge, eg, ee (first
        qubit most significant); every column is a probability distribution (sums to 1
        within 1e-9, entries ≥ 0). Correlated (non-product) matrices are allowed.
    readout_time : float, s, ≥ 0
        Duration of the readout window (default 0: no relaxation).
    t1 : float or array_like of shape (2,), s, > 0, optional
        Energy-relaxation time of each qubit during readout; ``None`` means no relaxation.

    Notes
    -----
    Relaxation during readout acts on the state, after the pre-rotation and before the
    projective measurement (and before the assignment errors): each qubit undergoes
    amplitude damping with p_j = 1 − exp(−readout_time / (2 t1_j)), i.e. the decay over half
    the readout window, a common approximation for an integrated signal that is discriminated
    halfway. An excited population P_e is read as e with probability (1 − p_j). Higher levels
    decay down the transmon ladder as a harmonic oscillator (rates k/t1), so level k ends in g
    with probability p_j**k (f: p_j²). Because the measurement is diagonal after the
    pre-rotation, this is exactly the amplitude-damping channel applied to the state.
    The assignment matrix should therefore describe the discrimination errors *without*
    this relaxation (a calibrated confusion matrix that already contains T1 decay should be
    used with ``readout_time=0``).
    """

    assignment: ArrayLike
    readout_time: float = 0.0
    t1: ArrayLike | None = None

    def __post_init__(self) -> None:
        owner = "ReadoutModel"
        a = real_array(self.assignment, "assignment", owner=owner, minimum=0, maximum=1)
        if a.shape != (4, 4):
            raise ValueError(f"{owner}: assignment must have shape (4, 4), got {a.shape}")
        sums = a.sum(axis=0)
        if np.any(np.abs(sums - 1) > 1e-9):
            raise ValueError(
                f"{owner}: assignment must be column-stochastic (A[measured, prepared], each "
                f"column sums to 1 within 1e-9), got column sums {np.round(sums, 12).tolist()};"
                f" pass rows='prepared' to from_confusion for the transposed convention"
            )
        object.__setattr__(self, "assignment", a)
        time = real_array(self.readout_time, "readout_time", owner=owner, minimum=0)
        if time.ndim != 0:
            raise ValueError(f"{owner}: readout_time must be a scalar (s)")
        object.__setattr__(self, "readout_time", float(time))
        if self.t1 is not None:
            t1 = _per_qubit(self.t1, "t1", owner, minimum=0, strict_minimum=True, allow_inf=True)
            object.__setattr__(self, "t1", t1)

    @classmethod
    def from_fidelities(
        cls,
        f_g: ArrayLike,
        f_e: ArrayLike,
        *,
        readout_time: float = 0.0,
        t1: ArrayLike | None = None,
    ) -> ReadoutModel:
        """Independent qubits with given assignment fidelities.

        Parameters
        ----------
        f_g, f_e : float or array_like of shape (2,), in [0, 1]
            P(read g | g) and P(read e | e) of each qubit (a scalar applies to both).
        readout_time : float, s, ≥ 0
            Readout window (see the class notes).
        t1 : float or array_like of shape (2,), s, optional
            Relaxation time during readout.

        Returns
        -------
        ReadoutModel
            With A = A_A ⊗ A_B, A_j = [[f_g, 1 − f_e], [1 − f_g, f_e]].
        """
        owner = "ReadoutModel.from_fidelities"
        fg = _per_qubit(f_g, "f_g", owner, minimum=0, maximum=1)
        fe = _per_qubit(f_e, "f_e", owner, minimum=0, maximum=1)
        single = [np.array([[fg[j], 1 - fe[j]], [1 - fg[j], fe[j]]]) for j in range(2)]
        return cls(np.kron(single[0], single[1]), readout_time=readout_time, t1=t1)

    @classmethod
    def from_confusion(
        cls,
        matrix: ArrayLike,
        *,
        rows: str = "measured",
        normalize: bool = False,
        readout_time: float = 0.0,
        t1: ArrayLike | None = None,
    ) -> ReadoutModel:
        """A measured joint confusion matrix (possibly correlated between the qubits).

        Parameters
        ----------
        matrix : array_like, shape (4, 4)
            Probabilities over the outcomes gg, ge, eg, ee.
        rows : {"measured", "prepared"}
            What the first index is: ``"measured"`` (default, A[measured, prepared]) or
            ``"prepared"`` (each row is the outcome distribution of one prepared state).
        normalize : bool
            If True, ``matrix`` holds counts (or unnormalised weights) and each prepared
            state's distribution is normalised first.
        readout_time, t1
            See the class parameters.

        Returns
        -------
        ReadoutModel

        Raises
        ------
        ValueError
            When the distributions do not sum to 1 within 1e-9 (and ``normalize`` is False),
            when entries are negative or the shape is not (4, 4).
        """
        owner = "ReadoutModel.from_confusion"
        how = choice(rows, "rows", ("measured", "prepared"), owner=owner)
        arr = real_array(matrix, "matrix", owner=owner, minimum=0)
        if arr.shape != (4, 4):
            raise ValueError(f"{owner}: matrix must have shape (4, 4), got {arr.shape}")
        if how == "prepared":
            arr = arr.T
        if normalize:
            sums = arr.sum(axis=0)
            if np.any(sums <= 0):
                raise ValueError(f"{owner}: matrix has a prepared state with no weight")
            arr = arr / sums
        return cls(arr, readout_time=readout_time, t1=t1)

    @classmethod
    def ideal(cls) -> ReadoutModel:
        """Perfect readout: A = identity, no relaxation."""
        return cls(np.eye(4))

    @property
    def relaxation_probability(self) -> NDArray[np.float64]:
        """P_j = 1 − exp(−readout_time / (2 t1_j)) per qubit, shape (2,) (0 without t1)."""
        if self.t1 is None or self.readout_time == 0:
            return np.zeros(2)
        return -np.expm1(-self.readout_time / (2 * np.asarray(self.t1)))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        for f in fields(self):
            x, y = getattr(self, f.name), getattr(other, f.name)
            if (x is None) != (y is None) or (x is not None and not np.array_equal(x, y)):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]


# ----------------------------------------------------------------------------------------
# measurement operators and probabilities
# ----------------------------------------------------------------------------------------


def _embed(gate: NDArray[np.complex128], levels: int) -> NDArray[np.complex128]:
    """Pre-rotation on g–e only; higher levels untouched."""
    out = np.eye(levels, dtype=complex)
    out[:2, :2] = gate
    return out


def measurement_operators(
    settings: str | Sequence[str] = "pauli",
    *,
    readout: ReadoutModel | None = None,
    dims: Sequence[int] = (2, 2),
) -> NDArray[np.complex128]:
    """POVM elements of the measured outcomes of each setting.

    E[s, m] = Σ_o A[m, o] · R_s† Λ†(P_o) R_s, with R_s the setting's pre-rotation (g–e only),
    Λ the readout relaxation channel and P_o the projector on the ideal outcome o (g versus
    "not g" on each atom, so f reads as e).

    Parameters
    ----------
    settings : {"pauli", "cardinal"} or sequence of str
        Measurement settings (see the module docstring).
    readout : ReadoutModel, optional
        Assignment errors and relaxation; ``None`` is ideal readout.
    dims : pair of int, ≥ 2
        Levels of the two measured atoms (2 for qubits, 3 for transmons with f).

    Returns
    -------
    ndarray, complex, shape (n_settings, 4, d, d)
        d = dims[0]·dims[1]; outcomes in the order gg, ge, eg, ee. Σ_m E[s, m] = 1 for every
        setting.
    """
    names = _resolve_settings(settings)
    if readout is not None and not isinstance(readout, ReadoutModel):
        raise TypeError(f"readout must be a ReadoutModel or None, got {type(readout).__name__}")
    levels = _pair_dims(dims)
    model = readout if readout is not None else ReadoutModel.ideal()
    decay = model.relaxation_probability
    single = []
    for j, n_levels in enumerate(levels):
        gates = np.array([_embed(_GATES[_gate_names(s)[j]], n_levels) for s in names])
        read_g = decay[j] ** np.arange(n_levels)  # P(level k ends in g), k = 0, 1, 2, ...
        weights = np.stack([read_g, 1 - read_g])  # (2 outcomes, levels)
        # U† diag(w) U for every setting and outcome: (S, 2, L, L)
        single.append(np.einsum("sji,oj,sjk->soik", gates.conj(), weights, gates))
    joint = np.einsum("saik,sbjl->sabijkl", single[0], single[1])
    d = levels[0] * levels[1]
    joint = joint.reshape(len(names), 4, d, d)
    return np.einsum("mo,soij->smij", model.assignment, joint)


def _phase_rotate(
    rho: NDArray[np.complex128], phases: NDArray[np.float64], levels: tuple[int, int], sign: int
) -> NDArray[np.complex128]:
    """ρ → U ρ U† with U = exp(−i·sign·Σ_j φ_j n_j) (n_j = diag(0, 1, 2, …))."""
    theta = (
        phases[..., 0, None, None] * np.arange(levels[0])[:, None]
        + phases[..., 1, None, None] * np.arange(levels[1])[None, :]
    ).reshape(*phases.shape[:-1], -1)
    u = np.exp(-1j * sign * theta)
    return u[..., :, None] * rho * u[..., None, :].conj()


def _check_phases(local_phases: ArrayLike | None, name: str = "local_phases") -> Any:
    if local_phases is None:
        return None
    arr = real_array(local_phases, name)
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (batch…, 2) (rad, one per atom), got {arr.shape}")
    return arr


def outcome_probabilities(
    rho: ArrayLike,
    settings: str | Sequence[str] = "pauli",
    *,
    readout: ReadoutModel | None = None,
    local_phases: ArrayLike | None = None,
    pair: Sequence[int] = (0, 1),
    dims: Sequence[int] | None = None,
) -> NDArray[np.float64]:
    """Exact measured-outcome probabilities of a (batch of) state(s).

    Parameters
    ----------
    rho : array_like, complex, shape (batch…, d, d)
        Density matrices of two or more atoms (a QuTiP operator is accepted); the state of
        ``pair`` is taken with :func:`giantatoms.measure.metrics.partial_trace`.
    settings : {"pauli", "cardinal"} or sequence of str
        Measurement settings.
    readout : ReadoutModel, optional
        Readout errors and relaxation (``None``: ideal).
    local_phases : array_like, rad, shape (batch…, 2), optional
        Z phases φ_j acquired by the pair's atoms relative to the reporting frame (the
        convention of ``ProtocolResult.local_phases``), applied as ρ → U ρ U†,
        U = exp(+i Σ_j φ_j n_j), before the pre-rotations (n_j = b_j†b_j; the f phase cannot
        affect the counts).
    pair : pair of int
        The measured atoms (the first is the most significant outcome letter).
    dims : sequence of int, optional
        Levels of each atom (inferred for d = 4 or 9).

    Returns
    -------
    ndarray, float, shape (batch…, n_settings, 4)
        Probabilities of gg, ge, eg, ee for each setting (non-negative, each row sums to 1).
    """
    names = _resolve_settings(settings)
    rho2, levels = _two_atom(rho, dims, pair)
    trace = np.trace(rho2, axis1=-2, axis2=-1).real
    if not np.all(np.abs(trace - 1) <= 1e-6):
        raise ValueError(
            f"rho must be normalised density matrices (trace 1 within 1e-6), got trace "
            f"{np.ravel(trace)[np.argmax(np.ravel(np.abs(trace - 1)))]:.6g}"
        )
    phases = _check_phases(local_phases)
    if phases is not None:
        rho2 = _phase_rotate(rho2, phases, levels, -1)
    ops = measurement_operators(names, readout=readout, dims=levels)
    probs = np.einsum("smij,...ji->...sm", ops, rho2).real
    probs = np.clip(probs, 0.0, None)  # round-off (and slightly unphysical inputs)
    return probs / probs.sum(axis=-1, keepdims=True)


# ----------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TomographyData:
    """Counts of a two-qubit tomography experiment (measured or simulated).

    Parameters
    ----------
    settings : str or sequence of str
        ``"pauli"``, ``"cardinal"`` or the setting of each row (stored canonically).
    counts : array_like, shape (batch…, n_settings, 4)
        Counts of the outcomes gg, ge, eg, ee (first qubit first) per setting: non-negative
        integers, at least one shot per setting. With ``expected=True`` non-negative real
        numbers (expected counts or probabilities) are allowed.
    readout : ReadoutModel, optional
        The readout model the counts were taken with (``None``: unknown / ideal).
    seed : int, optional
        Seed of the random generator that sampled the counts (``None`` for measured data).
    expected : bool
        True when ``counts`` are exact expectation values rather than samples (from
        ``simulate_counts(..., shots=None)``); such data cannot be bootstrapped.
    """

    settings: tuple[str, ...]
    counts: NDArray[Any]
    readout: ReadoutModel | None = None
    seed: int | None = None
    expected: bool = False

    def __post_init__(self) -> None:
        owner = "TomographyData"
        names = _resolve_settings(self.settings)
        object.__setattr__(self, "settings", names)
        if isinstance(self.counts, (str, bytes)):
            raise TypeError(f"{owner}: counts must be an array of numbers")
        if np.iscomplexobj(np.asarray(self.counts)):
            raise TypeError(f"{owner}: counts must be real numbers")
        counts = real_array(self.counts, "counts", owner=owner, minimum=0)
        if counts.ndim < 2 or counts.shape[-1] != 4 or counts.shape[-2] != len(names):
            raise ValueError(
                f"{owner}: counts must have shape (batch…, n_settings={len(names)}, 4) "
                f"(outcomes gg, ge, eg, ee), got {counts.shape}"
            )
        if not isinstance(self.expected, bool):
            raise TypeError(f"{owner}: expected must be a bool, got {self.expected!r}")
        if not self.expected:
            if np.any(counts != np.round(counts)):
                raise ValueError(
                    f"{owner}: counts must be integers (use expected=True for expected counts)"
                )
            counts = counts.astype(np.int64)
        totals = counts.sum(axis=-1)
        if np.any(totals <= 0):
            empty = sorted({names[k] for k in np.nonzero(totals <= 0)[-1]})
            raise ValueError(f"{owner}: counts has no shots for setting(s) {empty}")
        counts.setflags(write=False)
        object.__setattr__(self, "counts", counts)
        if self.readout is not None and not isinstance(self.readout, ReadoutModel):
            raise TypeError(
                f"{owner}: readout must be a ReadoutModel or None, got {type(self.readout)}"
            )
        if self.seed is not None:
            if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer):
                raise TypeError(f"{owner}: seed must be an int or None, got {self.seed!r}")
            object.__setattr__(self, "seed", int(self.seed))

    @property
    def shots(self) -> NDArray[Any]:
        """Total counts per setting, shape (batch…, n_settings)."""
        return self.counts.sum(axis=-1)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading batch shape of ``counts``."""
        return self.counts.shape[:-2]

    @classmethod
    def from_arrays(
        cls,
        settings: str | Sequence[str],
        counts: ArrayLike,
        readout: ReadoutModel | None = None,
    ) -> TomographyData:
        """Wrap measured counts.

        Parameters
        ----------
        settings : {"pauli", "cardinal"} or sequence of str
            The setting of each row of ``counts``.
        counts : array_like of int, shape (batch…, n_settings, 4)
            Outcome counts gg, ge, eg, ee.
        readout : ReadoutModel, optional
            The calibrated readout (used for mitigation).

        Returns
        -------
        TomographyData
        """
        return cls(settings=settings, counts=counts, readout=readout)  # type: ignore[arg-type]

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        *,
        readout: ReadoutModel | None = None,
        expected: bool = False,
    ) -> TomographyData:
        """Read counts from a CSV file.

        Format: an optional preamble of lines starting with ``#``, then a header
        ``setting,gg,ge,eg,ee`` and one row per setting, e.g. ``XY,512,488,470,530``
        (first qubit first in the outcome labels). One data set per file (no batch).

        Parameters
        ----------
        path : str or Path
            The file.
        readout : ReadoutModel, optional
            The calibrated readout to attach.
        expected : bool
            Allow non-integer (expected) counts.

        Returns
        -------
        TomographyData
        """
        file = Path(path)
        with file.open(newline="") as handle:
            lines = [line for line in handle if line.strip() and not line.lstrip().startswith("#")]
        rows = list(csv.reader(lines))
        if not rows:
            raise ValueError(f"path: {file} holds no data")
        header = [h.strip().lower() for h in rows[0]]
        if header != ["setting", *OUTCOMES]:
            raise ValueError(
                f"path: {file} must start with the header 'setting,gg,ge,eg,ee', got "
                f"{','.join(rows[0])!r}"
            )
        settings, counts = [], []
        for number, row in enumerate(rows[1:], start=2):
            if len(row) != 5:
                raise ValueError(f"path: {file}, data row {number}: expected 5 columns, got {row}")
            settings.append(row[0].strip())
            try:
                counts.append([float(v) for v in row[1:]])
            except ValueError as exc:
                raise ValueError(
                    f"path: {file}, data row {number}: counts must be numbers"
                ) from exc
        return cls(
            settings=tuple(settings), counts=np.array(counts), readout=readout, expected=expected
        )

    def to_csv(self, path: str | Path) -> None:
        """Write the counts in the format read by :meth:`from_csv` (unbatched data only).

        Parameters
        ----------
        path : str or Path
            Destination file (overwritten).
        """
        if self.batch_shape:
            raise ValueError(
                f"to_csv writes one data set; counts has batch shape {self.batch_shape} "
                f"(index the batch first)"
            )
        with Path(path).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["setting", *OUTCOMES])
            for setting, row in zip(self.settings, self.counts, strict=True):
                writer.writerow([setting, *(repr(v.item()) for v in row)])


def _resolve_seed(seed: int | None, name: str = "seed") -> int:
    if seed is None:  # drawn from the OS and recorded; < 2**63 so it fits any int64 store
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"{name} must be a non-negative int or None, got {seed!r}")
    return int(seed)


def simulate_counts(
    rho: ArrayLike,
    *,
    settings: str | Sequence[str] = "pauli",
    shots: int | ArrayLike | None = 2000,
    readout: ReadoutModel | None = None,
    seed: int | None = None,
    local_phases: ArrayLike | None = None,
    pair: Sequence[int] = (0, 1),
    dims: Sequence[int] | None = None,
) -> TomographyData:
    """Sample tomography counts of a (batch of) state(s).

    Parameters
    ----------
    rho : array_like, complex, shape (batch…, d, d)
        Density matrices of two or more atoms with 2 or 3 levels each (see
        :func:`outcome_probabilities`); QuTiP operators are accepted.
    settings : {"pauli", "cardinal"} or sequence of str
        Measurement settings.
    shots : int or array_like of int, ≥ 1, broadcastable to (batch…, n_settings), or None
        Shots per setting. ``None`` returns the exact probabilities as expected "counts"
        (floats, ``expected=True``) for noiseless tests.
    readout : ReadoutModel, optional
        Readout errors and relaxation (``None``: ideal); recorded in the data.
    seed : int, optional
        Seed of ``numpy.random.default_rng``; when ``None`` one is drawn from the OS and
        recorded in ``TomographyData.seed`` so the draw can be repeated.
    local_phases : array_like, rad, shape (batch…, 2), optional
        Local Z phases φ_j of the pair relative to ``rho``'s frame (e.g.
        ``ProtocolResult.local_phases[..., pair]`` with ``rho`` from ``frame="drive"``): the
        measured state is U ρ U†, U = exp(+i Σ_j φ_j n_j), the state in the atoms' own frames.
        ``reconstruct(..., local_phases=φ)`` undoes them.
    pair : pair of int
        The measured atoms.
    dims : sequence of int, optional
        Levels of each atom (inferred for d = 4 or 9).

    Returns
    -------
    TomographyData
        Counts of shape (batch…, n_settings, 4); each batch element is an independent draw.
    """
    names = _resolve_settings(settings)
    if shots is not None:
        shots_arr = np.asarray(shots)
        if shots_arr.dtype == bool or not np.issubdtype(shots_arr.dtype, np.integer):
            raise TypeError(f"shots must be an int (or ints) or None, got {shots!r}")
        if np.any(shots_arr < 1):
            raise ValueError(f"shots must be ≥ 1, got {shots!r}")
    used_seed = None if shots is None else _resolve_seed(seed)
    probs = outcome_probabilities(
        rho, names, readout=readout, local_phases=local_phases, pair=pair, dims=dims
    )
    if shots is None:
        return TomographyData(names, probs, readout=readout, seed=None, expected=True)
    rng = np.random.default_rng(used_seed)
    n = np.broadcast_to(shots_arr, probs.shape[:-1])
    counts = rng.multinomial(n, probs)
    return TomographyData(names, counts, readout=readout, seed=used_seed)


# ----------------------------------------------------------------------------------------
# reconstruction kernels (batched, real coordinates x_k = Tr(ρ B_k))
# ----------------------------------------------------------------------------------------


def _to_matrix(x: NDArray[np.float64]) -> NDArray[np.complex128]:
    return (x.astype(complex) @ _BASIS_FLAT).reshape(*x.shape[:-1], 4, 4)


def _to_coordinates(rho: NDArray[np.complex128]) -> NDArray[np.float64]:
    return (rho.reshape(*rho.shape[:-2], 16) @ _BASIS_DUAL).real


def _simplex(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Euclidean projection of each row onto the probability simplex (sum 1, ≥ 0)."""
    n = values.shape[-1]
    u = np.sort(values, axis=-1)[..., ::-1]
    css = np.cumsum(u, axis=-1) - 1.0
    k = np.arange(1, n + 1)
    active = u - css / k > 0
    last = n - 1 - np.argmax(active[..., ::-1], axis=-1)
    theta = np.take_along_axis(css, last[..., None], axis=-1) / (last[..., None] + 1)
    return np.maximum(values - theta, 0.0)


def _project(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Closest density matrix in Frobenius norm (eigenvalues projected on the simplex).

    For a unit-trace input this is the Smolin–Gambetta–Smith projection.
    """
    w, v = np.linalg.eigh(_to_matrix(x))
    lam = _simplex(w)
    rho = (v * lam[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))
    return _to_coordinates(rho)


def _objective(
    design: NDArray[np.float64], weights: NDArray[np.float64], x: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Normalised negative log-likelihood −Σ w log p and its gradient in coordinates."""
    p = x @ design.T
    seen = weights > 0
    usable = seen & (p > 0)
    ratio = np.divide(weights, p, out=np.zeros_like(p), where=usable)
    logs = np.log(p, out=np.zeros_like(p), where=usable)
    value = -np.sum(weights * logs, axis=-1)
    value[np.any(seen & ~usable, axis=-1)] = np.inf
    grad = -ratio @ design
    return value, grad


def _mle(
    design: NDArray[np.float64],
    weights: NDArray[np.float64],
    x0: NDArray[np.float64],
    max_iterations: int,
    tol: float,
) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.bool_], NDArray[np.float64]]:
    """Accelerated projected gradient (FISTA) with adaptive step and gradient restart.

    Minimises f(ρ) = −Σ_r w_r log Tr(E_r ρ) over density matrices, w = counts / total, in the
    coordinates x. Each iteration takes a projected gradient step z = Π(y − ∇f(y)/L) from
    the extrapolated point y; L is a local Lipschitz estimate found by backtracking
    (TFOCS rule: from function values, or from gradients when the function-value difference
    is lost in round-off, which keeps the endgame accurate) and relaxed by 0.9 per
    iteration. The momentum restarts when ⟨y − z, z − x⟩ > 0 (O'Donoghue & Candès 2015).
    Stopping: max(1, 1/L)·L‖y − z‖ ≤ tol, an upper bound on the unit-step fixed-point
    residual ‖ρ − Π(ρ − ∇f(ρ))‖_F at y (zero exactly at the optimum). Every element stops
    on its own. Returns (x, iterations, converged, residual).
    """
    n = x0.shape[0]
    x, y = x0.copy(), x0.copy()
    theta = np.ones(n)
    lipschitz = np.ones(n)
    iterations = np.zeros(n, dtype=np.intp)
    converged = np.zeros(n, dtype=bool)
    residual = np.full(n, np.inf)
    for _ in range(max_iterations):
        act = np.flatnonzero(~converged)
        if act.size == 0:
            break
        iterations[act] += 1
        xa, ya, wa = x[act], y[act], weights[act]
        fy, gy = _objective(design, wa, ya)
        outside = ~np.isfinite(fy)  # the extrapolation left the domain: restart from x
        if outside.any():
            ya[outside] = xa[outside]
            theta[act[outside]] = 1.0
            fy[outside], gy[outside] = _objective(design, wa[outside], xa[outside])
        lip = 0.9 * lipschitz[act]
        z = ya.copy()
        pending = np.ones(act.size, dtype=bool)
        for _ in range(100):
            idx = np.flatnonzero(pending)
            trial = _project(ya[idx] - gy[idx] / lip[idx, None])
            ft, gt = _objective(design, wa[idx], trial)
            d = trial - ya[idx]
            dd = np.sum(d * d, axis=-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                from_values = 2 * (ft - fy[idx] - np.sum(d * gy[idx], axis=-1)) / dd
                from_gradients = 2 * np.abs(np.sum(d * (gt - gy[idx]), axis=-1)) / dd
            lost = np.abs(ft - fy[idx]) <= 1e-10 * np.maximum(np.abs(fy[idx]), 1.0)
            local = np.where(lost, from_gradients, from_values)
            local = np.where(np.isfinite(ft), local, np.inf)
            ok = (local <= lip[idx]) | (dd == 0)
            z[idx[ok]] = trial[ok]
            pending[idx[ok]] = False
            grow = idx[~ok]
            lip[grow] = np.where(
                np.isfinite(local[~ok]), np.maximum(2 * lip[grow], local[~ok]), 2 * lip[grow]
            )
            if not pending.any():
                break
        lipschitz[act] = lip
        step_norm = np.linalg.norm(ya - z, axis=-1)
        residual[act] = np.where(pending, np.inf, np.maximum(1.0, 1.0 / lip) * lip * step_norm)
        restart = np.sum((ya - z) * (z - xa), axis=-1) > 0
        theta_new = 0.5 * (1 + np.sqrt(1 + 4 * theta[act] ** 2))
        beta = np.where(restart, 0.0, (theta[act] - 1) / theta_new)
        x[act] = z
        y[act] = z + beta[:, None] * (z - xa)
        theta[act] = np.where(restart, 1.0, theta_new)
        converged[act] = residual[act] <= tol
    return x, iterations, converged, residual


# ----------------------------------------------------------------------------------------
# reconstruction
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TomographyResult:
    """A reconstructed two-qubit state with diagnostics.

    Attributes
    ----------
    rho : ndarray, complex, shape (batch…, 4, 4)
        Density matrix in the basis gg, ge, eg, ee, local phases corrected when given.
    method : str
        ``"mle"``, ``"linear"`` or ``"projected"``.
    mitigated : bool
        Whether the readout model was folded into the reconstruction.
    settings : tuple of str
    probabilities : ndarray, shape (batch…, n_settings, 4)
        Measured-outcome probabilities predicted by the fit (readout model included when
        mitigated; may be negative for ``"linear"``), before the local-phase correction.
    min_eigenvalue, trace : ndarray, shape (batch…)
        Physicality diagnostics of ``rho``.
    iterations : ndarray of int, shape (batch…)
        MLE iterations (0 for the linear methods).
    converged : ndarray of bool, shape (batch…)
        MLE stopping criterion reached (True for the linear methods).
    log_likelihood : ndarray, shape (batch…)
        Σ n log p at the estimate (multinomial constant omitted); NaN where a predicted
        probability is negative, −inf where an observed outcome has probability 0.
    residual : ndarray, shape (batch…)
        Root-mean-square difference between measured frequencies and ``probabilities``.
    gradient_norm : ndarray, shape (batch…)
        MLE optimality measure ‖ρ − Π(ρ − ∇f(ρ))‖_F of the normalised negative
        log-likelihood f (NaN for the linear methods).
    """

    rho: NDArray[np.complex128]
    method: str
    mitigated: bool
    settings: tuple[str, ...]
    probabilities: NDArray[np.float64]
    min_eigenvalue: NDArray[np.float64]
    trace: NDArray[np.float64]
    iterations: NDArray[np.intp]
    converged: NDArray[np.bool_]
    log_likelihood: NDArray[np.float64]
    residual: NDArray[np.float64]
    gradient_norm: NDArray[np.float64]

    def bell_fidelity(
        self, state: str = "closest", *, optimize_phases: bool = False
    ) -> tuple[Any, Any]:
        """Fidelity of the reconstructed state to a Bell state.

        Parameters
        ----------
        state : str
            ``"closest"`` (the Bell state of maximum fidelity among Φ±, Ψ±) or a Bell-state
            name accepted by :func:`giantatoms.measure.metrics.bell_state`.
        optimize_phases : bool
            Maximise over local Z phases (see :func:`giantatoms.measure.metrics.bell_fidelity`).
            With ``"closest"`` the family (Φ or Ψ) is chosen on the optimised fidelity and
            the sign on the plain one.

        Returns
        -------
        value : float or ndarray of shape (batch…)
            Dimensionless fidelity.
        name : str or ndarray of str of shape (batch…)
            The Bell state used (canonical name, e.g. ``"psi-"``).
        """
        values, names = _bell_values(self.rho, state, optimize_phases)
        if values.ndim == 0:
            return float(values), str(names)
        return values, names


def _bell_values(
    rho: NDArray[np.complex128], state: str, optimize_phases: bool
) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    if not isinstance(state, str):
        raise ValueError(f"state must be 'closest' or a Bell-state name, got {state!r}")
    if state.strip().lower() != "closest":
        values = _bell_fidelity(rho, state, optimize_phases=optimize_phases, dims=(2, 2))
        canonical = _normalise_bell_name(state)
        return values, np.full(values.shape, canonical)
    index = _closest_index(rho, optimize_phases)
    values = _bell_by_index(rho, index, optimize_phases)
    return values, np.asarray(BELL_STATES)[index]


def _all_bell(rho: NDArray[np.complex128], optimize_phases: bool) -> NDArray[np.float64]:
    return np.stack(
        [_bell_fidelity(rho, s, optimize_phases=optimize_phases, dims=(2, 2)) for s in BELL_STATES],
        axis=-1,
    )


def _closest_index(rho: NDArray[np.complex128], optimize_phases: bool) -> NDArray[np.intp]:
    plain = _all_bell(rho, False)
    if not optimize_phases:
        return np.argmax(plain, axis=-1)
    best = _all_bell(rho, True)
    family_psi = best[..., 2] > best[..., 0]  # BELL_STATES = phi+, phi-, psi+, psi-
    first = np.where(family_psi, 2, 0)
    sign = np.where(
        np.take_along_axis(plain, first[..., None] + 1, -1)[..., 0]
        > np.take_along_axis(plain, first[..., None], -1)[..., 0],
        1,
        0,
    )
    return first + sign


def _bell_by_index(
    rho: NDArray[np.complex128], index: NDArray[np.intp], optimize_phases: bool
) -> NDArray[np.float64]:
    every = _all_bell(rho, optimize_phases)
    index = np.broadcast_to(index, every.shape[:-1])
    return np.take_along_axis(every, index[..., None], axis=-1)[..., 0]


def _design(settings: tuple[str, ...], readout: ReadoutModel | None) -> NDArray[np.float64]:
    """Real design matrix D[(s, m), k] = Tr(E_sm B_k), shape (4·n_settings, 16)."""
    ops = measurement_operators(settings, readout=readout)
    design = np.einsum("smij,kji->smk", ops, _BASIS).real.reshape(-1, _N_COORD)
    singular = np.linalg.svd(design[:, 1:], compute_uv=False)
    if singular[-1] <= 1e-10 * singular[0]:
        rank = int(np.sum(singular > 1e-10 * singular[0]))
        raise ValueError(
            f"settings {list(dict.fromkeys(settings))} with this readout are not "
            f"tomographically complete (rank {rank} < 15); use e.g. settings='pauli'"
        )
    return design


def _linear(design: NDArray[np.float64], freqs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Least-squares inversion with the trace fixed to 1 (x_0 = 1/2)."""
    rhs = freqs - 0.5 * design[:, 0]
    rest = rhs @ np.linalg.pinv(design[:, 1:]).T
    return np.concatenate([np.full((*rest.shape[:-1], 1), 0.5), rest], axis=-1)


def _reconstruct_raw(
    data: TomographyData,
    method: str,
    mitigate: bool,
    max_iterations: int,
    tol: float,
) -> dict[str, Any]:
    """Reconstruct without the local-phase correction; flat batch internally."""
    design = _design(data.settings, data.readout if mitigate else None)
    n_settings = len(data.settings)
    counts = np.asarray(data.counts, dtype=float).reshape(-1, n_settings * 4)
    impossible = np.max(np.abs(design), axis=-1) == 0
    if np.any(counts[:, impossible] > 0):
        raise ValueError(
            "data: counts in an outcome the readout model declares impossible; check "
            "data.readout or use mitigate=False"
        )
    shots = counts.reshape(-1, n_settings, 4).sum(axis=-1)
    freqs = (counts.reshape(-1, n_settings, 4) / shots[..., None]).reshape(counts.shape)
    x = _linear(design, freqs)
    n = x.shape[0]
    iterations = np.zeros(n, dtype=np.intp)
    converged = np.ones(n, dtype=bool)
    grad_norm = np.full(n, np.nan)
    if method in ("projected", "mle"):
        x = _project(x)
    if method == "mle":
        # Start strictly inside (every outcome possible), then climb the likelihood.
        x0 = 0.99 * x
        x0[:, 0] += 0.01 * 0.5
        weights = counts / counts.sum(axis=-1, keepdims=True)
        x, iterations, converged, grad_norm = _mle(design, weights, x0, max_iterations, tol)
    p = x @ design.T
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(counts > 0, counts * np.log(np.where(p > 0, p, np.nan)), 0.0)
    loglik = np.sum(terms, axis=-1)
    loglik = np.where(np.any((counts > 0) & (p == 0), axis=-1), -np.inf, loglik)
    residual = np.sqrt(np.mean((freqs - p) ** 2, axis=-1))
    return {
        "x": x,
        "probabilities": p.reshape(-1, n_settings, 4),
        "iterations": iterations,
        "converged": converged,
        "log_likelihood": loglik,
        "residual": residual,
        "gradient_norm": grad_norm,
    }


def reconstruct(
    data: TomographyData,
    *,
    method: str = "mle",
    mitigate: bool = True,
    local_phases: ArrayLike | None = None,
    max_iterations: int = 3000,
    tol: float = 1e-9,
) -> TomographyResult:
    """Reconstruct the two-qubit state from tomography counts (batched).

    Parameters
    ----------
    data : TomographyData
        Counts of shape (batch…, n_settings, 4).
    method : {"mle", "linear", "projected"}
        ``"linear"``: least-squares inversion of the (possibly over-complete) settings with
        trace fixed to 1 (may be unphysical). ``"projected"``: the linear estimate moved to
        the closest physical state (eigenvalues projected on the simplex; Smolin, Gambetta &
        Smith 2012). ``"mle"``: maximum likelihood under the multinomial model, always a
        density matrix; accelerated projected gradient with restart and backtracking,
        started from the projected estimate.
    mitigate : bool
        Fold ``data.readout`` (assignment matrix and relaxation) into the model: predicted
        probabilities p_meas = A · p_true. For ``"linear"`` this is the least-squares
        inversion of the full model, which equals inverting A on the frequencies for a
        complete set. False ignores readout errors (ideal projective model).
    local_phases : array_like, rad, shape (batch…, 2), optional
        The Z phases applied in :func:`simulate_counts` (convention of
        ``ProtocolResult.local_phases``); the estimate is corrected as ρ → U† ρ U,
        U = exp(+i Σ_j φ_j n_j) (the lab's software Z correction).
    max_iterations : int, ≥ 1
        MLE iteration limit.
    tol : float, > 0
        MLE stopping threshold on ‖ρ − Π(ρ − ∇f(ρ))‖_F, f the negative log-likelihood per
        shot (the error in ρ is of this order).

    Returns
    -------
    TomographyResult
    """
    if not isinstance(data, TomographyData):
        raise TypeError(f"data must be a TomographyData, got {type(data).__name__}")
    how = choice(method, "method", _METHODS)
    if not isinstance(mitigate, bool):
        raise TypeError(f"mitigate must be a bool, got {mitigate!r}")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int | np.integer):
        raise TypeError(f"max_iterations must be an int, got {max_iterations!r}")
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be ≥ 1, got {max_iterations}")
    tol_value = float(real_array(tol, "tol", minimum=0, strict_minimum=True))
    phases = _check_phases(local_phases)
    batch = data.batch_shape
    if phases is not None:
        try:
            np.broadcast_shapes(phases.shape[:-1], batch)
        except ValueError as exc:
            raise ValueError(
                f"local_phases batch shape {phases.shape[:-1]} does not broadcast with the "
                f"data batch shape {batch}"
            ) from exc
    raw = _reconstruct_raw(data, how, mitigate, int(max_iterations), tol_value)
    rho = _to_matrix(raw["x"]).reshape(*batch, 4, 4)
    rho = 0.5 * (rho + np.conj(np.swapaxes(rho, -1, -2)))
    if phases is not None:
        rho = _phase_rotate(rho, phases, (2, 2), +1)
    eigs = np.linalg.eigvalsh(rho)
    return TomographyResult(
        rho=rho,
        method=how,
        mitigated=mitigate,
        settings=data.settings,
        probabilities=raw["probabilities"].reshape(*batch, len(data.settings), 4),
        min_eigenvalue=eigs[..., 0],
        trace=np.trace(rho, axis1=-2, axis2=-1).real,
        iterations=raw["iterations"].reshape(batch),
        converged=raw["converged"].reshape(batch),
        log_likelihood=raw["log_likelihood"].reshape(batch),
        residual=raw["residual"].reshape(batch),
        gradient_norm=raw["gradient_norm"].reshape(batch),
    )


# ----------------------------------------------------------------------------------------
# Bell fidelity with bootstrap error bars
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BellEstimate:
    """Bell-state fidelity with a parametric-bootstrap uncertainty.

    Attributes
    ----------
    value : float or ndarray of shape (batch…)
        Fidelity of the state reconstructed from the data.
    std : float or ndarray of shape (batch…)
        Standard deviation of the bootstrap fidelities (NaN without bootstrap).
    interval : tuple of float or ndarray of shape (batch…, 2)
        Percentile interval of the bootstrap fidelities at ``confidence``.
    samples : ndarray, shape (batch…, bootstrap)
        Bootstrap fidelities (to the fixed ``state``).
    state : str or ndarray of str of shape (batch…)
        The Bell state, chosen on the data and kept for the samples.
    confidence : float
    seed : int
        Seed of the bootstrap generator (drawn from the OS when not given).
    result : TomographyResult
        The reconstruction of the data.
    """

    value: Any
    std: Any
    interval: Any
    samples: NDArray[np.float64]
    state: Any
    confidence: float
    seed: int
    result: TomographyResult

    def format(self, decimals: int | None = None) -> str:
        """Text like ``"0.89 ± 0.02"`` (unbatched estimates only).

        Parameters
        ----------
        decimals : int, optional
            Decimal places; by default the uncertainty is shown with one significant digit
            (two when it starts with 1) and the value to the same place.

        Returns
        -------
        str
        """
        if np.ndim(self.value) != 0:
            raise ValueError("format needs an unbatched estimate; index the batch first")
        value, std = float(self.value), float(self.std)
        if decimals is None:
            if not np.isfinite(std) or std <= 0:
                decimals = 4
            else:
                exponent = math.floor(math.log10(std))
                leading = std / 10.0**exponent
                decimals = max(0, -exponent + (1 if leading < 2 else 0))
        if not np.isfinite(std):
            return f"{value:.{decimals}f}"
        return f"{value:.{decimals}f} ± {std:.{decimals}f}"


def bell_fidelity_with_errors(
    data: TomographyData,
    *,
    state: str = "closest",
    method: str = "mle",
    mitigate: bool = True,
    bootstrap: int = 200,
    seed: int | None = None,
    confidence: float = 0.68,
    optimize_phases: bool = False,
    local_phases: ArrayLike | None = None,
) -> BellEstimate:
    """Bell-state fidelity of tomography data with a parametric-bootstrap error bar.

    The state is reconstructed from ``data``; then ``bootstrap`` new count sets are drawn
    from the fitted measured-outcome probabilities (multinomial, the same shots per setting,
    negative linear-inversion probabilities clipped to 0) and all of them are reconstructed
    in one batched call with the same method, mitigation and phase correction. The Bell state
    is chosen on the data and kept fixed for the samples.

    Parameters
    ----------
    data : TomographyData
        Integer counts, shape (batch…, n_settings, 4) (a batch gives one estimate each).
    state : str
        ``"closest"`` or a Bell-state name (see :meth:`TomographyResult.bell_fidelity`).
    method : {"mle", "linear", "projected"}
        Reconstruction method (see :func:`reconstruct`).
    mitigate : bool
        Fold the readout model into the reconstruction.
    bootstrap : int, ≥ 0
        Number of bootstrap samples (0: no error bar).
    seed : int, optional
        Bootstrap seed; drawn from the OS and recorded when ``None``.
    confidence : float, in (0, 1)
        Coverage of the percentile interval (0.68 ≈ one standard deviation).
    optimize_phases : bool
        Maximise the fidelity over local Z phases (each sample on its own).
    local_phases : array_like, rad, shape (batch…, 2), optional
        Software Z correction (see :func:`reconstruct`).

    Returns
    -------
    BellEstimate
    """
    if not isinstance(data, TomographyData):
        raise TypeError(f"data must be a TomographyData, got {type(data).__name__}")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a non-negative int, got {bootstrap!r}")
    level = float(real_array(confidence, "confidence", minimum=0, strict_minimum=True))
    if level >= 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if bootstrap > 0 and data.expected:
        raise ValueError(
            "data holds expected counts (shots=None); the bootstrap needs sampled integer "
            "counts (or pass bootstrap=0)"
        )
    used_seed = _resolve_seed(seed)
    phases = _check_phases(local_phases)
    result = reconstruct(data, method=method, mitigate=mitigate, local_phases=phases)
    index = (
        _closest_index(result.rho, optimize_phases)
        if isinstance(state, str) and state.strip().lower() == "closest"
        else np.full(data.batch_shape, BELL_STATES.index(_normalise_bell_name(state)))
    )
    value = _bell_by_index(result.rho, index, optimize_phases)
    names = np.asarray(BELL_STATES)[index]
    batch = data.batch_shape
    if bootstrap > 0:
        probs = np.clip(result.probabilities, 0.0, None)
        probs = probs / probs.sum(axis=-1, keepdims=True)
        rng = np.random.default_rng(used_seed)
        shots = np.asarray(data.shots)
        drawn = rng.multinomial(shots, probs, size=(int(bootstrap), *shots.shape))
        drawn = np.moveaxis(drawn, 0, len(batch))  # (batch…, bootstrap, S, 4)
        resampled = TomographyData(data.settings, drawn, readout=data.readout, seed=used_seed)
        boot_phases = None if phases is None else phases[..., None, :]
        boot = reconstruct(resampled, method=method, mitigate=mitigate, local_phases=boot_phases)
        samples = _bell_by_index(boot.rho, index[..., None], optimize_phases)
        std = np.std(samples, axis=-1, ddof=1) if bootstrap > 1 else np.full(batch, np.nan)
        tail = (1 - level) / 2
        interval = np.moveaxis(np.quantile(samples, [tail, 1 - tail], axis=-1), 0, -1)
    else:
        samples = np.zeros((*batch, 0))
        std = np.full(batch, np.nan)
        interval = np.full((*batch, 2), np.nan)
    if not batch:
        return BellEstimate(
            value=float(value),
            std=float(std),
            interval=(float(interval[0]), float(interval[1])),
            samples=samples,
            state=str(names),
            confidence=level,
            seed=used_seed,
            result=result,
        )
    return BellEstimate(
        value=value,
        std=std,
        interval=interval,
        samples=samples,
        state=names,
        confidence=level,
        seed=used_seed,
        result=result,
    )
