"""Waveguide spectroscopy: transmission and reflection of giant atoms (PHYSICS.md §7).

Linear response (weak probe, atoms in |g⟩: thermal excitation, which lowers the contrast by
≈ 1 − 2p_e, is left to the steady-state response), any number of atoms, chiral points
included:

    H_eff(ω) = diag(ω_j) + M(ω) − (i/2) Γ(ω) − (i/2) diag(γ_nr,j(1 + 2n_th,j) + 2γ_φ,j),
    S21 = t  = 1 + i w^R(ω)† [H_eff(ω) − ω]⁻¹ w^R(ω),     S11 = r  = i w^L(ω)† [H_eff − ω]⁻¹ w^R(ω),
    S12 = t′ = 1 + i w^L(ω)† [H_eff(ω) − ω]⁻¹ w^L(ω),     S22 = r′ = i w^R(ω)† [H_eff − ω]⁻¹ w^L(ω),

with M (Lamb shifts, exchange), Γ and the channel form factors w^{R,L} of
:mod:`giantatoms.model.couplings` all evaluated at the probe frequency ω. For a bidirectional
waveguide u = √2 w^R and this is exactly PHYSICS.md §7. Port 1 is the left end, port 2 the
right end: S21 is what a probe sent in from the left transmits to the right.

Nonlinear response (any probe power): the driven steady state of the full master equation
(three levels, thermal bath, dephasing) and the input-output relation for the fields leaving
each port, a_out = a_in − i⟨c⟩ with c_R = Σ_t conj(w^R_t) σ_t (every coupling point of every
transition with its phase): t = 1 − i⟨c_R⟩/α, r = −i⟨c_L⟩/α for a probe of amplitude α from
the left. It tends to the linear response at weak probe power.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import choice, real_array
from giantatoms.model.couplings import (
    EmitterGeometry,
    _atom_frequencies,
    _stack_emitters,
    channel_form_factors,
    coupling_matrix,
    device_origin,
    split_coupling,
)
from giantatoms.model.device import Device, Drive

__all__ = ["Modes", "Scattering", "scattering", "single_excitation_modes"]


@dataclass(frozen=True, eq=False, repr=False)
class Scattering:
    """Scattering parameters of the waveguide with its atoms.

    Physics sign convention (fields ∝ e^{−iωt}): measured VNA data (e^{+jωt}, Touchstone) are
    the complex conjugate (:class:`giantatoms.fitting.SpectroscopyData` handles it). Phases are
    taken relative to the chip's centre, and reflections are referred to the plane x = 0.

    Attributes
    ----------
    probe_frequencies : ndarray, rad/s, shape (P,)
    s21, s11, s12, s22 : ndarray, complex, shape (batch…, P)
        Transmission left→right, reflection at the left port, transmission right→left,
        reflection at the right port (dimensionless amplitudes).
    method : str
        ``"linear"`` or ``"steady-state"``.
    power_dbm : ndarray or None
        Probe power of the nonlinear response (``None`` for linear response).
    port : str
        For the nonlinear response, the port the probe enters (the other two parameters are
        NaN); ``"both"`` for linear response.
    """

    probe_frequencies: NDArray[np.float64]
    s21: NDArray[np.complex128]
    s11: NDArray[np.complex128]
    s12: NDArray[np.complex128]
    s22: NDArray[np.complex128]
    method: str
    power_dbm: NDArray[np.float64] | None = None
    port: str = "both"

    @property
    def t(self) -> NDArray[np.complex128]:
        """Transmission amplitude of a probe from the probed port (S21 from the left)."""
        return self.s12 if self.port == "right" else self.s21

    @property
    def r(self) -> NDArray[np.complex128]:
        """Reflection amplitude back into the probed port (S11 from the left)."""
        return self.s22 if self.port == "right" else self.s11

    def __repr__(self) -> str:
        return (
            f"Scattering(method={self.method!r}, port={self.port!r}, shape={self.s21.shape}, "
            f"probe {self.probe_frequencies.min() / 2e9 / np.pi:.4f}–"
            f"{self.probe_frequencies.max() / 2e9 / np.pi:.4f} GHz)"
        )


def _probe_axis(geometry: EmitterGeometry) -> EmitterGeometry:
    """The same geometry with a length-1 axis before the points, for a trailing probe axis."""
    return EmitterGeometry(
        positions=np.asarray(geometry.positions)[..., None, :],
        rates_right=np.asarray(geometry.rates_right)[..., None, :],
        rates_left=np.asarray(geometry.rates_left)[..., None, :],
    )


def _check_probe(probe_frequencies: ArrayLike) -> NDArray[np.float64]:
    probe = real_array(probe_frequencies, "probe_frequencies", minimum=0, strict_minimum=True)
    if probe.ndim != 1 or probe.size == 0:
        raise ValueError(
            f"probe_frequencies must be a non-empty 1-D array (rad/s), got shape {probe.shape}"
        )
    return probe


def _coherence_loss(device: Device) -> NDArray[np.float64]:
    """γ_nr(1 + 2n_th) + 2γ_φ per atom, (…, n): twice the intrinsic coherence decay rate."""
    gamma_nr = _stack_emitters([a.intrinsic_decay_rate for a in device.atoms])
    n_th = _stack_emitters([np.asarray(a.n_thermal, dtype=float) for a in device.atoms])
    dephasing = _stack_emitters([a.dephasing_rate for a in device.atoms])
    return gamma_nr * (1 + 2 * n_th) + 2 * dephasing


def _with_probe_axis(device: Device) -> Device:
    """The device with a length-1 axis appended to the batch of every array parameter."""
    atoms = []
    for atom in device.atoms:
        changes = {}
        for name in ("frequency", "anharmonicity", "t1", "t_phi", "t2", "n_thermal"):
            value = getattr(atom, name)
            if value is not None and np.ndim(value) > 0:
                changes[name] = np.asarray(value)[..., None]
        for name in ("points", "point_rates", "right_fraction"):
            value = np.asarray(getattr(atom, name))
            if value.ndim > 1:
                changes[name] = value[..., None, :]
        if "t_phi" in changes and atom.t2 is not None:
            changes.pop("t_phi")
        atoms.append(atom.replace(**changes) if changes else atom)
    return replace(device, atoms=tuple(atoms))


def _reflection_planes(
    device: Device, probe: NDArray[np.float64]
) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    """e^{±2ik_p x₀}: move the reflections' reference plane from the chip (x₀) to x = 0."""
    phase = np.exp(2j * probe / device.waveguide.phase_velocity * device_origin(device)[..., None])
    return phase, np.conj(phase)


