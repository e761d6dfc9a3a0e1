"""The T1, Ramsey and Hahn-echo experiments, and the echo's per-state propagation."""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import choice, real_array
from giantatoms.measure.coherence._fits import (
    DecayFit,
    fit_exponential_decay,
    fit_gaussian_exponential_decay,
)
from giantatoms.measure.coherence._noise import DEFAULT_SAMPLES, _sample_average, _setup
from giantatoms.measure.coherence._pulses import _conjugate, _ground_state, _pulse, _signals
from giantatoms.measure.coherence._results import EchoResult, RamseyResult, T1Result
from giantatoms.model.device import Device
from giantatoms.model.lindblad import MasterEquation
from giantatoms.solvers.evolution import (
    DEFAULT_MAX_CONDITION,
    _check_times,
    eigen_decompose,
    evolve_constant,
)
from giantatoms.solvers.liouvillian import (
    chunk_length,
    default_threads,
    map_chunks,
    real_liouvillian,
    unvectorize_hermitian,
    vectorize_hermitian,
)

#: Fewest save times an experiment accepts (the fits have up to 3 free parameters).
MIN_TIMES = 5
_FIT_MODELS = ("auto", "exponential", "gaussian_exponential")


def _check_experiment_times(times: ArrayLike) -> NDArray[np.float64]:
    t = _check_times(times, 0.0, "0")
    if t.size < MIN_TIMES:
        raise ValueError(f"times must have at least {MIN_TIMES} entries to fit, got {t.size}")
    return t


def _propagate_each(
    me: MasterEquation,
    rho: NDArray[np.complex128],
    durations: NDArray[np.float64],
    max_condition: float = DEFAULT_MAX_CONDITION,
) -> NDArray[np.complex128]:
    """exp(L s_k) ρ_k: every state of the last batch axis for its own duration.

    ``rho`` has shape (batch…, K, d, d) with the master equation's batch shape leading and
    ``durations`` shape (K,). One eigendecomposition R = W Λ W⁻¹ of the real Liouvillian per
    batch point serves all K states, x_k ↦ W (e^{Λ s_k} ⊙ W⁻¹ x_k); points whose eigenvectors
    are ill-conditioned (κ₁(W) > ``max_condition``) use one scaling-and-squaring exponential
    per duration instead.
    """
    batch, d = me.batch_shape, me.dimension
    k = durations.size
    n = int(np.prod(batch, dtype=int))
    h = me.hamiltonian.reshape(n, d, d)
    c = me.jump_operators.reshape(n, me.n_jumps, d, d)
    x = vectorize_hermitian(rho.reshape(n, k, d, d))
    out = np.empty_like(x)

    def work(part: slice) -> None:
        r = real_liouvillian(h[part], c[part])
        lam, w, w_inv, condition = eigen_decompose(r)
        coef = np.einsum("mij,mkj->mki", w_inv, x[part])
        coef *= np.exp(lam[:, None, :] * durations[None, :, None])
        result = np.einsum("mij,mkj->mki", w, coef).real
        for i in np.flatnonzero(~(condition <= max_condition)):
            propagators = sla.expm(r[i][None] * durations[:, None, None])
            result[i] = np.einsum("kij,kj->ki", propagators, x[part][i])
        out[part] = result

    map_chunks(work, n, chunk_length(d, None), default_threads())
    return unvectorize_hermitian(out, d).reshape(*batch, k, d, d)


def t1_experiment(
    device: Device,
    atom: str | int,
    times: ArrayLike,
    *,
    frequencies: ArrayLike | None = None,
) -> T1Result:
    """Energy relaxation: π pulse on one atom, free decay, P_e against delay, fit of T1.

    The atom starts in |e⟩ (an ideal π pulse on |g⟩), every other atom in |g⟩; the device
    evolves undriven (:func:`giantatoms.evolve_constant`, exact).

    Parameters
    ----------
    device : Device
    atom : str or int
        The measured atom (name or index).
    times : array_like, s, shape (T,)
        Delays, ≥ 0, strictly increasing, at least 5.
    frequencies : array_like, rad/s, shape (..., n_atoms), optional
        Bare frequencies of all atoms (the operating point); default: the device's own. A
        batch of operating points is simulated in one vectorised call.

    Returns
    -------
    T1Result
        ``population`` of shape (batch…, T) and the fit A·e^{−t/T1} + B.

    Raises
    ------
    TypeError
        ``device`` is not a Device or ``atom`` is not a name or index.
    ValueError
        Unknown atom, bad ``times`` or ``frequencies``.
    """
    t = _check_experiment_times(times)
    setup = _setup(device, atom, frequencies, t)
    j, dims = setup.index, setup.me.dims
    rho0 = _conjugate(_pulse(math.pi, 0.0, j, dims), _ground_state(dims))
    evolution = evolve_constant(setup.me[0], rho0, t)
    _, population = _signals(evolution.rho, j, dims)
    return T1Result(
        atom=device.atom_names[j],
        times=t,
        population=population,
        fit=fit_exponential_decay(t, population, with_offset=True),
        expected=setup.expected,
        frequencies=setup.frequencies,
    )


