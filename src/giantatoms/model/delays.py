"""Propagation delays between coupling points, and how far the Markov approximation holds.

A photon needs τ = |x − x′|/v to travel between two coupling points. Every Markovian model of
this package (the master equation, steady states, protocols, sweeps) takes τ → 0 while keeping
the phases e^{iωτ}. In the single-excitation sector, in a frame rotating at ω₀, the exact
amplitudes of N atoms obey the delay-differential equation

    ċ_j(t) = −(iΔ_j + γ_nr,j/2) c_j(t) − ½ Σ_k Σ_m K_jkm c_k(t − τ_jkm) Θ(t − τ_jkm),

with Δ_j = ω_j − ω₀ (bare frequencies), γ_nr,j the intrinsic loss, and one term per pair of
coupling points (x of atom j, x′ of atom k), τ = |x − x′|/v and

    K = 2√(γ^R γ^R′) e^{iω₀τ}  (x > x′: a right-going photon from x′ reaches x),
        2√(γ^L γ^L′) e^{iω₀τ}  (x < x′),
        √(γ^R γ^R′) + √(γ^L γ^L′)  (x = x′, τ = 0).

Setting every c_k(t − τ) → c_k(t) gives the Markovian single-excitation equation
ċ = −(iΔ + γ_nr/2 + G/2)c with G(ω₀) = Σ_m K the coupling matrix of
:mod:`giantatoms.model.couplings`. To first order in the delays, c(t − τ) ≈ c(t) − τċ(t), so

    (1 − T/2) ċ = −(iΔ + γ_nr/2 + G/2) c,   T_jk = Σ_m K_jkm τ_jkm,

i.e. the Markovian poles λ (eigenvalues of −(iΔ + γ_nr/2 + G/2)) move to those of
(1 − T/2)⁻¹(−(iΔ + γ_nr/2 + G/2)): every rate and coherent coupling changes by a relative
amount of order ‖T‖/2. That number is the criterion of :func:`diagnostics`: the Markovian
master equation is good to ``tolerance`` (1 % by default) when ‖T‖₂/2 ≤ tolerance.

The DDE itself is solved by :mod:`giantatoms.solvers.delay`; this module (in the model layer, so
that :func:`giantatoms.model.lindblad.master_equation` can warn) builds the delay kernel and the
diagnostics.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import real_array

if TYPE_CHECKING:
    from giantatoms.model.device import Device

__all__ = [
    "DEFAULT_TOLERANCE",
    "DelayDiagnostics",
    "DelayKernel",
    "NonMarkovianWarning",
    "delay_kernel",
    "diagnostics",
    "warn_if_non_markovian",
]

#: Relative first-order delay correction ‖T‖₂/2 above which a device counts as non-Markovian.
DEFAULT_TOLERANCE = 0.01


class NonMarkovianWarning(UserWarning):
    """The propagation delays of a device change its Markovian rates by more than 1 %."""


@dataclass(frozen=True, eq=False)
class DelayKernel:
    """The delay-differential equation of a device's single-excitation amplitudes.

    M is the largest number of point pairs of any two atoms, P_j·P_k; shorter lists are padded
    with zero coefficients (and zero delays).

    Attributes
    ----------
    coefficients : ndarray, complex, rad/s, shape (..., N, N, M)
        K_jkm, the phase e^{iω₀τ} included.
    delays : ndarray, s, shape (..., N, N, M)
        τ_jkm ≥ 0.
    detunings : ndarray, rad/s, shape (..., N)
        Δ_j = ω_j − ω₀ of the bare frequencies.
    loss_rates : ndarray, rad/s, shape (..., N)
        Intrinsic (non-waveguide) decay γ_nr,j = 1/T1 (amplitudes decay at γ_nr/2).
    frame_frequency : ndarray, rad/s, shape (...)
        ω₀.
    atom_names : tuple of str
    point_strengths : ndarray, rad/s, shape (..., N, N, M), optional
        √(γγ′) of each point pair (total per-point rates, both directions), for diagnostics.
    """

    coefficients: NDArray[np.complex128]
    delays: NDArray[np.float64]
    detunings: NDArray[np.float64]
    loss_rates: NDArray[np.float64]
    frame_frequency: NDArray[np.float64]
    atom_names: tuple[str, ...]
    point_strengths: NDArray[np.float64] | None = None

    @property
    def n_atoms(self) -> int:
        """Number of atoms N."""
        return len(self.atom_names)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading batch shape of every array."""
        return self.coefficients.shape[:-3]

    @property
    def markov_matrix(self) -> NDArray[np.complex128]:
        """G(ω₀) = Σ_m K_jkm, complex rad/s, shape (..., N, N): the Markovian coupling matrix."""
        return np.sum(self.coefficients, axis=-1)

    @property
    def delay_matrix(self) -> NDArray[np.complex128]:
        """T = Σ_m K_jkm τ_jkm, complex, dimensionless, shape (..., N, N)."""
        return np.sum(self.coefficients * self.delays, axis=-1)

    @property
    def local_generator(self) -> NDArray[np.complex128]:
        """−(iΔ + γ_nr/2) − ½ Σ_{τ=0} K: the undelayed part A of ċ = Ac + …, shape (..., N, N)."""
        zero = self.delays == 0
        a = -0.5 * np.sum(np.where(zero, self.coefficients, 0.0), axis=-1)
        idx = np.arange(self.n_atoms)
        a[..., idx, idx] -= 1j * self.detunings + 0.5 * self.loss_rates
        return a

    @property
    def markov_generator(self) -> NDArray[np.complex128]:
        """−(iΔ + γ_nr/2 + G/2), complex rad/s, shape (..., N, N): every delay set to zero."""
        g = -0.5 * self.markov_matrix
        idx = np.arange(self.n_atoms)
        g[..., idx, idx] -= 1j * self.detunings + 0.5 * self.loss_rates
        return g

    def characteristic_matrix(self, s: ArrayLike) -> NDArray[np.complex128]:
        """M(s) = s + iΔ + γ_nr/2 + ½ Σ_m K e^{−sτ}, shape (..., N, N) for s of shape (...).

        The Laplace transform of the DDE is M(s) ĉ(s) = c(0); its zeros det M(s) = 0 are the
        poles of the amplitudes (decay rate −Re s, frequency Im s in the frame).
        """
        s = np.asarray(s, dtype=complex)[..., None, None, None]
        m = 0.5 * np.sum(self.coefficients * np.exp(-s * self.delays), axis=-1)
        idx = np.arange(self.n_atoms)
        m[..., idx, idx] += s[..., 0, 0] + 1j * self.detunings + 0.5 * self.loss_rates
        return m

    def characteristic_derivative(self, s: ArrayLike) -> NDArray[np.complex128]:
        """dM/ds = 1 − ½ Σ_m K τ e^{−sτ}, shape (..., N, N); at s = 0 this is 1 − T/2."""
        s = np.asarray(s, dtype=complex)[..., None, None, None]
        m = -0.5 * np.sum(self.coefficients * self.delays * np.exp(-s * self.delays), axis=-1)
        idx = np.arange(self.n_atoms)
        m[..., idx, idx] += 1.0
        return m


