"""Closed-form giant-atom results of PHYSICS.md used as test oracles across layers."""

from __future__ import annotations

import numpy as np

from giantatoms.model.device import Atom, Device, Waveguide

V = 1.2e8  # m/s

# Order of the four points along the waveguide for each configuration of §3.1.
CONFIGURATIONS = {
    "separate": ([0, 1], [2, 3]),
    "braided": ([0, 2], [1, 3]),
    "nested": ([0, 3], [1, 2]),
}


def two_point_pair(configuration: str, spacing: float, gamma: float, frequency) -> Device:
    """Two two-point giant atoms with equal rates and equal neighbour spacing (m)."""
    a, b = CONFIGURATIONS[configuration]
    return Device(
        waveguide=Waveguide(V),
        atoms=[
            Atom("A", frequency=frequency, points=np.array(a) * spacing, point_rates=gamma),
            Atom("B", frequency=frequency, points=np.array(b) * spacing, point_rates=gamma),
        ],
    )


def closed_form(configuration: str, phi, gamma: float) -> dict[str, np.ndarray]:
    """Table of PHYSICS.md §3.1: Lamb shifts, decay rates, J and Γ_coll at neighbour phase φ."""
    s, c = np.sin, np.cos
    if configuration == "separate":
        return {
            "lamb_A": gamma * s(phi),
            "lamb_B": gamma * s(phi),
            "gamma_A": 2 * gamma * (1 + c(phi)),
            "gamma_B": 2 * gamma * (1 + c(phi)),
            "J": gamma / 2 * (s(phi) + 2 * s(2 * phi) + s(3 * phi)),
            "gamma_coll": gamma * (c(phi) + 2 * c(2 * phi) + c(3 * phi)),
        }
    if configuration == "braided":
        return {
            "lamb_A": gamma * s(2 * phi),
            "lamb_B": gamma * s(2 * phi),
            "gamma_A": 2 * gamma * (1 + c(2 * phi)),
            "gamma_B": 2 * gamma * (1 + c(2 * phi)),
            "J": gamma / 2 * (3 * s(phi) + s(3 * phi)),
            "gamma_coll": gamma * (3 * c(phi) + c(3 * phi)),
        }
    if configuration == "nested":
        return {
            "lamb_A": gamma * s(3 * phi),
            "lamb_B": gamma * s(phi),
            "gamma_A": 2 * gamma * (1 + c(3 * phi)),
            "gamma_B": 2 * gamma * (1 + c(phi)),
            "J": gamma * (s(phi) + s(2 * phi)),
            "gamma_coll": 2 * gamma * (c(phi) + c(2 * phi)),
        }
    raise ValueError(configuration)


def pure_dark_state(delta: float, omega: float) -> np.ndarray:
    """|D⟩ ∝ δ|gg⟩ − √2Ω|Ψ⁻⟩ (PHYSICS.md §6), two qubits, Ψ⁻ = (|eg⟩ − |ge⟩)/√2."""
    psi = np.zeros(4, dtype=complex)
    psi[0] = delta
    psi[2] += -np.sqrt(2) * omega / np.sqrt(2)
    psi[1] += np.sqrt(2) * omega / np.sqrt(2)
    return psi / np.linalg.norm(psi)


def rank_one_dark_state(delta: float, omega: complex, exchange: float, theta: float) -> np.ndarray:
    """|D⟩ ∝ |gg⟩ − [√2Ω/(δ + iJ sin θ)]|S_θ⟩, |S_θ⟩ = (|eg⟩ − e^{−iθ}|ge⟩)/√2 (§6)."""
    s_theta = np.zeros(4, dtype=complex)
    s_theta[2] = 1 / np.sqrt(2)
    s_theta[1] = -np.exp(-1j * theta) / np.sqrt(2)
    psi = np.zeros(4, dtype=complex)
    psi[0] = 1.0
    psi = psi - np.sqrt(2) * omega / (delta + 1j * exchange * np.sin(theta)) * s_theta
    return psi / np.linalg.norm(psi)