def _linear_parts(
    device: Device,
    probe: NDArray[np.float64],
    frequencies: ArrayLike | None,
    couplings_at: str,
) -> tuple[NDArray, NDArray, tuple[NDArray, NDArray], tuple[NDArray, NDArray]]:
    """Pieces of H_eff − ω at the probe frequencies.

    Returns the atom-independent part K = M − (i/2)Γ (…, P, n, n), the diagonal
    ω_j − ω − (i/2)·loss_j (…, P, n), the input form factors (w^R, w^L) at the probe frequency
    and the output ones (at the probe frequency, or at the atoms' for ``couplings_at="atoms"``).
    Only the diagonal depends on the atom frequencies in the default mode, so a flux map
    never forms the full (F, P, n, n) stack for n ≤ 2.
    """
    omega = _atom_frequencies(device, None, frequencies)
    n = device.n_atoms
    geos = [_probe_axis(EmitterGeometry.of(a)) for a in device.atoms]
    v = device.waveguide.phase_velocity
    x0 = device_origin(device)[..., None]  # phases relative to the chip, probe axis last
    probe_n = np.broadcast_to(probe[:, None], (probe.size, n))
    wr, wl = channel_form_factors(geos, probe_n, v, x0)
    at = probe_n if couplings_at == "probe" else omega[..., None, :]
    g = coupling_matrix(geos, at, v, x0)
    out_r, out_l = (wr, wl) if couplings_at == "probe" else channel_form_factors(geos, at, v, x0)
    decay, coherent = split_coupling(g, out_r, out_l)
    loss = _coherence_loss(device)
    diagonal = omega[..., None, :] - probe[:, None] - 0.5j * loss[..., None, :]
    return coherent - 0.5j * decay, diagonal, (wr, wl), (out_r, out_l)