def _coherence_fit(kind: str, sigma: NDArray, t: NDArray, coherence: NDArray) -> DecayFit:
    model = choice(kind, "fit_model", _FIT_MODELS)
    if model == "auto":
        model = "gaussian_exponential" if np.any(sigma > 0) else "exponential"
    if model == "exponential":
        return fit_exponential_decay(t, coherence, with_offset=False)
    return fit_gaussian_exponential_decay(t, coherence, with_offset=False)


def ramsey_experiment(
    device: Device,
    atom: str | int,
    times: ArrayLike,
    *,
    detuning: ArrayLike = 0.0,
    frequencies: ArrayLike | None = None,
    frequency_noise: ArrayLike = 0.0,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = None,
    noise_sampling: str = "quadrature",
    fit_model: str = "auto",
) -> RamseyResult:
    """Ramsey experiment: π/2 – free evolution t – π/2, with quasi-static frequency noise.

    The atom starts in (|g⟩ + |e⟩)/√2 = R_y(π/2)|g⟩, the others in |g⟩. The coherence
    2|⟨σ_j⟩| is read from the state; the fringe is P_e after a second π/2 pulse about the axis
    at φ = π/2 + δ·t (the artificial detuning δ as a phase advance of the second pulse).

    Parameters
    ----------
    device : Device
    atom : str or int
        The measured atom.
    times : array_like, s, shape (T,)
        Free-evolution times, ≥ 0, strictly increasing, at least 5.
    detuning : array_like, rad/s
        Artificial detuning δ of the fringe; must broadcast to the batch shape. It does not
        enter ``coherence`` or the fit.
    frequencies : array_like, rad/s, shape (..., n_atoms), optional
        Nominal bare frequencies of all atoms; default: the device's own.
    frequency_noise : array_like, rad/s, ≥ 0, shape broadcastable to (batch…)
        Standard deviation σ of a quasi-static Gaussian offset of the measured atom's frequency
        (the spectators, in |g⟩, are not perturbed), e.g.
        :meth:`giantatoms.TunableTransmon.frequency_noise`.
    samples : int, ≥ 2
        Noise samples (quadrature nodes or random draws); ignored without noise.
    seed : int, optional
        Seed of ``numpy.random.default_rng`` for ``"stratified"`` and ``"random"`` sampling:
        the same seed gives identical results; when omitted one is drawn and recorded in the
        result.
    noise_sampling : {"quadrature", "stratified", "random"}
        How the Gaussian average is sampled. ``"quadrature"`` (default): Gauss–Hermite nodes
        and weights, deterministic (no seed); a ValueError asks for more ``samples`` when the
        remainder bound for the average of e^{iδt} up to t_max exceeds 1e-10 (roughly
        samples ≥ 0.7(σ·t_max)² + 15). ``"stratified"``: one seeded random draw in each of
        ``samples`` equiprobable strata of the normal distribution. ``"random"``: independent
        draws; the error of |⟨σ⟩| is then ~ samples^{-1/2}, a noise floor that biases the fit
        once the envelope falls below it. The sampled modes mimic a finite set of noise
        realisations; their fits carry a sampling error that the fit's uncertainty does not
        include.
    fit_model : {"auto", "exponential", "gaussian_exponential"}
        Model fitted to ``coherence`` (no offset); ``"auto"`` takes the Gaussian one when any
        ``frequency_noise`` is > 0.

    Returns
    -------
    RamseyResult

    Raises
    ------
    TypeError, ValueError
        Bad device, atom, times, frequencies, noise parameters or choices.
    """
    t = _check_experiment_times(times)
    setup = _setup(device, atom, frequencies, t, frequency_noise, samples, seed, noise_sampling)
    choice(fit_model, "fit_model", _FIT_MODELS)
    delta = real_array(detuning, "detuning")
    try:
        fits = np.broadcast_shapes(delta.shape, setup.batch) == setup.batch
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"detuning of shape {delta.shape} must broadcast to the batch shape {setup.batch} "
            "of the device and frequencies"
        )
    j, dims = setup.index, setup.me.dims
    rho0 = _conjugate(_pulse(math.pi / 2, math.pi / 2, j, dims), _ground_state(dims))
    # Second pulse about φ = π/2 + δt: shape (δ…, T, d, d).
    second = _pulse(math.pi / 2, math.pi / 2 + delta[..., None] * t, j, dims)

    def compute(me: MasterEquation) -> dict[str, NDArray]:
        rho = evolve_constant(me, rho0, t).rho
        coherence, _ = _signals(rho, j, dims)
        _, fringe = _signals(_conjugate(second, rho), j, dims)
        return {"coherence": coherence, "fringe": fringe}

    averaged = _sample_average(setup, t.size, compute)
    coherence = 2.0 * np.abs(averaged["coherence"])
    fringe = np.broadcast_to(averaged["fringe"], (*setup.batch, t.size))
    return RamseyResult(
        atom=device.atom_names[j],
        times=t,
        coherence=coherence,
        fit=_coherence_fit(fit_model, setup.sigma, t, coherence),
        expected=setup.expected,
        frequencies=setup.frequencies,
        frequency_noise=np.asarray(setup.sigma, dtype=float),
        samples=setup.weights.size,
        seed=setup.seed,
        noise_sampling=noise_sampling.lower(),
        frequency_offsets=setup.offsets,
        sample_weights=setup.weights,
        fringe=np.asarray(fringe, dtype=float),
        detuning=delta,
        info={"frame_frequency": setup.me.frame_frequency[0]},
    )


