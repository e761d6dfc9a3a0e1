"""Closed-form giant-atom results of PHYSICS.md used as test oracles across layers."""

from __future__ import annotations

import numpy as np

from giantatoms.device import Atom, Device, Waveguide

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