def _solve_pair(
    k: NDArray, diagonal: NDArray, rhs: tuple[NDArray, ...]
) -> tuple[list[NDArray], ...]:
    """Solve (K + diag) x = b for each b in ``rhs``; x as a list of its n components.

    Vectorised closed forms for n ≤ 2 (a flux map is millions of 2 × 2 systems), LAPACK above.
    """
    n = k.shape[-1]
    if n == 1:
        a = k[..., 0, 0] + diagonal[..., 0]
        return tuple([b[..., 0] / a] for b in rhs)
    if n == 2:
        a00 = k[..., 0, 0] + diagonal[..., 0]
        a11 = k[..., 1, 1] + diagonal[..., 1]
        a01, a10 = k[..., 0, 1], k[..., 1, 0]
        det = a00 * a11 - a01 * a10
        if np.all(det != 0):
            inv_det = 1.0 / det
            return tuple(
                [
                    (a11 * b[..., 0] - a01 * b[..., 1]) * inv_det,
                    (a00 * b[..., 1] - a10 * b[..., 0]) * inv_det,
                ]
                for b in rhs
            )
    batch = np.broadcast_shapes(k.shape[:-2], diagonal.shape[:-1])
    h = np.array(np.broadcast_to(k, (*batch, n, n)))
    idx = np.arange(n)
    h[..., idx, idx] += np.broadcast_to(diagonal, (*batch, n))
    out = []
    for b in rhs:
        bb = np.broadcast_to(b, (*batch, n))
        try:
            x = np.linalg.solve(h, bb[..., None])[..., 0]
        except np.linalg.LinAlgError:
            # A lossless mode exactly at the probe frequency that neither channel drives (an
            # exact dark state): H_eff − ω is singular but b lies in its range.
            flat_h, flat_b = h.reshape(-1, n, n), bb.reshape(-1, n)
            x = np.stack(
                [np.linalg.lstsq(m, r, rcond=None)[0] for m, r in zip(flat_h, flat_b, strict=True)]
            ).reshape(*batch, n)
        out.append([x[..., j] for j in range(n)])
    return tuple(out)


def _overlap(w: NDArray, x: list[NDArray]) -> NDArray:
    """Σ_j conj(w_j) x_j with x given by components (avoids a reduction over a short axis)."""
    total = np.conj(w[..., 0]) * x[0]
    for j in range(1, len(x)):
        total += np.conj(w[..., j]) * x[j]
    return total


def scattering(
    device: Device,
    probe_frequencies: ArrayLike,
    drive: Drive | None = None,
    *,
    frequencies: ArrayLike | None = None,
    power_dbm: ArrayLike | None = None,
    port: str = "left",
    couplings_at: str = "probe",
) -> Scattering:
    """Transmission and reflection of the waveguide at the probe frequencies.

    Parameters
    ----------
    device : Device
        Any number of atoms and coupling points; array parameters are batch axes.
    probe_frequencies : array_like, rad/s, shape (P,)
        The probe axis is appended after the batch axes of the result.
    drive : Drive, optional
        Use the nonlinear steady-state response with this tone as the probe: its power, port
        and phase are used, its frequency is replaced by each probe frequency.
    frequencies : array_like, rad/s, shape (..., n_atoms), optional
        Bare atom frequencies (e.g. from a flux sweep); default the atoms' own.
    power_dbm : array_like, dBm, optional
        Shorthand for a probe ``Drive`` of this power from ``port`` (nonlinear response).
    port : {"left", "right"}
        Probe port for the nonlinear response.
    couplings_at : {"probe", "atoms"}
        Linear response: evaluate G and the emitted fields at the probe frequency (default,
        PHYSICS.md §7) or, as the Markovian master equation does, at the atoms' own
        frequencies (the drive still couples at the probe frequency). The two differ by
        O(Γ τ), τ the propagation time across the atoms; ``"atoms"`` is the weak-probe limit
        of the nonlinear (master-equation) response exactly.

    Returns
    -------
    Scattering
        ``s21``, ``s11``, ``s12``, ``s22`` of shape (batch…, P) for linear response; for the
        nonlinear response the two parameters of the probed port (``t``, ``r``), the others NaN.
    """
    if not isinstance(device, Device):
        raise TypeError(f"device must be a Device, got {type(device).__name__}")
    probe = _check_probe(probe_frequencies)
    if drive is not None and power_dbm is not None:
        raise ValueError("give either drive or power_dbm, not both")
    if power_dbm is not None:
        drive = Drive(
            frequency=probe[0], power_dbm=power_dbm, port=choice(port, "port", ("left", "right"))
        )
    if drive is not None:
        if not isinstance(drive, Drive):
            raise TypeError(f"drive must be a Drive, got {type(drive).__name__}")
        return _nonlinear(device, probe, drive, frequencies)

    couplings_at = choice(couplings_at, "couplings_at", ("probe", "atoms"))
    k, diagonal, (wr, wl), (out_r, out_l) = _linear_parts(device, probe, frequencies, couplings_at)
    # A probe from the left couples through the right-going channel, and vice versa.
    x_left, x_right = _solve_pair(k, diagonal, (wr, wl))
    s21 = 1 + 1j * _overlap(out_r, x_left)
    s12 = 1 + 1j * _overlap(out_l, x_right)
    back, forth = _reflection_planes(device, probe)
    s11 = 1j * _overlap(out_l, x_left) * back
    s22 = 1j * _overlap(out_r, x_right) * forth
    return Scattering(probe, s21, s11, s12, s22, method="linear")