def storage_fidelity(t, t1_a: float, t1_b: float, t2_a: float, t2_b: float):
    """Ψ⁻ fidelity after storage at the DF point (PHYSICS.md §6).

    F(t) = ¼(e^{−t/T1A} + e^{−t/T1B}) + ½e^{−t(1/T2A + 1/T2B)}.
    """
    t = np.asarray(t, dtype=float)
    return 0.25 * (np.exp(-t / t1_a) + np.exp(-t / t1_b)) + 0.5 * np.exp(-t * (1 / t2_a + 1 / t2_b))


def two_level_scattering(
    gamma: float,
    detuning,
    *,
    intrinsic_decay: float = 0.0,
    thermal_occupation: float = 0.0,
    dephasing: float = 0.0,
    drive_amplitude=0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Coherent t and r of a small two-level atom at x = 0 of a bidirectional waveguide (§7).

    Optical Bloch equations in steady state, probe Δ = ω − ω̃ from the left with amplitude α
    (√(photons/s)), drive Ω = α√(Γ/2): Γ₁ = Γ + γ_nr(1 + 2n_th), Γ₂ = Γ₁/2 + γ_φ,
    thermal excitation p_e = γ_nr n_th/Γ₁, saturation s = 4|Ω|²Γ₂/(Γ₁(Γ₂² + Δ²)) and

        t = 1 − (Γ/2)(1 − 2p_e)/((Γ₂ − iΔ)(1 + s)),   r = t − 1.

    Weak probe (α → 0) and no thermal excitation: t = 1 − (Γ/2)/(Γ₂ − iΔ), the linear response.
    """
    delta = np.asarray(detuning, dtype=float)
    gamma_1 = gamma + intrinsic_decay * (1 + 2 * thermal_occupation)
    gamma_2 = gamma_1 / 2 + dephasing
    excited = intrinsic_decay * thermal_occupation / gamma_1
    rabi_squared = np.abs(drive_amplitude) ** 2 * gamma / 2  # |Ω|²
    saturation = 4 * rabi_squared * gamma_2 / (gamma_1 * (gamma_2**2 + delta**2))
    r = -(gamma / 2) * (1 - 2 * excited) / ((gamma_2 - 1j * delta) * (1 + saturation))
    return 1 + r, r


def giant_atom_transmission(gamma, lamb_shift, atom_frequency, probe, coherence_loss=0.0):
    """t = 1 − (Γ/2)/(Γ₂ − iΔ) of one giant atom (PHYSICS.md §7), rates at the probe frequency.

    ``gamma`` Γ(ω) and ``lamb_shift`` δω(ω) evaluated at ``probe`` ω; Δ = ω − (ω_a + δω(ω));
    Γ₂ = (Γ + ``coherence_loss``)/2 with coherence_loss = γ_nr(1 + 2n_th) + 2γ_φ.
    """
    delta = np.asarray(probe) - (atom_frequency + np.asarray(lamb_shift))
    gamma_2 = (np.asarray(gamma) + coherence_loss) / 2
    return 1 - (np.asarray(gamma) / 2) / (gamma_2 - 1j * delta)


def lorentzian_fwhm(x: np.ndarray, y: np.ndarray) -> float:
    """Full width at half maximum of a single peak sampled on a fine grid (interpolated)."""
    i = int(np.argmax(y))
    half = y[i] / 2
    above = np.flatnonzero(y >= half)
    lo, hi = above[0], above[-1]
    if lo == 0 or hi == y.size - 1:
        raise ValueError("the grid does not contain both half-maximum points")
    left = np.interp(half, [y[lo - 1], y[lo]], [x[lo - 1], x[lo]])
    right = np.interp(half, [y[hi + 1], y[hi]], [x[hi + 1], x[hi]])
    return float(right - left)
