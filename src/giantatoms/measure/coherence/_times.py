"""T1 and T2 of one atom expected from its rates, and the checks of device, atom and frequencies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import real_array
from giantatoms.model.device import Device


@dataclass(frozen=True, eq=False)
class CoherenceTimes:
    """Relaxation and coherence times of one atom expected from its rates (two-level model).

    Attributes
    ----------
    t1 : ndarray, s, shape (batch…)
        1/[Γ_j + γ_nr(1 + 2n_th)].
    t2 : ndarray, s, shape (batch…)
        1/[1/(2T1) + γ_φ] (Ramsey without quasi-static noise, and Hahn echo).
    waveguide_decay_rate : ndarray, rad/s, shape (batch…)
        Γ_j at the atom's bare frequency (0 at a decoherence-free point).
    intrinsic_decay_rate : ndarray, rad/s, shape (batch…)
        γ_nr = 1/t1 of the atom.
    thermal_occupation : ndarray, shape (batch…)
        n_th of the intrinsic bath.
    dephasing_rate : ndarray, rad/s, shape (batch…)
        γ_φ.
    lamb_shift : ndarray, rad/s, shape (batch…)
        δω_j; the experiments' frame rotates at ω_j + δω_j.
    """

    t1: NDArray[np.float64]
    t2: NDArray[np.float64]
    waveguide_decay_rate: NDArray[np.float64]
    intrinsic_decay_rate: NDArray[np.float64]
    thermal_occupation: NDArray[np.float64]
    dephasing_rate: NDArray[np.float64]
    lamb_shift: NDArray[np.float64]


def coherence_times(
    device: Device, atom: str | int, *, frequencies: ArrayLike | None = None
) -> CoherenceTimes:
    """T1 and T2 of one atom expected from the rates of PHYSICS.md §3 (exchange neglected).

    Parameters
    ----------
    device : Device
    atom : str or int
        The atom (name or index).
    frequencies : array_like, rad/s, shape (..., n_atoms), optional
        Bare frequencies of all atoms; default: the device's own.

    Returns
    -------
    CoherenceTimes
        Arrays with the broadcast batch shape of the device and ``frequencies``. With a
        thermal bath and a three-level atom the simulated times differ at O(n_th) (the f level).
    """
    j = _check_device_atom(device, atom)
    freq = _check_frequencies(device, frequencies)
    c = device.couplings(frequencies=freq)
    a = device.atoms[j]
    gamma = c.decay_rates[..., j]
    lamb = c.lamb_shift[..., j]
    gamma_nr, n_th, gamma_phi = np.broadcast_arrays(
        a.intrinsic_decay_rate, a.n_thermal, a.dephasing_rate
    )
    total = gamma + gamma_nr * (1.0 + 2.0 * n_th)
    shape = np.broadcast_shapes(total.shape, gamma_phi.shape, lamb.shape)
    with np.errstate(divide="ignore"):
        t1 = 1.0 / total
        t2 = 1.0 / (0.5 * total + gamma_phi)
    return CoherenceTimes(
        *(
            np.broadcast_to(x, shape).astype(float)
            for x in (t1, t2, gamma, gamma_nr, n_th, gamma_phi, lamb)
        )
    )


def _check_device_atom(device: Device, atom: str | int) -> int:
    if not isinstance(device, Device):
        raise TypeError(f"device must be a Device, got {type(device).__name__}")
    if not isinstance(atom, str | int | np.integer) or isinstance(atom, bool):
        raise TypeError(f"atom must be an atom name or index, got {atom!r}")
    return device.index(atom)


def _check_frequencies(device: Device, frequencies: ArrayLike | None) -> NDArray[np.float64]:
    if frequencies is None:
        return device.frequencies
    f = real_array(frequencies, "frequencies", minimum=0, strict_minimum=True)
    if f.ndim == 0 or f.shape[-1] != device.n_atoms:
        raise ValueError(
            f"frequencies must have shape (..., {device.n_atoms}) (bare rad/s, one per atom), "
            f"got {f.shape}"
        )
    return f