def _pair_terms(device: Device, j: int, k: int) -> tuple[NDArray, NDArray, NDArray]:
    """Point-pair amplitudes (no phase), signed distances and √(γγ′) of atoms j, k (…, P_j·P_k)."""
    from giantatoms.model.couplings import EmitterGeometry

    gj, gk = EmitterGeometry.of(device.atoms[j]), EmitterGeometry.of(device.atoms[k])
    dx = gj.positions[..., :, None] - gk.positions[..., None, :]
    right = np.sqrt(gj.rates_right[..., :, None] * gk.rates_right[..., None, :])
    left = np.sqrt(gj.rates_left[..., :, None] * gk.rates_left[..., None, :])
    rate_j, rate_k = gj.rates_right + gj.rates_left, gk.rates_right + gk.rates_left
    total = np.sqrt(rate_j[..., :, None] * rate_k[..., None, :])
    amp = np.where(dx > 0, 2 * right, np.where(dx < 0, 2 * left, right + left))
    shape = np.broadcast_shapes(amp.shape, dx.shape, total.shape)
    return tuple(np.broadcast_to(a, shape).reshape(*shape[:-2], -1) for a in (amp, dx, total))


def delay_kernel(
    device: Device,
    *,
    frequencies: ArrayLike | None = None,
    frame_frequency: ArrayLike | None = None,
) -> DelayKernel:
    """The delay kernel of a device (module docstring), batched like the device.

    Parameters
    ----------
    device : Device
    frequencies : array_like, rad/s, shape (..., N), optional
        Bare atom frequencies; default the atoms' own.
    frame_frequency : array_like, rad/s, shape (...), optional
        ω₀, at which the propagation phases e^{iω₀τ} are taken; default the mean bare
        frequency. The exact dynamics do not depend on it (it only moves the frame).

    Returns
    -------
    DelayKernel
    """
    from giantatoms.model.couplings import _atom_frequencies

    f = _atom_frequencies(device, None, frequencies)
    if frame_frequency is None:
        w0 = np.mean(f, axis=-1)
    else:
        w0 = real_array(
            frame_frequency, "frame_frequency", owner="delay_kernel", minimum=0, strict_minimum=True
        )
    v = device.waveguide.phase_velocity
    n = device.n_atoms
    pairs = {(j, k): _pair_terms(device, j, k) for j in range(n) for k in range(n)}
    m = max(a.shape[-1] for a, _, _ in pairs.values())
    batch = np.broadcast_shapes(
        f.shape[:-1], np.shape(w0), *(a.shape[:-1] for a, _, _ in pairs.values())
    )
    amp = np.zeros((*batch, n, n, m))
    dist = np.zeros((*batch, n, n, m))
    strength = np.zeros((*batch, n, n, m))
    for (j, k), (a, dx, total) in pairs.items():
        size = a.shape[-1]
        amp[..., j, k, :size] = np.broadcast_to(a, (*batch, size))
        dist[..., j, k, :size] = np.broadcast_to(np.abs(dx), (*batch, size))
        strength[..., j, k, :size] = np.broadcast_to(total, (*batch, size))
    tau = dist / v
    w0 = np.broadcast_to(np.asarray(w0, dtype=float), batch)
    coefficients = amp * np.exp(1j * w0[..., None, None, None] * tau)
    loss = np.stack(
        np.broadcast_arrays(*(np.asarray(a.intrinsic_decay_rate, float) for a in device.atoms)),
        axis=-1,
    )
    f = np.broadcast_to(f, (*batch, n))
    return DelayKernel(
        coefficients=coefficients,
        delays=tau,
        detunings=f - w0[..., None],
        loss_rates=np.broadcast_to(loss, (*batch, n)).astype(float),
        frame_frequency=w0,
        atom_names=device.atom_names,
        point_strengths=strength,
    )


