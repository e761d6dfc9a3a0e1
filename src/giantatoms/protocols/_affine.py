"""Lindblad generators as linear combinations of fixed real superoperators (internal).

Every master equation built by :func:`giantatoms.model.lindblad.assemble` is *linear* in its
coefficients: detunings Δ_j, anharmonicities α_j, the Hermitian coherent matrix M_tt', the
Hermitian channel Gram matrix K_tt' = Σ_c C_ct conj(C_ct') of the waveguide jumps, the drive
amplitudes Re/Im Ω_j and the local rates. So in the real Hermitian coordinates of
:func:`giantatoms.solvers.liouvillian.vectorize_hermitian`

    R = Σ_m c_m R_m,

with a few dozen fixed real D × D matrices R_m (D = d²) computed once per Hilbert-space
structure. A time-dependent protocol then needs only the coefficient vector c(t) at each
quadrature node (cheap: the couplings of a few emitters) and one batched matrix product,
instead of rebuilding Hamiltonians, jump operators and Liouvillians.

Excitation-number sectors
-------------------------
Without a drive every term conserves k = N_a − N_b of a matrix element ρ_ab (N the total
number of excitations): jumps lower or raise both sides, Hamiltonian terms conserve N. R is
then block diagonal over |k| (real coordinates pair ρ_ab with ρ_ba). :attr:`sectors` lists
the blocks in the permuted coordinate order :attr:`order`; for two transmons (d = 9) the
blocks have sizes 19, 32, 20, 8, 2 instead of one 81 × 81 matrix, about 11× fewer flops per
exponential.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from giantatoms.model.lindblad import _local_operators
from giantatoms.solvers.liouvillian import unvectorize_hermitian, vectorize_hermitian

__all__ = ["RealGeneratorBasis"]


def _dagger(a: NDArray) -> NDArray:
    return np.conj(np.swapaxes(a, -1, -2))


def _commutator_term(op: NDArray, rho: NDArray) -> NDArray:
    """−i[op, ρ] for a stack ρ (D, d, d)."""
    return -1j * (op @ rho - rho @ op)


def _cross_dissipator(left: NDArray, right: NDArray, rho: NDArray) -> NDArray:
    """S(ρ) = right ρ left† − ½{left† right, ρ} (PHYSICS.md §3 with σ_j = left, σ_k = right)."""
    prod = _dagger(left) @ right
    return right @ rho @ _dagger(left) - 0.5 * (prod @ rho + rho @ prod)


@dataclass(frozen=True, eq=False)
class RealGeneratorBasis:
    """Fixed real superoperators R_m of one Hilbert-space structure.

    Attributes
    ----------
    dims : tuple of int
    n_transitions : int
        T, the number of transition operators σ_t (g→e of every atom, then e→f).
    matrices : ndarray, float, shape (M, D, D)
        R_m in the permuted coordinates (see ``order``).
    block_diagonal_terms : ndarray of bool, shape (M,)
        Whether R_m is block diagonal over the excitation-number sectors.
    order : ndarray of int, shape (D,)
        Permutation of the coordinates of :func:`vectorize_hermitian` grouping them by |k|.
    sectors : tuple of slice
        The blocks in permuted coordinates.
    """

    dims: tuple[int, ...]
    n_transitions: int
    matrices: NDArray[np.float64]
    block_diagonal_terms: NDArray[np.bool_]
    order: NDArray[np.intp]
    sectors: tuple[slice, ...]

    @classmethod
    def build(cls, dims: Sequence[int], transition_operators: NDArray) -> RealGeneratorBasis:
        """Compute the basis for atoms with ``dims`` levels and transitions σ_t (T, d, d)."""
        dims = tuple(int(x) for x in dims)
        b, nn = _local_operators(dims)
        sigma = np.asarray(transition_operators, dtype=complex)
        n, t_count, d = len(dims), sigma.shape[0], b.shape[-1]
        size = d * d
        rho = unvectorize_hermitian(np.eye(size), d)  # (D, d, d): images of the unit vectors

        terms: list[NDArray] = []
        for j in range(n):  # detunings
            terms.append(_commutator_term(nn[j], rho))
        for j in range(n):  # anharmonicities: (α/2) n(n − 1)
            terms.append(_commutator_term(0.5 * nn[j] @ (nn[j] - np.eye(d)), rho))
        for t in range(t_count):  # coherent M: diagonal, then Re and Im of the upper triangle
            terms.append(_commutator_term(_dagger(sigma[t]) @ sigma[t], rho))
        iu, ju = np.triu_indices(t_count, 1)
        for t, u in zip(iu, ju, strict=True):
            op = _dagger(sigma[t]) @ sigma[u]
            terms.append(_commutator_term(op + _dagger(op), rho))
        for t, u in zip(iu, ju, strict=True):
            op = _dagger(sigma[t]) @ sigma[u]
            terms.append(_commutator_term(1j * (op - _dagger(op)), rho))
        # Channel Gram K: the dissipator is Σ_tt' K_tt' S_{t't} with S_jk as in PHYSICS.md §3.
        for t in range(t_count):
            terms.append(_cross_dissipator(sigma[t], sigma[t], rho))
        for t, u in zip(iu, ju, strict=True):
            s_ut = _cross_dissipator(sigma[u], sigma[t], rho)
            s_tu = _cross_dissipator(sigma[t], sigma[u], rho)
            terms.append(s_ut + s_tu)  # Re K_tu
            terms.append(1j * (s_ut - s_tu))  # Im K_tu
        for j in range(n):  # drive: Re Ω (b† + b), Im Ω i(b† − b)
            terms.append(_commutator_term(_dagger(b[j]) + b[j], rho))
            terms.append(_commutator_term(1j * (_dagger(b[j]) - b[j]), rho))
        for ops in (b, _dagger(b), nn):  # decay, excitation, dephasing (rates as coefficients)
            for j in range(n):
                terms.append(_cross_dissipator(ops[j], ops[j], rho))

        stack = np.stack(terms)  # (M, D_in, d, d)
        # R_m[:, i] = coordinates of P_m(ρ_i): vectorize the images, then transpose.
        images = vectorize_hermitian(0.5 * (stack + _dagger(stack)))
        matrices = np.swapaxes(images, -1, -2)

        excitations = np.zeros(d, dtype=int)
        for j in range(n):
            excitations += np.rint(np.real(np.diagonal(nn[j]))).astype(int)
        diag_idx = np.arange(d)
        up_i, up_j = np.triu_indices(d, 1)
        rows = np.concatenate([diag_idx, up_i, up_i])
        cols = np.concatenate([diag_idx, up_j, up_j])
        k = np.abs(excitations[rows] - excitations[cols])
        order = np.argsort(k, kind="stable")
        matrices = matrices[:, order][:, :, order]
        k_sorted = k[order]
        bounds = np.flatnonzero(np.diff(k_sorted)) + 1
        edges = [0, *bounds.tolist(), size]
        sectors = tuple(slice(a, z) for a, z in itertools.pairwise(edges))
        mask = np.zeros((size, size), dtype=bool)
        for s in sectors:
            mask[s, s] = True
        scale = np.abs(matrices).max(axis=(-2, -1), keepdims=True)
        off = np.where(mask, 0.0, np.abs(matrices)).max(axis=(-2, -1), keepdims=True)
        block_diagonal = (off <= 1e-13 * np.maximum(scale, 1e-300))[:, 0, 0]
        return cls(
            dims=dims,
            n_transitions=t_count,
            matrices=np.ascontiguousarray(matrices),
            block_diagonal_terms=block_diagonal,
            order=order.astype(np.intp),
            sectors=sectors,
        )

    @property
    def size(self) -> int:
        """D = d²."""
        return self.matrices.shape[-1]

    def coefficients(self, terms: dict[str, Any]) -> NDArray[np.float64]:
        """Coefficient vectors c (batch…, M) from an ``assemble`` keyword dictionary."""
        n, t_count = len(self.dims), self.n_transitions
        iu, ju = np.triu_indices(t_count, 1)
        parts: list[NDArray] = []
        parts.append(np.asarray(terms["detunings"], dtype=float))
        parts.append(np.asarray(terms["anharmonicities"], dtype=float))
        coherent = terms["coherent"]
        if coherent is None:
            coherent = np.zeros((t_count, t_count), dtype=complex)
        coherent = np.asarray(coherent)
        parts.append(np.real(np.diagonal(coherent, axis1=-2, axis2=-1)))
        parts.append(np.real(coherent[..., iu, ju]))
        parts.append(np.imag(coherent[..., iu, ju]))
        channels = terms["channels"]
        if channels is None:
            gram = np.zeros((t_count, t_count), dtype=complex)
        else:
            channels = np.asarray(channels)
            gram = np.einsum("...ct,...cu->...tu", channels, np.conj(channels))
        parts.append(np.real(np.diagonal(gram, axis1=-2, axis2=-1)))
        interleaved = np.stack([np.real(gram[..., iu, ju]), np.imag(gram[..., iu, ju])], axis=-1)
        parts.append(interleaved.reshape(*interleaved.shape[:-2], -1))
        drive = terms["drive_amplitudes"]
        drive = np.zeros(n, dtype=complex) if drive is None else np.asarray(drive)
        pairs = np.stack([np.real(drive), np.imag(drive)], axis=-1)
        parts.append(pairs.reshape(*pairs.shape[:-2], -1))
        gamma = np.asarray(terms["intrinsic_decay"], dtype=float)
        n_th = np.asarray(terms["thermal_occupation"], dtype=float)
        parts.append(gamma * (1 + n_th))
        parts.append(gamma * n_th)
        parts.append(2 * np.asarray(terms["dephasing"], dtype=float))
        batch = np.broadcast_shapes(*(p.shape[:-1] for p in parts))
        return np.concatenate([np.broadcast_to(p, (*batch, p.shape[-1])) for p in parts], axis=-1)

    def breaks_sectors(self, coefficients: NDArray[np.float64]) -> bool:
        """Whether any term that mixes excitation-number sectors has a nonzero coefficient."""
        return bool(np.any(coefficients[..., ~self.block_diagonal_terms] != 0))

    def generator(self, coefficients: NDArray[np.float64]) -> NDArray[np.float64]:
        """R = Σ_m c_m R_m for coefficients (N, M); returns (N, D, D) in permuted coordinates."""
        c = np.ascontiguousarray(coefficients, dtype=float)
        flat = self.matrices.reshape(self.matrices.shape[0], -1)
        return (c @ flat).reshape(c.shape[0], self.size, self.size)

    def generator_blocks(
        self, coefficients: NDArray[np.float64], sectors: tuple[slice, ...] | None
    ) -> list[NDArray[np.float64]]:
        """The generator as blocks: [R] (N, D, D) without sectors, else one (N, D_b, D_b) each.

        With ``sectors`` the coefficients must not break them (see :meth:`breaks_sectors`);
        only the diagonal blocks are formed.
        """
        if sectors is None:
            return [self.generator(coefficients)]
        c = np.ascontiguousarray(coefficients, dtype=float)
        out = []
        for k, s in enumerate(sectors):
            flat = self._sector_matrices(k, s)
            size = s.stop - s.start
            out.append((c @ flat).reshape(c.shape[0], size, size))
        return out

    def _sector_matrices(self, k: int, s: slice) -> NDArray[np.float64]:
        cache = self.__dict__.setdefault("_sector_cache", {})
        if k not in cache:
            block = self.matrices[:, s, s]
            cache[k] = np.ascontiguousarray(block.reshape(block.shape[0], -1))
        return cache[k]

    def to_coordinates(self, rho: NDArray) -> NDArray[np.float64]:
        """Permuted real coordinates of ρ (…, d, d) → (…, D)."""
        return vectorize_hermitian(rho)[..., self.order]

    def from_coordinates(self, x: NDArray[np.float64]) -> NDArray[np.complex128]:
        """Inverse of :meth:`to_coordinates`."""
        unpermuted = np.empty_like(x)
        unpermuted[..., self.order] = x
        return unvectorize_hermitian(unpermuted, int(np.prod(self.dims)))