def echo_experiment(
    device: Device,
    atom: str | int,
    times: ArrayLike,
    *,
    frequencies: ArrayLike | None = None,
    frequency_noise: ArrayLike = 0.0,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = None,
    noise_sampling: str = "quadrature",
) -> EchoResult:
    """Hahn echo: π/2 – τ/2 – π – τ/2 – π/2 with ideal instantaneous pulses.

    The π pulse (about y) at τ/2 refocuses every quasi-static frequency offset, so the echo
    decays only through T1 and Markovian dephasing (and anything faster than τ). All τ are
    simulated at once: one exact evolution to every τ/2, the π pulse on every state, then each
    state propagated by its own τ/2 from one eigendecomposition of the Liouvillian per batch
    point (scaling-and-squaring exponentials where its eigenvectors are ill-conditioned).

    Parameters
    ----------
    device : Device
    atom : str or int
        The measured atom.
    times : array_like, s, shape (T,)
        Total free-evolution times τ, ≥ 0, strictly increasing, at least 5.
    frequencies : array_like, rad/s, shape (..., n_atoms), optional
        Nominal bare frequencies of all atoms; default: the device's own.
    frequency_noise, samples, seed, noise_sampling
        Quasi-static noise of the measured atom's frequency, as in :func:`ramsey_experiment`.

    Returns
    -------
    EchoResult
        ``coherence`` with the fit A·e^{−τ/T2E}, and ``population`` after the last π/2.

    Raises
    ------
    TypeError, ValueError
        Bad device, atom, times, frequencies or noise parameters.
    """
    t = _check_experiment_times(times)
    setup = _setup(device, atom, frequencies, t, frequency_noise, samples, seed, noise_sampling)
    j, dims = setup.index, setup.me.dims
    rho0 = _conjugate(_pulse(math.pi / 2, math.pi / 2, j, dims), _ground_state(dims))
    flip = _pulse(math.pi, math.pi / 2, j, dims)
    final = _pulse(math.pi / 2, -math.pi / 2, j, dims)
    half = 0.5 * t

    def compute(me: MasterEquation) -> dict[str, NDArray]:
        middle = _conjugate(flip, evolve_constant(me, rho0, half).rho)
        rho = _propagate_each(me, middle, half)
        coherence, _ = _signals(rho, j, dims)
        _, population = _signals(_conjugate(final, rho), j, dims)
        return {"coherence": coherence, "population": population}

    averaged = _sample_average(setup, t.size, compute)
    coherence = 2.0 * np.abs(averaged["coherence"])
    return EchoResult(
        atom=device.atom_names[j],
        times=t,
        coherence=coherence,
        fit=fit_exponential_decay(t, coherence, with_offset=False),
        expected=setup.expected,
        frequencies=setup.frequencies,
        frequency_noise=np.asarray(setup.sigma, dtype=float),
        samples=setup.weights.size,
        seed=setup.seed,
        noise_sampling=noise_sampling.lower(),
        frequency_offsets=setup.offsets,
        sample_weights=setup.weights,
        population=averaged["population"],
        info={"frame_frequency": setup.me.frame_frequency[0]},
    )
