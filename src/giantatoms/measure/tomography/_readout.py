"""The readout model: joint assignment (confusion) matrix and relaxation during readout."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import choice, real_array


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
