"""Random Lindblad models shared by the solver tests (Liouvillian, steady state, gap).

Every model is a :class:`~giantatoms.model.lindblad.MasterEquation` built directly from arrays (no
geometry): a random Hermitian Hamiltonian, amplitude damping on every atom (so the steady state
is unique) and a few dense random jump operators. Rates are physical (2π × MHz, in rad/s) so
that unit-dependent bugs show up.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from giantatoms.model.lindblad import MasterEquation
from giantatoms.model.operators import embed, lowering

MHZ = 2 * np.pi * 1e6  # rad/s


def random_hermitian(rng: np.random.Generator, d: int, scale: float, batch=()) -> np.ndarray:
    """Random Hermitian matrices of shape (*batch, d, d) with entries of size ~``scale``."""
    a = rng.normal(size=(*batch, d, d)) + 1j * rng.normal(size=(*batch, d, d))
    return scale * (a + np.swapaxes(a, -1, -2).conj()) / 2


def random_master_equation(
    rng: np.random.Generator,
    dims: Sequence[int] = (2, 2),
    *,
    n_random_jumps: int = 2,
    batch_shape: tuple[int, ...] = (),
    energy_scale: float = 5 * MHZ,
    decay_scale: float = 1 * MHZ,
    individual_decay: bool = True,
) -> MasterEquation:
    """A random master equation on atoms with ``dims`` levels.

    Parameters
    ----------
    rng : numpy Generator
    dims : levels of each atom (d = prod(dims))
    n_random_jumps : number of dense random jump operators (on top of individual decay)
    batch_shape : leading batch shape; every point is an independent random model
    energy_scale : size of the Hamiltonian entries, rad/s
    decay_scale : typical decay rate, rad/s
    individual_decay : add the ladder operator of every atom with a random rate; makes the
        steady state unique
    """
    dims = tuple(int(n) for n in dims)
    d = int(np.prod(dims))
    h = random_hermitian(rng, d, energy_scale, batch_shape)
    jumps = []
    labels = []
    if individual_decay:
        for j, n in enumerate(dims):
            rate = decay_scale * rng.uniform(0.3, 3.0, size=batch_shape)
            op = embed(lowering(n), j, dims)
            jumps.append(np.sqrt(rate)[..., None, None] * op)
            labels.append(f"decay:{j}")
    for k in range(n_random_jumps):
        a = rng.normal(size=(*batch_shape, d, d)) + 1j * rng.normal(size=(*batch_shape, d, d))
        jumps.append(np.sqrt(decay_scale / d) * rng.uniform(0.2, 1.0) * a)
        labels.append(f"random:{k}")
    c = np.stack(jumps, axis=-3) if jumps else np.zeros((*batch_shape, 0, d, d), complex)
    return MasterEquation(
        hamiltonian=h,
        jump_operators=c,
        dims=dims,
        atom_names=tuple("ABCDEFGH"[: len(dims)]),
        jump_labels=tuple(labels),
    )


def random_dims(rng: np.random.Generator, max_dimension: int = 27) -> tuple[int, ...]:
    """1–3 atoms with 2 or 3 levels each, Hilbert dimension at most ``max_dimension``."""
    while True:
        dims = tuple(int(x) for x in rng.choice([2, 3], size=rng.integers(1, 4)))
        if int(np.prod(dims)) <= max_dimension:
            return dims


def collective_decay_pair(gamma: float = 1 * MHZ) -> MasterEquation:
    """Two qubits with only the collective jump √Γ(σ_A + σ_B), no Hamiltonian.

    |gg⟩ and the singlet (|eg⟩ − |ge⟩)/√2 are both steady: the steady state is not unique.
    """
    dims = (2, 2)
    sigma = lowering(2)
    c = np.sqrt(gamma) * (embed(sigma, 0, dims) + embed(sigma, 1, dims))
    return MasterEquation(
        hamiltonian=np.zeros((4, 4), complex),
        jump_operators=c[None],
        dims=dims,
        atom_names=("A", "B"),
        jump_labels=("collective",),
    )


def decaying_dephasing_qubit(gamma: float, dephasing: float, detuning: float = 0.0):
    """One qubit with decay Γ, pure dephasing γ_φ as 𝒟[√(2γ_φ) σ†σ] and detuning Δ, no drive.

    Liouvillian eigenvalues: {0, −Γ, −(Γ/2 + γ_φ) ± iΔ}.
    """
    sigma = lowering(2)
    c = np.stack([np.sqrt(gamma) * sigma, np.sqrt(2 * dephasing) * sigma.conj().T @ sigma])
    return MasterEquation(
        hamiltonian=detuning * sigma.conj().T @ sigma,
        jump_operators=c,
        dims=(2,),
        atom_names=("A",),
        jump_labels=("decay:A", "dephasing:A"),
    )


def random_giant_pair(
    rng: np.random.Generator,
    levels: int = 2,
    *,
    centre: float = 2 * np.pi * 5.0e9,
    spread: float = 20 * MHZ,
):
    """Two random two-point giant atoms on one waveguide, for protocol tests.

    Random point positions (sequential, braided or nested order), per-point rates of 1–3 MHz,
    mild chirality, bare frequencies within ``spread`` of ``centre`` (rad/s), intrinsic
    T1 = 5–30 µs, T2 ≤ 2·T1, thermal occupation ≤ 0.05 and, for ``levels=3``, a small
    anharmonicity of −(30–60) MHz (so that a time-dependent reference solver stays fast).
    """
    from giantatoms.model.device import Atom, Device, Waveguide

    order = rng.permutation(4) if rng.uniform() < 0.5 else np.arange(4)
    positions = np.sort(rng.uniform(0.0, 0.3, size=4))[order]  # m
    atoms = []
    for j, name in enumerate("AB"):
        t1 = rng.uniform(5e-6, 30e-6)
        atoms.append(
            Atom(
                name,
                frequency=centre + rng.uniform(-spread, spread),
                points=np.sort(positions[2 * j : 2 * j + 2]),
                point_rates=rng.uniform(1.0, 3.0, size=2) * MHZ,
                right_fraction=rng.uniform(0.3, 0.7, size=2),
                levels=levels,
                anharmonicity=-rng.uniform(30.0, 60.0) * MHZ if levels == 3 else None,
                t1=t1,
                t2=rng.uniform(0.3, 1.9) * t1,
                n_thermal=rng.uniform(0.0, 0.05),
            )
        )
    return Device(waveguide=Waveguide(1.2e8), atoms=atoms)
