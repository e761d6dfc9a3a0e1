"""Exact single-excitation dynamics of giant atoms with propagation delays (method of steps).

The amplitudes obey the linear delay-differential equation of :mod:`giantatoms.model.delays`,

    ċ(t) = A c(t) + f(t),   f_j(t) = −½ Σ_{k,m} K_jkm c_k(t − τ_jkm) Θ(t − τ_jkm),

with the undelayed part A = −(iΔ + γ_nr/2) − ½ Σ_{τ=0} K (constant, N × N) and every delayed
term τ > 0. The scheme (all batch points share the step h; the delays may differ):

* **Exact local part.** c(t+h) = e^{Ah} c(t) + ∫₀ʰ e^{A(h−s)} f(t+s) ds, with e^{Au} from the
  eigendecomposition of A (scaling-and-squaring exponentials where A is nearly defective).
* **Cubic history.** With τ = (q − θ)h (q integer, 0 ≤ θ < 1), the delayed argument of step n
  sweeps [(n − q + θ)h, (n − q + 1 + θ)h], which lies inside the four nodes n − q − 1 … n − q + 2;
  c_k there is the cubic through those nodes, so each term contributes a fixed linear
  combination of four stored amplitudes. The weights ∫ e^{A(h−s)} ℓ_i(s) ds are computed once
  (8-point Gauss–Legendre, exact to rounding for |λ|h ≲ 1). The method is explicit when every
  delay is at least 2h; local error O(h⁵) in smooth stretches, so the global error is O(h⁴),
  lowered to O(h³) by the kink of c at each t = τ (where its derivative jumps).
* **Θ exactly.** Before t = 0 the history is zero; the step whose delayed argument crosses 0
  integrates only over the part after it. Stencils that reach below 0 use the analytic
  continuation e^{At}c(0) of the solution on [0, τ_min] (ghost nodes), which is smooth, so no
  accuracy is lost at the jump of the history at t = 0.
* **Vectorised in time.** The delayed arguments of the next r + 1 steps (r + 2 = the smallest
  delay in steps) only reach amplitudes already computed, so the forcing of a whole chunk of
  steps is gathered at once; only the two-term recurrence c ← e^{Ah}c + F runs step by step.
* **Error estimate.** The same problem is solved with 2h (or h/2 when 2h is above half the
  smallest delay); the difference at the output times divided by 2³ − 1 is reported.

Dephasing and thermal excitation are not part of this equation (they leave the
single-excitation sector); intrinsic loss γ_nr = 1/T1 is.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg as sla
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import real_array
from giantatoms.model.delays import DelayKernel, delay_kernel
from giantatoms.solvers.delay._stencil import (
    _GAUSS_W,
    _GAUSS_X,
    _delayed_terms,
    _flatten,
    _interpolate_output,
    _lagrange,
)

if TYPE_CHECKING:
    from giantatoms.model.device import Device

__all__ = ["SingleExcitation", "single_excitation", "solve_kernel"]

#: Largest history array (complex numbers) held at once; the batch is split to fit.
_HISTORY_ELEMENTS = 8_000_000
#: Condition number of A's eigenvectors above which exponentials use scipy's expm.
_MAX_CONDITION = 1e8
MAX_STEPS = 5_000_000
#: Convergence order of the scheme (the kinks of c at t = τ limit it; see the module docstring).
_ORDER = 2
#: Largest gathered history (complex numbers) per vectorised chunk of steps.
_GATHER_ELEMENTS = 2_000_000


@dataclass(frozen=True, eq=False)
class SingleExcitation:
    """Single-excitation amplitudes of N atoms against time, with delays.

    Attributes
    ----------
    times : ndarray, s, shape (T,)
    amplitudes : ndarray, complex, shape (..., T, N)
        c_j(t) in the frame rotating at ``frame_frequency`` (lab amplitude c_j e^{−iω₀t}).
    frame_frequency : ndarray, rad/s, shape (...)
    step : float, s
        Time step of the returned solution.
    error : ndarray, shape (...)
        Estimated largest absolute error of any amplitude at any output time (step doubling).
    method : str
    atom_names : tuple of str
    diagnostics : dict
        ``steps`` (number of steps), ``chunk`` (steps per vectorised chunk), ``comparison_step``
        (the step of the error-estimate run, s), ``exponentials`` ("eigen" or "expm" for some
        points), ``order`` (assumed convergence order of the estimate).
    """

    times: NDArray[np.float64]
    amplitudes: NDArray[np.complex128]
    frame_frequency: NDArray[np.float64]
    step: float
    error: NDArray[np.float64]
    method: str
    atom_names: tuple[str, ...]
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def populations(self) -> NDArray[np.float64]:
        """|c_j(t)|², shape (..., T, N)."""
        return np.abs(self.amplitudes) ** 2

    @property
    def excitation(self) -> NDArray[np.float64]:
        """Σ_j |c_j(t)|², shape (..., T): the probability the excitation is in the atoms."""
        return np.sum(self.populations, axis=-1)


def _initial_amplitudes(initial: Any, kernel: DelayKernel) -> NDArray[np.complex128]:
    n = kernel.n_atoms
    if isinstance(initial, str | int | np.integer) and not isinstance(initial, bool):
        names = kernel.atom_names
        if isinstance(initial, str):
            if initial not in names:
                raise ValueError(f"initial: no atom named {initial!r}; atoms are {list(names)}")
            index = names.index(initial)
        else:
            index = int(initial)
            if not 0 <= index < n:
                raise ValueError(f"initial: atom index must be in [0, {n - 1}], got {index}")
        c0 = np.zeros(n, dtype=complex)
        c0[index] = 1.0
        return c0
    try:
        c0 = np.asarray(initial, dtype=complex)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"initial must be an atom name, an atom index or amplitudes of shape (..., {n}), "
            f"got {initial!r}"
        ) from exc
    if c0.ndim == 0 or c0.shape[-1] != n:
        raise ValueError(f"initial amplitudes must have shape (..., {n}), got {c0.shape}")
    if not np.all(np.isfinite(c0)):
        raise ValueError("initial amplitudes must be finite")
    return c0


def _check_times(times: ArrayLike) -> NDArray[np.float64]:
    t = real_array(times, "times", owner="single_excitation", minimum=0)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"times must be a non-empty 1-D array of seconds ≥ 0, got shape {t.shape}")
    if np.any(np.diff(t) < 0):
        raise ValueError("times must be non-decreasing")
    return t


def _rate_scale(kernel: DelayKernel) -> NDArray[np.float64]:
    """Fastest rate of the problem, rad/s, shape (...)."""
    return (
        np.max(np.abs(kernel.detunings), axis=-1)
        + 0.5 * np.max(kernel.loss_rates, axis=-1)
        + 0.5 * np.max(np.sum(np.abs(kernel.coefficients), axis=(-2, -1)), axis=-1)
    )


def _smallest_delay(kernel: DelayKernel) -> float:
    active = (kernel.delays > 0) & (kernel.coefficients != 0)
    if not np.any(active):
        return math.inf
    return float(np.min(kernel.delays[active]))


def single_excitation(
    device: Device,
    initial: Any,
    times: ArrayLike,
    frequencies: ArrayLike | None = None,
    *,
    frame_frequency: ArrayLike | None = None,
    step: float | None = None,
    error_estimate: bool = True,
) -> SingleExcitation:
    """Exact single-excitation dynamics of a device with propagation delays.

    Solves ċ_j = −(iΔ_j + γ_nr,j/2) c_j − ½ Σ_{k,n,m} K c_k(t − τ_{jn,km}) Θ(t − τ_{jn,km})
    (:mod:`giantatoms.model.delays`) for any number of atoms with any coupling points, chiral
    points included, batched over the device's parameters. No Markov approximation: photons
    take τ = |x − x′|/v between points. Dephasing and thermal excitation are not included.

    Parameters
    ----------
    device : Device
    initial : str, int or array_like
        The atom that holds the excitation at t = 0 (name or index), or amplitudes c_j(0) of
        shape (..., N) (broadcast against the device's batch).
    times : array_like, s, shape (T,)
        Output times, ≥ 0, non-decreasing.
    frequencies : array_like or callable, rad/s, optional
        Bare atom frequencies, shape (..., N) (default: the atoms' own); or a function of time
        ``frequencies(t)`` for t of shape (M,) s returning shape (..., M, N) rad/s — moving
        atoms (flux ramps, :mod:`giantatoms.solvers.delay._path`).
    frame_frequency : array_like, rad/s, optional
        ω₀ of the rotating frame (default: the mean bare frequency at t = 0).
    step : float, s, optional
        Time step h; at most half the shortest delay. Default: 0.02/(fastest rate) or t_max/400,
        whichever is smaller, capped at half the shortest delay.
    error_estimate : bool
        Also solve with 2h (or h/2) and report the difference (about 1.5× the cost).

    Returns
    -------
    SingleExcitation
    """
    path = frequencies if callable(frequencies) else None
    if path is not None:
        from giantatoms.solvers.delay._path import _call

        at_zero = _call(path, np.zeros(1), (), device.n_atoms, flatten=False)
        frequencies = at_zero[..., 0, :]
    kernel = delay_kernel(device, frequencies=frequencies, frame_frequency=frame_frequency)
    _require_coupling(kernel)
    c0 = _initial_amplitudes(initial, kernel)
    t = _check_times(times)
    return solve_kernel(kernel, c0, t, step=step, error_estimate=error_estimate, path=path)


def _default_step(kernel: DelayKernel, t_end: float) -> float:
    """Accuracy-driven step: 0.02/(fastest rate) and t_max/400, at most half the shortest delay."""
    scale = float(np.max(_rate_scale(kernel)))
    candidates = [0.02 / scale if scale > 0 else math.inf]
    if t_end > 0:
        candidates.append(t_end / 400)
    h = min(candidates)
    h = min(h, 0.5 * _smallest_delay(kernel))
    return h if math.isfinite(h) else 1.0


def _require_coupling(kernel: DelayKernel) -> None:
    if not np.any(kernel.coefficients != 0):
        raise ValueError(
            "the device has no coupling to the waveguide (every point rate is 0): nothing is "
            "delayed; use evolve or master_equation for uncoupled atoms"
        )


def solve_kernel(
    kernel: DelayKernel,
    initial: ArrayLike,
    times: NDArray[np.float64],
    *,
    step: float | None = None,
    error_estimate: bool = True,
    path: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None = None,
) -> SingleExcitation:
    """:func:`single_excitation` on a prepared :class:`~giantatoms.model.delays.DelayKernel`.

    ``initial`` are amplitudes of shape (..., N); ``times`` as in :func:`single_excitation`;
    ``path`` is the optional ω(t) (then the kernel's detunings are not used).
    """
    t_end = float(times[-1])
    tau_min = _smallest_delay(kernel)
    if step is None:
        h = _default_step(kernel, t_end)
        if path is not None:
            sampled = np.asarray(path(np.linspace(0.0, t_end, 201)), dtype=float)
            spread = float(np.max(np.abs(sampled - np.mean(kernel.frame_frequency))))
            h = min(h, 0.25 / spread) if spread > 0 else h
    else:
        if isinstance(step, bool) or not isinstance(step, int | float) or not step > 0:
            raise ValueError(f"step must be a positive number of seconds, got {step!r}")
        if not math.isfinite(step):
            raise ValueError(f"step must be finite, got {step!r}")
        h = float(step)
    if h > 0.5 * tau_min * (1 + 1e-12):
        raise ValueError(
            f"step = {h:.4g} s is longer than half the shortest delay between coupling points "
            f"({tau_min:.4g} s); use step ≤ {0.5 * tau_min:.4g} s"
        )
    n_steps = max(1, math.ceil(t_end / h - 1e-9))
    if n_steps > MAX_STEPS:
        raise ValueError(
            f"{n_steps} steps of {h:.3g} s to reach t = {t_end:.3g} s is more than the "
            f"{MAX_STEPS} allowed; give a longer step or shorter times"
        )
    c0 = np.asarray(initial, dtype=complex)
    batch = np.broadcast_shapes(kernel.batch_shape, c0.shape[:-1])
    solve = _solve
    if path is not None:
        from giantatoms.solvers.delay._path import solve_path

        solve = functools.partial(solve_path, frequencies=path)
    amps, info = solve(kernel, c0, batch, times, h)
    error = np.zeros(batch)
    comparison = None
    if error_estimate:
        if 2 * h <= 0.5 * tau_min * (1 + 1e-12) and t_end / (2 * h) >= 2:
            comparison = 2 * h
            other, _ = solve(kernel, c0, batch, times, comparison)
        else:
            comparison = h / 2
            if math.ceil(t_end / comparison) > MAX_STEPS:
                raise ValueError("the error estimate needs h/2 steps beyond the step limit")
            other, info = solve(kernel, c0, batch, times, comparison)
            amps, other, h = other, amps, comparison
        error = np.max(np.abs(amps - other), axis=(-2, -1)) / (2**_ORDER - 1)
    info = {**info, "comparison_step": comparison, "order": _ORDER}
    return SingleExcitation(
        times=times,
        amplitudes=amps,
        frame_frequency=np.broadcast_to(kernel.frame_frequency, batch),
        step=h,
        error=error,
        method="method of steps: exact exponential of the local part, cubic history",
        atom_names=kernel.atom_names,
        diagnostics=info,
    )


def _exponentials(
    a: NDArray[np.complex128], u: NDArray[np.float64]
) -> tuple[NDArray[np.complex128], bool]:
    """e^{A u} for A (B, N, N) and times u (B, *S): shape (B, *S, N, N); flag: all eigen."""
    lam, vec = np.linalg.eig(a)
    inv = np.linalg.inv(vec)
    cond = np.linalg.norm(vec, 1, axis=(-2, -1)) * np.linalg.norm(inv, 1, axis=(-2, -1))
    extra = (1,) * (u.ndim - 1)
    v = vec.reshape(vec.shape[0], *extra, *vec.shape[1:])
    vi = inv.reshape(inv.shape[0], *extra, *inv.shape[1:])
    lam = lam.reshape(lam.shape[0], *extra, lam.shape[-1])
    out = (v * np.exp(lam[..., None, :] * u[..., None, None])) @ vi
    bad = ~np.isfinite(cond) | (cond > _MAX_CONDITION)
    for b in np.flatnonzero(bad):
        out[b] = sla.expm(a[b] * u[b][..., None, None])
    return out, not np.any(bad)


def _solve(
    kernel: DelayKernel,
    c0: NDArray[np.complex128],
    batch: tuple[int, ...],
    times: NDArray[np.float64],
    h: float,
) -> tuple[NDArray[np.complex128], dict[str, Any]]:
    n = kernel.n_atoms
    size = int(np.prod(batch, dtype=int))
    local = np.broadcast_to(kernel.local_generator, (*batch, n, n)).reshape(size, n, n)
    start = np.broadcast_to(c0, (*batch, n)).reshape(size, n)
    coeff, _, target, source, q, theta = _delayed_terms(_flatten(kernel, batch), h)
    n_steps = max(1, math.ceil(float(times[-1]) / h - 1e-9))
    q_min = int(np.min(q)) if q.size else n_steps + 3
    chunk = max(1, q_min - 1)
    q_max = int(np.max(q)) if q.size else 0
    nodes = n_steps + 3  # two extra nodes so that output times at the end interpolate
    per_point = (nodes + q_max + 4) * n
    sub = max(1, min(size, _HISTORY_ELEMENTS // max(per_point, 1)))
    out = np.empty((size, times.size, n), dtype=complex)
    all_eigen = True
    for lo in range(0, size, sub):
        sl = slice(lo, min(size, lo + sub))
        amps, eigen = _solve_block(
            local[sl],
            start[sl],
            coeff[sl],
            q[sl],
            theta[sl],
            target,
            source,
            h,
            nodes,
            chunk,
            q_max,
            times,
        )
        out[sl] = amps
        all_eigen &= eigen
    info = {
        "steps": n_steps,
        "chunk": chunk,
        "exponentials": "eigen" if all_eigen else "expm for some points",
        "delayed_terms": int(coeff.shape[-1]),
    }
    return out.reshape(*batch, times.size, n), info


def _solve_block(
    local: NDArray[np.complex128],
    c0: NDArray[np.complex128],
    coeff: NDArray[np.complex128],
    q: NDArray[np.int64],
    theta: NDArray[np.float64],
    target: NDArray[np.int64],
    source: NDArray[np.int64],
    h: float,
    nodes: int,
    chunk: int,
    q_max: int,
    times: NDArray[np.float64],
) -> tuple[NDArray[np.complex128], bool]:
    b, n = c0.shape
    n_terms = coeff.shape[-1]
    # e^{A(h − s)} at the Gauss nodes of a whole step and of each term's straddling part.
    s_full = 0.5 * h * (_GAUSS_X + 1.0)
    w_full = 0.5 * h * _GAUSS_W
    lo = (1.0 - theta)[..., None] * h  # (b, terms, 1): the part of the step after u = 0
    s_part = lo + 0.5 * (h - lo) * (_GAUSS_X + 1.0)
    w_part = 0.5 * (h - lo) * _GAUSS_W
    u = np.concatenate(
        [
            np.broadcast_to(h - s_full, (b, s_full.size)),
            (h - s_part).reshape(b, -1),
            np.full((b, 3), h),
        ],
        axis=1,
    )
    u[:, -2:] = [-h, -2 * h]
    exps, eigen = _exponentials(local, u)
    g = s_full.size
    e_full = exps[:, :g]  # (b, g, n, n)
    e_part = exps[:, g : g + n_terms * g].reshape(b, n_terms, g, n, n)
    step_exp = exps[:, -3]
    ghosts = np.einsum("bgij,bj->bgi", exps[:, -2:], c0)  # c(−h), c(−2h)
    # Weights of the four stencil nodes (window offset w: nodes w−1 … w+2) of each term.
    basis_full = _lagrange(theta[..., None] + s_full / h)  # (b, terms, g, 4)
    basis_part = _lagrange(theta[..., None] + s_part / h)
    col_full = e_full[:, None, :, :, :] * 1.0  # (b, 1, g, n, n)
    # Only column `target` of e^{A(h−s)} matters: W[:, :, j] · (−½K).
    col_full = np.take_along_axis(
        np.broadcast_to(col_full, (b, n_terms, g, n, n)),
        target[None, :, None, None, None],
        axis=-1,
    )[..., 0]  # (b, terms, g, n)
    col_part = np.take_along_axis(e_part, target[None, :, None, None, None], axis=-1)[..., 0]
    half_k = -0.5 * coeff
    regular = np.einsum("g,btgi,btgn->btin", w_full, basis_full, col_full) * half_k[..., None, None]
    straddle = (
        np.einsum("btg,btgi,btgn->btin", w_part, basis_part, col_part) * half_k[..., None, None]
    )
    straddle = np.where((theta > 0)[..., None, None], straddle, 0.0)
    # History: node m is stored at index m + off; ghosts at m = −1, −2; zeros further back.
    off = q_max + 4
    step_diag = np.diagonal(step_exp, axis1=-2, axis2=-1).copy()
    diagonal = bool(np.all(step_exp[:, ~np.eye(n, dtype=bool)] == 0))
    common = bool(np.all(q == q[:1]) and np.all(theta == theta[:1]))
    terms = _Terms(
        c0, ghosts, regular, straddle, q, theta, target, source, step_exp, step_diag, diagonal
    )
    hist = np.moveaxis(_march(terms, nodes, chunk, off, common), -1, 0)  # (b, nodes, n)
    tau = (terms.q - terms.theta) * h  # (b, terms)
    jump = -0.5 * coeff * terms.c0[:, terms.source]  # (b, terms)
    return _interpolate_output(hist, off, nodes, times, h, tau, jump, terms.target), eigen


@dataclass(frozen=True, eq=False)
class _Terms:
    """What the marching loops need: start, ghosts, stencil weights, delays and propagator.

    Shapes: c0, ghosts[:, 0 | 1] (b, n); regular, straddle (b, terms, 4, n); q, theta
    (b, terms); target, source (terms,); step_exp (b, n, n); step_diag (b, n).
    """

    c0: NDArray[np.complex128]
    ghosts: NDArray[np.complex128]
    regular: NDArray[np.complex128]
    straddle: NDArray[np.complex128]
    q: NDArray[np.int64]
    theta: NDArray[np.float64]
    target: NDArray[np.int64]
    source: NDArray[np.int64]
    step_exp: NDArray[np.complex128]
    step_diag: NDArray[np.complex128]
    diagonal: bool


def _march(terms: _Terms, nodes: int, chunk: int, off: int, common: bool) -> NDArray[np.complex128]:
    """March the recurrence c ← e^{Ah}c + F in chunks; history laid out (node, atom, b).

    Per chunk: one gather of every term's four stencil nodes (a shared index when all batch
    points have the same delays, so each gathered item is a contiguous row of b numbers), one
    contraction with the weights, and — for diagonal e^{Ah} — the chunk's recurrence in closed
    form, c_{i+1} = E^{i+1}(c_0 + Σ_{l≤i} E^{−(l+1)} F_l), instead of a Python loop over steps.
    Before every term is switched on (the first q_max steps) the stencils are masked: zero
    before the delayed argument reaches 0, the straddling weights on the step that crosses it.
    """
    b, n = terms.c0.shape
    n_terms = terms.q.shape[-1]
    hist = np.zeros((off + nodes + 1, n, b), dtype=complex)
    hist[off] = terms.c0.T
    hist[off - 1] = terms.ghosts[:, 0].T
    hist[off - 2] = terms.ghosts[:, 1].T
    stencil = np.arange(-1, 3)
    q = terms.q.T  # (terms, b)
    theta = terms.theta.T
    q_shared = q[:, 0]
    chunk = max(1, min(chunk, _GATHER_ELEMENTS // max(1, b * n_terms * 4)))
    diag = terms.step_diag.T  # (n, b)
    closed = terms.diagonal and float(np.max(np.abs(np.log(np.abs(diag))))) * chunk < 30.0
    if closed:
        exponent = np.arange(1, chunk + 1)[:, None, None]
        powers = diag[None] ** exponent  # (chunk, n, b)
        inverse = 1.0 / powers
    exp_t = np.moveaxis(terms.step_exp, 0, -1)  # (n, n, b)
    q_max = int(np.max(terms.q)) if terms.q.size else 0
    fast = common and terms.diagonal
    if fast:
        # Shared delays, diagonal e^{Ah}: once every term is on, a chunk's forcing is one row
        # gather from the (node·atom, b) history, one multiply and one sum per target. Terms
        # are grouped by target and padded to equal groups with zero weights (reading node 0).
        rows_per_node = n
        groups = [np.flatnonzero(terms.target == j) for j in range(n)]
        size = max(len(g) for g in groups)
        rel = np.zeros((n, size, 4), dtype=np.int64)
        weights = np.zeros((n, size, 4, b), dtype=complex)
        for j, g in enumerate(groups):
            rel[j, : len(g)] = (
                -q_shared[g][:, None] + stencil[None, :]
            ) * rows_per_node + terms.source[g][:, None]
            rel[j, len(g) :] = -(off - 1) * rows_per_node  # node 0 - off + 1: inside the array
            weights[j, : len(g)] = terms.regular[:, g][..., j].transpose(1, 2, 0)
        rel = rel.ravel()
        weights = weights.reshape(-1, b)
        flat_hist = hist.reshape(-1, b)
    layout = _BatchLast.of(terms)
    c = terms.c0.T.copy()
    n_steps = nodes - 1
    n0 = 0
    while n0 < n_steps:
        qn = min(chunk, n_steps - n0)
        steps = n0 + np.arange(qn)
        if fast and n0 > q_max:
            flat = ((off + steps) * rows_per_node)[:, None] + rel[None, :]
            vals = np.take(flat_hist, flat.ravel(), axis=0).reshape(qn, n * size * 4, b)
            vals *= weights
            forcing = vals.reshape(qn, n, size * 4, b).sum(axis=2)
        else:
            forcing = _forcing(
                hist, steps, off, common, terms, layout, q, theta, q_shared, q_max, n0, stencil
            )
        block = hist[off + n0 + 1 : off + n0 + qn + 1]  # (qn, n, b)
        if closed:
            block[...] = powers[:qn] * (c + np.cumsum(forcing * inverse[:qn], axis=0))
            c = block[-1].copy()
        else:
            for i in range(qn):
                c = np.einsum("ijb,jb->ib", exp_t, c) + forcing[i]
                block[i] = c
        n0 += qn
    return hist


@dataclass(frozen=True, eq=False)
class _BatchLast:
    """The weights of :class:`_Terms` laid out batch-last for the general forcing, built once.

    ``regular``/``straddle`` (terms, 4, n, b); for a diagonal e^{Ah} only the target column
    matters: ``regular_own``/``straddle_own`` (terms, 4, b); ``onehot`` (terms, n) scatters
    per-term forcing to the targets.
    """

    regular: NDArray[np.complex128]
    straddle: NDArray[np.complex128]
    regular_own: NDArray[np.complex128]
    straddle_own: NDArray[np.complex128]
    onehot: NDArray[np.float64]

    @classmethod
    def of(cls, terms: _Terms) -> _BatchLast:
        n = terms.c0.shape[-1]
        regular = np.moveaxis(terms.regular, 0, -1)
        straddle = np.moveaxis(terms.straddle, 0, -1)
        own = np.arange(terms.q.shape[-1])
        return cls(
            regular=regular,
            straddle=straddle,
            regular_own=regular[own, :, terms.target],
            straddle_own=straddle[own, :, terms.target],
            onehot=np.eye(n)[terms.target],
        )


def _forcing(
    hist: NDArray[np.complex128],
    steps: NDArray[np.int64],
    off: int,
    common: bool,
    terms: _Terms,
    layout: _BatchLast,
    q: NDArray[np.int64],
    theta: NDArray[np.float64],
    q_shared: NDArray[np.int64],
    q_max: int,
    n0: int,
    stencil: NDArray[np.int64],
) -> NDArray[np.complex128]:
    """Forcing of the steps ``steps`` (general path: any delays, masks before switch-on)."""
    b = hist.shape[-1]
    src = terms.source[None, :, None]
    if common:
        w = steps[:, None] - q_shared[None, :]  # (qn, terms)
        idx = off + w[..., None] + stencil  # (qn, terms, 4)
        vals = hist[idx, src]  # (qn, terms, 4, b)
        w = w[..., None]
    else:
        w = steps[:, None, None] - q[None]  # (qn, terms, b)
        idx = off + w[:, :, None, :] + stencil[None, None, :, None]  # (qn, terms, 4, b)
        vals = hist[idx, src[..., None], np.arange(b)]
    early = n0 <= q_max
    if terms.diagonal:
        per_term = np.einsum("qtib,tib->qtb", vals, layout.regular_own)
        if early:
            per_term *= w >= 0
            cross = (w == -1) & (theta[None] > 0)
            if np.any(cross):
                per_term += np.einsum("qtib,tib->qtb", vals, layout.straddle_own) * cross
        return np.einsum("qtb,tn->qnb", per_term, layout.onehot)
    on = (w >= 0)[:, :, None, :] if early else True
    forcing = np.einsum("qtib,tinb->qnb", vals * on, layout.regular)
    if early:
        cross = ((w == -1) & (theta[None] > 0))[:, :, None, :]
        if np.any(cross):
            forcing += np.einsum("qtib,tinb->qnb", vals * cross, layout.straddle)
    return forcing
