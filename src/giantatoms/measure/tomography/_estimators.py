"""Reconstruction kernels, batched in real coordinates x_k = Tr(ρ B_k).

The design matrix of a set of settings, least-squares linear inversion, the projection on the
physical states and maximum likelihood by accelerated projected gradient.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from giantatoms.measure.tomography._probabilities import measurement_operators
from giantatoms.measure.tomography._readout import ReadoutModel
from giantatoms.measure.tomography._settings import _I2, _SX, _SY, _SZ

# Orthonormal Hermitian operator basis B_k = σ_a ⊗ σ_b / 2 (k = 4a + b, a, b ∈ I, X, Y, Z):
# ρ = Σ_k x_k B_k with real x_k = Tr(ρ B_k), x_0 = Tr(ρ)/2. Frobenius norm of an operator
# equals the Euclidean norm of its coordinates.
_PAULIS = (_I2, _SX, _SY, _SZ)
_BASIS = np.array([np.kron(a, b) / 2 for a in _PAULIS for b in _PAULIS])
_N_COORD = 16
_BASIS_FLAT = _BASIS.reshape(_N_COORD, 16)  # x @ _BASIS_FLAT = vec(ρ)
_BASIS_DUAL = np.ascontiguousarray(_BASIS_FLAT.conj().T)  # vec(ρ) @ _BASIS_DUAL = x (+0j)


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