def _nonlinear(
    device: Device, probe: NDArray[np.float64], drive: Drive, frequencies: ArrayLike | None
) -> Scattering:
    """Steady-state response to a probe of finite power (see the module docstring)."""
    from giantatoms.model.lindblad import assemble, device_terms
    from giantatoms.solvers.steady_state import steady_state

    tone = Drive(
        frequency=probe,
        power_dbm=np.asarray(drive.power_dbm)[..., None],
        port=drive.port,
        phase=np.asarray(drive.phase)[..., None],
    )
    if np.any(np.isneginf(tone.power_dbm)):
        raise ValueError("power_dbm must be finite for the nonlinear response (use linear)")
    omega = _atom_frequencies(device, None, frequencies)
    probed = _with_probe_axis(device)
    terms = device_terms(probed, tone, omega[..., None, :])
    rho = steady_state(assemble(**terms)).rho
    # Output fields a_out = a_in − i⟨c⟩ with c = Σ_t conj(w_t) σ_t over every transition, all
    # phases relative to the chip's phase origin (as the drive's); reflections are moved to x = 0.
    sigma = np.einsum("tij,...ji->...t", terms["transition_operators"], rho)
    channels = terms["channels"]
    out_right = np.sum(channels[..., 0, :] * sigma, axis=-1)
    out_left = np.sum(channels[..., 1, :] * sigma, axis=-1)
    alpha = np.broadcast_to(tone.amplitude, rho.shape[:-2])
    forward, backward = (out_right, out_left) if drive.port == "left" else (out_left, out_right)
    back, forth = _reflection_planes(probed, probe)
    t = 1 - 1j * forward / alpha
    r = -1j * backward / alpha * (back if drive.port == "left" else forth)
    nan = np.full(t.shape, np.nan + 0j)
    if drive.port == "left":
        s21, s11, s12, s22 = t, r, nan, nan
    else:
        s21, s11, s12, s22 = nan, nan, t, r
    return Scattering(
        probe,
        s21,
        s11,
        s12,
        s22,
        method="steady-state",
        power_dbm=np.asarray(drive.power_dbm, dtype=float),
        port=drive.port,
    )