@dataclass(frozen=True, eq=False)
class DelayDiagnostics:
    """How much the propagation delays of a device matter (see :func:`diagnostics`).

    Attributes
    ----------
    frequency : ndarray, rad/s, shape (...)
        ω at which the phases e^{iωτ} were taken.
    max_delay : ndarray, s, shape (...)
        Longest delay between two coupling points.
    gamma_tau : ndarray, shape (...)
        max over pairs of distinct coupling points of √(γγ′)·τ (γ the per-point rates).
    Gamma_tau : ndarray, shape (...)
        max over pairs of atoms of max(Γ_j, Γ_k)·τ_max(j, k), with Γ_j = Σ_n γ_jn the atom's decay
        rate without interference (its average over frequency) and τ_max(j, k) the longest delay
        between their points.
    delay_matrix : ndarray, complex, shape (..., N, N)
        T_jk = Σ_{n,m} K τ (module docstring; √(γγ′)τ e^{iωτ} summed for a bidirectional line).
    markov_poles, corrected_poles : ndarray, complex, rad/s, shape (..., N)
        Eigenvalues of the Markovian single-excitation generator −(iΔ + γ_nr/2 + G/2) and of
        its first-order delay correction (1 − T/2)⁻¹(…), sorted by decay rate. Decay rate of
        the amplitude −Re, frequency in the frame Im.
    pole_shift : ndarray, rad/s, shape (...)
        Largest |corrected − Markov| pole difference.
    markov_error : ndarray, shape (...)
        ‖T‖₂/2: the relative first-order change of the Markovian rates and couplings.
    tolerance : float
    atom_names : tuple of str
    """

    frequency: NDArray[np.float64]
    max_delay: NDArray[np.float64]
    gamma_tau: NDArray[np.float64]
    Gamma_tau: NDArray[np.float64]
    delay_matrix: NDArray[np.complex128]
    markov_poles: NDArray[np.complex128]
    corrected_poles: NDArray[np.complex128]
    pole_shift: NDArray[np.float64]
    markov_error: NDArray[np.float64]
    tolerance: float
    atom_names: tuple[str, ...]

    @property
    def markovian(self) -> NDArray[np.bool_]:
        """Whether the Markovian master equation is good to ``tolerance``, shape (...)."""
        return np.asarray(self.markov_error <= self.tolerance)

    def verdict(self) -> str:
        """A plain-words verdict (the worst point of a batch)."""
        worst = int(np.argmax(np.ravel(self.markov_error)))
        err = float(np.ravel(self.markov_error)[worst])
        tau = float(np.ravel(self.max_delay)[worst])
        gtau = float(np.ravel(self.Gamma_tau)[worst])
        where = "" if self.markov_error.ndim == 0 else f" (worst point of the batch, #{worst})"
        head = (
            f"longest delay {tau * 1e9:.3g} ns, Γτ = {gtau:.3g}, γτ = "
            f"{float(np.ravel(self.gamma_tau)[worst]):.3g}; delays change the Markovian rates "
            f"by ~{100 * err:.2g} %{where}"
        )
        if err <= self.tolerance:
            return (
                f"Markovian: {head}, within the {100 * self.tolerance:.2g} % tolerance — the "
                "master equation (steady_state, run_protocol, sweep) is good for this chip."
            )
        if err <= 0.1:
            return (
                f"Weakly non-Markovian: {head}, above the {100 * self.tolerance:.2g} % "
                "tolerance. Markovian results are off at the percent level (dark-state fidelities "
                "and trapped populations most); check them with giantatoms.delay."
            )
        return (
            f"Non-Markovian: {head}. The master equation is not a good model of this chip; "
            "use giantatoms.delay (single_excitation, poles, trapped_state)."
        )

    def __str__(self) -> str:
        return self.verdict()


