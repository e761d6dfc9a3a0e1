"""How far apart can the atoms be? Storage of a Bell state against the atoms' separation.

The reference experiment stores the entangled state Ψ⁻ = (|eg⟩ − |ge⟩)/√2 at the
decoherence-free (DF) point, where each giant atom's own coupling points interfere
destructively. In the Markovian model nothing then decays into the waveguide, at any distance.
With propagation delays a photon emitted at one point takes τ to reach the point that should
cancel it, so part of the excitation escapes before the interference builds up (the trapped
population of a two-point atom at its DF point is 1/(1 + γτ)²), and the delayed couplings
between the two atoms depend on how far apart they are.

Ψ⁻ lives in the single-excitation sector, so its storage is solved *exactly* with the delay
solver (:func:`giantatoms.delay.single_excitation`), batched over separations: atom B (all its
points) is moved away from atom A by whole wavelengths λ = v/f of the storage frequency, which
keeps every propagation phase e^{iωτ} fixed and isolates the effect of the delay itself. The
atoms' state is ρ = |c⟩⟨c| + (1 − |c_A|² − |c_B|²)|gg⟩⟨gg| (the escaped excitation is in the
waveguide), so

    F(Ψ⁻ up to local Z) = (|c_A| + |c_B|)²/2,    F(Ψ⁻) = |c_A − c_B|²/2 (frame of ω₀).

Side by side: the same from the Markovian single-excitation equation
ċ = −(iΔ + γ_nr/2 + G/2)c with G at each atom's own frequency (what the master equation does),
and the exact long-time (trapped) value from the poles. Intrinsic T1 is included; pure
dephasing and thermal excitation are not (they leave the single-excitation sector).

:func:`transfer_study` does the same for the transfer: Ψ⁻ at the atoms' own (entangling)
frequencies, a cosine ramp of both atoms to their DF points, then storage, against the ramp
time (and separation): exact with delays (:func:`giantatoms.delay.single_excitation` with
moving frequencies) against the Markovian single-excitation equation with G at the atoms'
instantaneous frequencies.

Not in this study yet (it needs the driven, nonlinear solver with delays): the steady-state
Bell fidelity of the drive against separation.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms.model.couplings import decoherence_free_frequencies
from giantatoms.model.delays import NonMarkovianWarning, diagnostics
from giantatoms.model.device import Device
from giantatoms.solvers.delay import single_excitation, trapped_state
from giantatoms.units import GHz, us

__all__ = ["DistanceStudy", "distance_study", "storage_frequencies", "transfer_study"]


@dataclass(frozen=True, eq=False)
class DistanceStudy:
    """Result of :func:`distance_study`.

    Attributes
    ----------
    dataset : xarray.Dataset
        Dimensions ``separation`` (extra distance of atom B, m) and ``time`` (µs). Variables:
        ``bell_fidelity_optimized`` / ``bell_fidelity`` (exact, with delays),
        ``markov_bell_fidelity_optimized`` (delays neglected), ``excitation`` (Σ|c_j|²),
        ``trapped_bell_fidelity_optimized`` (t → ∞ without intrinsic loss: the waveguide's
        limit), ``Gamma_tau`` and ``markov_error`` (:func:`giantatoms.delay.diagnostics`),
        ``error`` (estimated amplitude error).
    device_name : str
    storage_frequencies : ndarray, rad/s, shape (2,)
    """

    dataset: Any
    device_name: str
    storage_frequencies: NDArray[np.float64]
    notes: tuple[str, ...] = field(default_factory=tuple)


def storage_frequencies(device: Device, pair: tuple[int, int]) -> NDArray[np.float64]:
    """Where the pair stores Ψ⁻, rad/s, shape (2,).

    Each atom's DF point nearest its frequency (giant atoms), or the atom's own frequency when
    it has no DF point (small atoms).
    """
    out = []
    for j in pair:
        w = float(np.ravel(device.atoms[j].frequency)[0])
        try:
            df = decoherence_free_frequencies(device, j, (0.8 * w, 1.25 * w))
        except ValueError:
            df = np.array([])
        out.append(float(df[np.argmin(np.abs(df - w))]) if df.size else w)
    return np.array(out)


def _moved(device: Device, atom: int, shifts: NDArray[np.float64]) -> Device:
    """The device with ``atom``'s points moved by ``shifts`` (m, shape (S,)): batch (S,)."""
    atoms = list(device.atoms)
    points = np.asarray(atoms[atom].points, dtype=float)
    atoms[atom] = atoms[atom].replace(points=points + shifts[:, None])
    return Device(
        waveguide=device.waveguide,
        atoms=atoms,
        name=device.name,
        description=device.description,
        assumptions=device.assumptions,
    )