@dataclass(frozen=True, eq=False, repr=False)
class Modes:
    """Single-excitation modes of H_eff (complex eigenvalues ω̃_m − iκ_m/2).

    Attributes
    ----------
    frequencies : ndarray, rad/s, shape (batch…, n)
        Re of the eigenvalues, sorted by decreasing radiative linewidth (brightest first).
    linewidths : ndarray, rad/s, shape (batch…, n)
        κ_m = −2 Im (energy-decay rate of the mode: waveguide plus intrinsic).
    radiative_linewidths : ndarray, rad/s, shape (batch…, n)
        The waveguide part, v_m† Γ v_m for normalised eigenvectors v_m.
    brightness : ndarray, shape (batch…, n)
        radiative linewidth / Σ_j Γ_jj: 1 for a mode that carries all the radiation of the
        atoms (the bright mode of perfectly correlated atoms), 0 for a dark mode.
    vectors : ndarray, complex, shape (batch…, n, n)
        Normalised right eigenvectors (columns), in atom order.
    point_rate : ndarray, rad/s, shape (batch…)
        Mean per-point rate γ of the atoms.
    """

    frequencies: NDArray[np.float64]
    linewidths: NDArray[np.float64]
    radiative_linewidths: NDArray[np.float64]
    brightness: NDArray[np.float64]
    vectors: NDArray[np.complex128]
    point_rate: NDArray[np.float64]

    @property
    def broadening(self) -> NDArray[np.float64]:
        """Radiative linewidth of the brightest mode over the per-point rate γ (the "8×")."""
        return self.radiative_linewidths[..., 0] / self.point_rate

    def __repr__(self) -> str:
        return (
            f"Modes(shape={self.frequencies.shape}, brightest linewidth/γ = "
            f"{np.max(self.broadening):.3f})"
        )


def single_excitation_modes(
    device: Device,
    *,
    frequencies: ArrayLike | None = None,
    evaluation_frequency: ArrayLike | None = None,
) -> Modes:
    """Bright and dark single-excitation modes of the atoms (PHYSICS.md §7).

    Diagonalises H_eff = diag(ω_j) + M − (i/2)Γ − (i/2) diag(γ_nr(1+2n_th) + 2γ_φ) with the
    couplings evaluated at one frequency (default: the mean bare atom frequency). For
    identical atoms the eigenvalues are ω̃ ± J − (i/2)(Γ ± Γ_coll): at perfect correlation the
    bright mode has linewidth 2Γ (8γ for two in-phase two-point atoms) and the dark one none.

    Parameters
    ----------
    device : Device
    frequencies : array_like, rad/s, shape (..., n_atoms), optional
        Bare atom frequencies; default the atoms' own.
    evaluation_frequency : array_like, rad/s, shape (...), optional
        Where G is evaluated.

    Returns
    -------
    Modes
    """
    omega = _atom_frequencies(device, None, frequencies)
    at = (
        np.mean(omega, axis=-1)
        if evaluation_frequency is None
        else real_array(evaluation_frequency, "evaluation_frequency", minimum=0)
    )
    n = device.n_atoms
    geos = [EmitterGeometry.of(a) for a in device.atoms]
    v = device.waveguide.phase_velocity
    at_n = np.asarray(at, dtype=float)[..., None] * np.ones(n)
    g = coupling_matrix(geos, at_n, v)
    wr, wl = channel_form_factors(geos, at_n, v)
    decay, coherent = split_coupling(g, wr, wl)
    loss = _coherence_loss(device)
    h = coherent - 0.5j * decay
    batch = np.broadcast_shapes(h.shape[:-2], omega.shape[:-1], loss.shape[:-1])
    h = np.array(np.broadcast_to(h, (*batch, n, n)))
    idx = np.arange(n)
    h[..., idx, idx] += np.broadcast_to(omega - 0.5j * loss, (*batch, n))
    values, vectors = np.linalg.eig(h)
    vectors = vectors / np.linalg.norm(vectors, axis=-2, keepdims=True)
    gamma = np.broadcast_to(decay, (*batch, n, n))
    radiative = np.real(np.einsum("...im,...ij,...jm->...m", np.conj(vectors), gamma, vectors))
    order = np.argsort(-radiative, axis=-1)
    take = np.take_along_axis
    values = take(values, order, axis=-1)
    radiative = take(radiative, order, axis=-1)
    vectors = take(vectors, order[..., None, :], axis=-1)
    total = np.real(np.trace(gamma, axis1=-2, axis2=-1))[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        brightness = np.where(total > 0, radiative / total, 0.0)
    rates = [np.mean(np.asarray(a.rates_per_point), axis=-1) for a in device.atoms]
    point_rate = np.broadcast_to(np.mean(np.stack(np.broadcast_arrays(*rates)), axis=0), batch)
    return Modes(
        frequencies=np.real(values),
        linewidths=-2 * np.imag(values),
        radiative_linewidths=radiative,
        brightness=brightness,
        vectors=vectors,
        point_rate=np.asarray(point_rate, dtype=float),
    )