def _sorted_eigenvalues(m: NDArray[np.complex128]) -> NDArray[np.complex128]:
    ev = np.linalg.eigvals(m)
    order = np.argsort(-ev.real, axis=-1, kind="stable")
    return np.take_along_axis(ev, order, axis=-1)


def diagnostics(
    device: Device,
    frequency: ArrayLike | None = None,
    *,
    frequencies: ArrayLike | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> DelayDiagnostics:
    """How far the Markovian (delay-free) model of ``device`` is from the exact one.

    Parameters
    ----------
    device : Device
    frequency : array_like, rad/s, optional
        Frequency ω of the propagation phases e^{iωτ} (and of the frame); default the mean
        bare atom frequency.
    frequencies : array_like, rad/s, shape (..., N), optional
        Bare atom frequencies; default the atoms' own.
    tolerance : float, in (0, 1)
        Relative error of the Markovian rates accepted as "Markovian" (default 1 %).

    Returns
    -------
    DelayDiagnostics
        ``verdict()`` says in plain words whether the master equation is good for the chip.
    """
    if not isinstance(tolerance, int | float) or not 0 < tolerance < 1:
        raise ValueError(f"diagnostics: tolerance must be a number in (0, 1), got {tolerance!r}")
    kernel = delay_kernel(device, frequencies=frequencies, frame_frequency=frequency)
    tau = kernel.delays
    amp = np.abs(kernel.coefficients)
    gamma_tau = np.max(kernel.point_strengths * tau, axis=(-3, -2, -1))
    # Γ_j = Σ_n γ_jn: the diagonal zero-delay terms of atom j (one per point, K = γ_jn).
    own = np.diagonal(np.where(tau == 0, amp, 0.0), axis1=-3, axis2=-2)  # (..., M, N)
    rates = np.sum(own, axis=-2)
    pair_tau = np.max(tau, axis=-1)
    big = np.maximum(rates[..., :, None], rates[..., None, :])
    Gamma_tau = np.max(big * pair_tau, axis=(-2, -1))
    t = kernel.delay_matrix
    markov = kernel.markov_generator
    eye = np.eye(kernel.n_atoms)
    corrected = np.linalg.solve(eye - 0.5 * t, markov)
    markov_poles = _sorted_eigenvalues(markov)
    corrected_poles = _sorted_eigenvalues(corrected)
    return DelayDiagnostics(
        frequency=kernel.frame_frequency,
        max_delay=np.max(tau, axis=(-3, -2, -1)),
        gamma_tau=gamma_tau,
        Gamma_tau=Gamma_tau,
        delay_matrix=t,
        markov_poles=markov_poles,
        corrected_poles=corrected_poles,
        pole_shift=np.max(np.abs(corrected_poles - markov_poles), axis=-1),
        markov_error=0.5 * np.linalg.norm(t, ord=2, axis=(-2, -1)),
        tolerance=float(tolerance),
        atom_names=kernel.atom_names,
    )


def warn_if_non_markovian(
    device: Device, frequencies: ArrayLike | None = None, *, stacklevel: int = 3
) -> DelayDiagnostics | None:
    """Warn (:class:`NonMarkovianWarning`) when the delays of ``device`` exceed the tolerance.

    Called by the Markovian entry points (``master_equation``, ``run_protocol``, ``sweep``).
    Python shows a warning once per calling line by default; a batch warns once for its worst
    point. Returns the diagnostics (``None`` when they could not be evaluated, e.g. for invalid
    frequencies, which the caller reports itself).
    """
    try:
        diag = diagnostics(device, frequencies=frequencies)
    except (ValueError, TypeError, AttributeError):  # the caller validates its own input
        return None
    if not np.all(diag.markovian):
        warnings.warn(
            f"{diag.verdict()} (giantatoms.delay.diagnostics(device) has the details)",
            NonMarkovianWarning,
            stacklevel=stacklevel,
        )
    return diag