def _markov_amplitudes(
    device: Device,
    frequencies: NDArray[np.float64],
    pair: tuple[int, int],
    times: NDArray[np.float64],
) -> NDArray[np.complex128]:
    """c(t) of the Markovian single-excitation equation, G at each atom's own frequency."""
    couplings = device.couplings(frequencies=frequencies)
    g = np.asarray(couplings.coupling_matrix)[..., list(pair), :][..., list(pair)]
    w = np.asarray(frequencies)[..., list(pair)]
    loss = np.stack(
        [np.asarray(device.atoms[j].intrinsic_decay_rate, dtype=float) for j in pair], axis=-1
    )
    gen = -0.5 * g
    idx = np.arange(2)
    gen[..., idx, idx] -= 1j * (w - w.mean(axis=-1, keepdims=True)) + 0.5 * loss
    lam, vec = np.linalg.eig(gen)
    c0 = np.array([1.0, -1.0]) / np.sqrt(2)
    coef = np.linalg.solve(vec, np.broadcast_to(c0, (*vec.shape[:-2], 2))[..., None])[..., 0]
    phases = np.exp(lam[..., None, :] * times[:, None])  # (..., T, 2)
    return np.einsum("...ij,...tj->...ti", vec, phases * coef[..., None, :])


def distance_study(
    device: Device,
    separations: ArrayLike | None = None,
    times: ArrayLike | None = None,
    *,
    pair: tuple[str | int, str | int] = (0, 1),
    max_gamma_tau: float = 2.0,
    points: int = 17,
) -> DistanceStudy:
    """Stored Bell fidelity of Ψ⁻ against the atoms' separation, with and without delays.

    Parameters
    ----------
    device : Device
        Two (or more) atoms; ``pair`` selects the two that store Ψ⁻. Only their
        single-excitation amplitudes are simulated (other atoms are left out).
    separations : array_like, m, shape (S,), optional
        Extra distances of the second atom; rounded to whole wavelengths of the storage
        frequency. Default: ``points`` values from 0 to the distance where the link's
        Γτ = Σ_n γ_n τ reaches ``max_gamma_tau``.
    times : array_like, s, shape (T,), optional
        Storage times (default 0 … 2 µs, 41 points).
    pair : (str or int, str or int)
    max_gamma_tau : float
        Largest Γτ of the default separations.
    points : int
        Number of default separations.

    Returns
    -------
    DistanceStudy
    """
    import xarray as xr

    if not isinstance(device, Device):
        raise TypeError(f"device must be a Device, got {type(device).__name__}")
    i, j = (device.index(p) for p in pair)
    if i == j:
        raise ValueError("pair must name two different atoms")
    sub = Device(
        waveguide=device.waveguide,
        atoms=[device.atoms[i], device.atoms[j]],
        name=device.name,
        description=device.description,
        assumptions=device.assumptions,
    )
    freqs = storage_frequencies(sub, (0, 1))
    v = sub.waveguide.phase_velocity
    wavelength = 2 * np.pi * v / float(np.mean(freqs))
    rate = float(np.sum(np.asarray(sub.atoms[1].rates_per_point)))
    if separations is None:
        if not max_gamma_tau > 0 or points < 2:
            raise ValueError("max_gamma_tau must be > 0 and points ≥ 2")
        separations = np.linspace(0.0, max_gamma_tau * v / rate, points)
    shifts = np.round(np.asarray(separations, dtype=float) / wavelength) * wavelength
    if shifts.ndim != 1 or shifts.size == 0 or np.any(shifts < 0):
        raise ValueError("separations must be a non-empty 1-D array of distances ≥ 0 m")
    t = np.linspace(0.0, 2 * us, 41) if times is None else np.asarray(times, dtype=float)
    moved = _moved(sub, 1, shifts)
    start = np.array([1.0, -1.0]) / np.sqrt(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonMarkovianWarning)
        exact = single_excitation(moved, start, t, freqs)
        # Nothing is trapped forever with intrinsic loss: the trapped state is the waveguide's
        # limit (T1 = ∞), the value the storage tends to before T1 sets in.
        lossless = Device(
            waveguide=moved.waveguide,
            atoms=[a.replace(t1=None, t2=None, t_phi=None) for a in moved.atoms],
        )
        trapped = trapped_state(lossless, start, freqs)
        diag = diagnostics(moved, frequencies=freqs)
    markov = _markov_amplitudes(moved, freqs, (0, 1), t)
    c = exact.amplitudes
    a, b = np.abs(trapped.amplitudes[..., 0]), np.abs(trapped.amplitudes[..., 1])
    centres = [np.mean(np.asarray(atom.points, dtype=float), axis=-1) for atom in moved.atoms]
    link = rate * np.abs(centres[1] - centres[0]) / v
    ds = xr.Dataset(
        {
            "bell_fidelity_optimized": (
                ("separation", "time"),
                0.5 * (np.abs(c[..., 0]) + np.abs(c[..., 1])) ** 2,
                {"units": "1", "long_name": "Bell fidelity to Ψ⁻ up to local Z, with delays"},
            ),
            "bell_fidelity": (
                ("separation", "time"),
                0.5 * np.abs(c[..., 0] - c[..., 1]) ** 2,
                {"units": "1", "long_name": "Bell fidelity to Ψ⁻ (frame of the mean frequency)"},
            ),
            "markov_bell_fidelity_optimized": (
                ("separation", "time"),
                0.5 * (np.abs(markov[..., 0]) + np.abs(markov[..., 1])) ** 2,
                {"units": "1", "long_name": "the same, delays neglected (Markov)"},
            ),
            "excitation": (
                ("separation", "time"),
                exact.excitation,
                {"units": "1", "long_name": "excitation left in the atoms, with delays"},
            ),
            "trapped_bell_fidelity_optimized": (
                "separation",
                0.5 * (a + b) ** 2,
                {
                    "units": "1",
                    "long_name": "long-time (trapped) Bell fidelity with delays, no intrinsic loss",
                },
            ),
            "Gamma_tau": (
                "separation",
                np.broadcast_to(link, shifts.shape),
                {"units": "1", "long_name": "Γτ of the link (Σγ of atom B × centre distance / v)"},
            ),
            "markov_error": (
                "separation",
                np.asarray(diag.markov_error),
                {"units": "1", "long_name": "‖T‖/2: first-order change of the Markovian rates"},
            ),
            "error": (
                "separation",
                np.asarray(exact.error),
                {"units": "1", "long_name": "estimated error of the amplitudes"},
            ),
        },
        coords={
            "separation": (
                "separation",
                shifts,
                {"units": "m", "long_name": "extra distance of atom B"},
            ),
            "time": ("time", t / us, {"units": "us", "long_name": "storage time"}),
        },
        attrs={
            "device": sub.name,
            "atoms": ", ".join(sub.atom_names),
            "storage_frequencies_ghz": [float(f / GHz) for f in freqs],
            "wavelength_m": wavelength,
            "initial_state": "Ψ⁻ = (|eg⟩ − |ge⟩)/√2 at the storage frequencies",
            "model": "exact single-excitation dynamics with delays (giantatoms.delay); "
            "intrinsic T1 included; pure dephasing and thermal excitation not included",
        },
    )
    notes = (
        "separations are whole wavelengths of the storage frequency (propagation phases fixed)",
        "steady-state drive against separation with delays: not yet available (needs the "
        "driven solver with delays)",
    )
    return DistanceStudy(dataset=ds, device_name=sub.name, storage_frequencies=freqs, notes=notes)


def _with_ramp_axis(points: ArrayLike) -> NDArray[np.float64]:
    """Points of shape (S, P) → (S, 1, P); unbatched (P,) stay as they are."""
    p = np.asarray(points, dtype=float)
    return p[..., None, :] if p.ndim > 1 else p


def _cosine_ramp(
    start: NDArray[np.float64], stop: NDArray[np.float64], ramps: NDArray[np.float64]
) -> Any:
    """ω(t) of cosine ramps from ``start`` to ``stop`` (rad/s, (2,)) lasting ``ramps`` (R,)."""

    def frequencies(t: NDArray[np.float64]) -> NDArray[np.float64]:
        x = np.clip(np.asarray(t)[None, :] / ramps[:, None], 0.0, 1.0)  # (R, M)
        shape = 0.5 * (1.0 - np.cos(np.pi * x))
        return start + (stop - start) * shape[..., None]  # (R, M, 2)

    return frequencies


def _markov_path(
    device: Device,
    start: NDArray[np.float64],
    stop: NDArray[np.float64],
    ramps: NDArray[np.float64],
    c0: NDArray[np.complex128],
    t_end: float,
) -> NDArray[np.complex128]:
    """c(t_end) of ċ = −(iΔ(t) + γ_nr/2 + G(ω(t))/2)c along the cosine ramps, shape (S, R, 2).

    Integrated in the interaction picture of the detunings (c_j = e^{−iφ_j}ĉ_j, φ_j in closed
    form for the cosine ramp), where nothing oscillates faster than the atoms' difference
    frequency; G(ω) is tabulated along the ramp (2001 points, linear interpolation).
    """
    import scipy.integrate

    loss = np.stack([np.asarray(a.intrinsic_decay_rate, dtype=float) for a in device.atoms], -1)
    grid = np.linspace(0.0, 1.0, 2001)
    along = start + (stop - start) * grid[:, None]  # (X, 2)
    table = np.asarray(device.couplings(frequencies=along).coupling_matrix)  # (S, 1, X, 2, 2)
    table = table.reshape(-1, grid.size, 2, 2)  # (S, X, 2, 2)
    n_sep = table.shape[0]

    def shape_integral(t: float) -> NDArray[np.float64]:
        """∫₀ᵗ S(u/T) du for every ramp T (cosine S), shape (R,)."""
        inside = t / 2 - ramps / (2 * np.pi) * np.sin(np.pi * np.minimum(t, ramps) / ramps)
        return np.where(t <= ramps, inside, ramps / 2 + (t - ramps))

    def rhs(t: float, y: NDArray[np.float64]) -> NDArray[np.float64]:
        x = np.clip(t / ramps, 0.0, 1.0)  # (R,)
        pos = 0.5 * (1.0 - np.cos(np.pi * x)) * (grid.size - 1)  # the table is in ω, not t
        k = np.minimum(pos.astype(int), grid.size - 2)
        u = (pos - k)[None, :, None, None]
        g = (1 - u) * table[:, k] + u * table[:, k + 1]  # (S, R, 2, 2)
        phi = (start - stop.mean()) * t + (stop - start) * shape_integral(t)[:, None]  # (R, 2)
        rot = np.exp(1j * (phi[:, :, None] - phi[:, None, :]))  # (R, 2, 2)
        z = (y[: y.size // 2] + 1j * y[y.size // 2 :]).reshape(n_sep, ramps.size, 2)
        dz = -0.5 * loss * z - 0.5 * np.einsum("srij,rij,srj->sri", g, rot, z)
        return np.concatenate([dz.real.ravel(), dz.imag.ravel()])

    z0 = np.broadcast_to(c0, (n_sep, ramps.size, 2)).astype(complex)
    y0 = np.concatenate([z0.real.ravel(), z0.imag.ravel()])
    sol = scipy.integrate.solve_ivp(rhs, (0.0, t_end), y0, rtol=1e-10, atol=1e-12, method="DOP853")
    y = sol.y[:, -1]
    # |ĉ_j| = |c_j|: the frame phases do not change the optimised fidelity.
    return (y[: y.size // 2] + 1j * y[y.size // 2 :]).reshape(z0.shape)


def transfer_study(
    device: Device,
    ramp_times: ArrayLike,
    *,
    separations: ArrayLike = (0.0,),
    store_time: float = 0.5 * us,
    pair: tuple[str | int, str | int] = (0, 1),
) -> Any:
    """Bell fidelity of Ψ⁻ after a ramp to the DF points and storage, against ramp time.

    Ψ⁻ starts at the atoms' own frequencies (the entangling point of the presets); both atoms
    follow a cosine ramp to their storage frequencies (:func:`storage_frequencies`) and stay
    there until t_end = max(ramp_times) + ``store_time``.

    Parameters
    ----------
    device : Device
    ramp_times : array_like, s, shape (R,), > 0
    separations : array_like, m, shape (S,)
        Extra distances of the second atom (rounded to whole wavelengths of the storage
        frequency).
    store_time : float, s
    pair : (str or int, str or int)

    Returns
    -------
    xarray.Dataset
        Dimensions ``separation`` (m), ``ramp_time`` (ns): ``bell_fidelity_optimized`` (exact,
        with delays), ``markov_bell_fidelity_optimized``, ``excitation``, ``error``.
    """
    import xarray as xr

    ramps = np.asarray(ramp_times, dtype=float)
    if ramps.ndim != 1 or ramps.size == 0 or np.any(~np.isfinite(ramps)) or np.any(ramps <= 0):
        raise ValueError("ramp_times must be a non-empty 1-D array of durations > 0 s")
    if not store_time >= 0:
        raise ValueError(f"store_time must be ≥ 0 s, got {store_time!r}")
    i, j = (device.index(p) for p in pair)
    if i == j:
        raise ValueError("pair must name two different atoms")
    sub = Device(waveguide=device.waveguide, atoms=[device.atoms[i], device.atoms[j]])
    start = np.array([float(np.ravel(a.frequency)[0]) for a in sub.atoms])
    stop = storage_frequencies(sub, (0, 1))
    wavelength = 2 * np.pi * sub.waveguide.phase_velocity / float(np.mean(stop))
    shifts = np.round(np.asarray(separations, dtype=float) / wavelength) * wavelength
    if shifts.ndim != 1 or shifts.size == 0 or np.any(shifts < 0):
        raise ValueError("separations must be a non-empty 1-D array of distances ≥ 0 m")
    moved = _moved(sub, 1, shifts)
    moved = Device(
        waveguide=moved.waveguide,
        atoms=[a.replace(points=_with_ramp_axis(a.points)) for a in moved.atoms],
    )  # batch (S, 1): separations × ramp times
    path = _cosine_ramp(start, stop, ramps)
    frame = float(np.mean(np.concatenate([start, stop])))
    c0 = np.array([1.0, -1.0]) / np.sqrt(2)
    t_end = float(np.max(ramps)) + store_time
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonMarkovianWarning)
        exact = single_excitation(moved, c0, [0.0, t_end], path, frame_frequency=frame)
    c = exact.amplitudes[..., -1, :]  # (S, R, 2)
    markov = _markov_path(moved, start, stop, ramps, c0, t_end)
    return xr.Dataset(
        {
            "bell_fidelity_optimized": (
                ("separation", "ramp_time"),
                0.5 * (np.abs(c[..., 0]) + np.abs(c[..., 1])) ** 2,
                {"units": "1", "long_name": "Bell fidelity to Ψ⁻ up to local Z, with delays"},
            ),
            "markov_bell_fidelity_optimized": (
                ("separation", "ramp_time"),
                0.5 * (np.abs(markov[..., 0]) + np.abs(markov[..., 1])) ** 2,
                {"units": "1", "long_name": "the same, delays neglected (Markov)"},
            ),
            "excitation": (
                ("separation", "ramp_time"),
                np.sum(np.abs(c) ** 2, axis=-1),
                {"units": "1", "long_name": "excitation left in the atoms, with delays"},
            ),
            "error": (
                ("separation", "ramp_time"),
                np.broadcast_to(exact.error, c.shape[:-1]),
                {"units": "1", "long_name": "estimated error of the amplitudes"},
            ),
        },
        coords={
            "separation": ("separation", shifts, {"units": "m"}),
            "ramp_time": ("ramp_time", ramps * 1e9, {"units": "ns"}),
        },
        attrs={
            "start_frequencies_ghz": [float(f / GHz) for f in start],
            "storage_frequencies_ghz": [float(f / GHz) for f in stop],
            "final_time_us": t_end / us,
            "ramp": "cosine, both atoms together, then storage until final_time_us",
        },
    )


def summary_lines(study: DistanceStudy, at: Sequence[float] = (0.5, 1.0, 2.0)) -> list[str]:
    """A few plain-text lines: fidelity after storage at some Γτ, with and without delays."""
    ds = study.dataset
    end = ds.time.values[-1]
    lines = [
        f"{study.device_name}: Ψ⁻ stored at "
        + ", ".join(f"{f / GHz:.4f} GHz" for f in study.storage_frequencies)
        + f" for {end:.2g} µs"
    ]
    for target in at:
        k = int(np.argmin(np.abs(ds.Gamma_tau.values - target)))
        row = ds.isel(separation=k)
        lines.append(
            f"  Γτ = {float(row.Gamma_tau):.2f} (B {float(row.separation):.2f} m further): "
            f"F = {float(row.bell_fidelity_optimized[-1]):.3f} with delays, "
            f"{float(row.markov_bell_fidelity_optimized[-1]):.3f} Markov; "
            f"trapped {float(row.trapped_bell_fidelity_optimized):.3f}"
        )
    return lines
