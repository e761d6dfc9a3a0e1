"""Waveguide-mediated couplings of giant atoms (PHYSICS.md §3, §4).

For atoms (more generally: transitions) j, k with coupling points x_{j,n} and per-point rates
γ_{j,n} = γ^R_{j,n} + γ^L_{j,n},

    G_jk(ω) = Σ_{n,m} g(x_{j,n}, x_{k,m}),   g = 2√(γ^R γ^R′) e^{ikΔx}  (Δx = x − x′ > 0),
                                               2√(γ^L γ^L′) e^{−ikΔx} (Δx < 0),
                                               √(γ^R γ^R′) + √(γ^L γ^L′) (Δx = 0),

which is Σ √(γγ′) e^{ik|Δx|} for a bidirectional waveguide (γ^R = γ^L = γ/2). Its Hermitian
part is the decay (Γ) matrix and it factorises exactly over the two propagation channels,

    Γ_jk = w^R_j conj(w^R_k) + w^L_j conj(w^L_k),
    w^R_j = Σ_n √γ^R_{j,n} e^{+ikx_{j,n}},  w^L_j = Σ_n √γ^L_{j,n} e^{−ikx_{j,n}},

and the coherent part (i/4)(G† − G) holds the Lamb shifts (diagonal) and the exchange J
(off-diagonal). When atoms (or transitions) sit at different frequencies, each coupling point's
phase k_j x is taken with its own emitter's wavenumber (see :func:`coupling_matrix`). When all
frequencies are equal this is exactly the Kockum–Johansson–Nori / Soro–Kockum master equation;
when they differ, Γ stays positive semidefinite (an entry-by-entry evaluation at, say, the pair's
mean frequency would not guarantee it) and an atom at its decoherence-free point decouples from
every atom it does not interleave with.

Phase origin: the channel form factors, G and the drive amplitudes take every phase relative
to one point x₀, the mean of the atoms' coupling-point centres (:func:`device_origin`), i.e.
e^{ik_t(x − x₀)}. With emitters at different frequencies a phase e^{ik_t X} per emitter would
otherwise survive a translation of the whole chip by X (against the drive's common e^{ik_d X});
with x₀ the model is translation invariant.

PHYSICS.md's form factor u_j = Σ_n √γ_{j,n} e^{ikx_{j,n}} (absolute positions) equals
√2·w^R_j·e^{ikx₀} for a bidirectional waveguide. A tone from the left port with amplitude α (its
phase referenced at x₀) drives atom j with Ω_j = α·w^R_j(ω_d) (from the right: α·w^L_j(ω_d)),
i.e. |Ω_j| = |α|√(Γ_j/2) for a bidirectional waveguide.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms.model.elements import Atom, Drive

if TYPE_CHECKING:
    from giantatoms.model.device import Device

__all__ = [
    "Couplings",
    "EmitterGeometry",
    "OperatingPoint",
    "channel_form_factors",
    "correlation",
    "coupling_matrix",
    "couplings",
    "decoherence_free_frequencies",
    "drive_amplitudes",
    "entangling_operating_point",
    "perfect_correlation_frequencies",
]


@dataclass(frozen=True, eq=False)
class EmitterGeometry:
    """Coupling points of one emitter (an atom, or one transition of an atom).

    Attributes
    ----------
    positions : ndarray, m, shape (..., P)
    rates_right, rates_left : ndarray, rad/s, shape (..., P)
        γ^R and γ^L of each point.
    """

    positions: NDArray[np.float64]
    rates_right: NDArray[np.float64]
    rates_left: NDArray[np.float64]

    @classmethod
    def of(cls, atom: Atom) -> EmitterGeometry:
        """Geometry of an atom's coupling points."""
        rates = atom.rates_per_point
        fraction = atom.right_fraction_per_point
        shape = np.broadcast_shapes(np.shape(atom.points), rates.shape, fraction.shape)
        return cls(
            positions=np.broadcast_to(atom.points, shape),
            rates_right=np.broadcast_to(rates * fraction, shape),
            rates_left=np.broadcast_to(rates * (1.0 - fraction), shape),
        )


def channel_form_factors(
    geometries: Sequence[EmitterGeometry],
    frequencies: ArrayLike,
    phase_velocity: float,
    origin: ArrayLike | None = None,
) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    """Right- and left-channel form factors w^R, w^L of each emitter at its own frequency.

    Parameters
    ----------
    geometries : sequence of EmitterGeometry, length T
    frequencies : array_like, rad/s, shape (..., T)
    phase_velocity : float, m/s
    origin : array_like, m, optional
        Phase origin x₀ (default :func:`reference_position` of ``geometries``); phases are
        e^{±ik(x − x₀)}.

    Returns
    -------
    (ndarray, ndarray), complex, √(rad/s), shape (..., T) each
    """
    freqs = np.asarray(frequencies, dtype=float)
    x0 = reference_position(geometries) if origin is None else origin
    right, left = [], []
    for t, geo in enumerate(geometries):
        pr, pl = _point_amplitudes(geo, freqs[..., t], phase_velocity, x0)
        right.append(np.sum(pr, axis=-1))
        left.append(np.sum(pl, axis=-1))
    return _stack_emitters(right), _stack_emitters(left)


def reference_position(geometries: Sequence[EmitterGeometry]) -> NDArray[np.float64]:
    """Mean position of the emitters' coupling points, m (batch…): the phase origin.

    Phases e^{ik_t x} are taken relative to this point. A common origin for all emitters is
    what makes the model translation invariant when emitters sit at different frequencies
    (a phase e^{ik_t X} per emitter would otherwise not cancel against the drive's e^{ik_d X}).
    """
    centres = [np.mean(np.asarray(g.positions, dtype=float), axis=-1) for g in geometries]
    return np.mean(np.stack(np.broadcast_arrays(*centres)), axis=0)


def device_origin(device: Device) -> NDArray[np.float64]:
    """Phase origin of a device: the mean of its atoms' coupling-point centres, m (batch…)."""
    return reference_position([EmitterGeometry.of(a) for a in device.atoms])


def _point_amplitudes(
    geo: EmitterGeometry, frequency: NDArray, phase_velocity: float, origin: ArrayLike = 0.0
) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    """Per-point amplitudes √γ^R e^{+ik(x−x₀)} and √γ^L e^{−ik(x−x₀)}, shape (..., P)."""
    offset = np.asarray(geo.positions) - np.asarray(origin)[..., None]
    phase = np.exp(1j * (frequency / phase_velocity)[..., None] * offset)
    return np.sqrt(geo.rates_right) * phase, np.sqrt(geo.rates_left) * np.conj(phase)


def coupling_matrix(
    geometries: Sequence[EmitterGeometry],
    frequencies: ArrayLike,
    phase_velocity: float,
    origin: ArrayLike | None = None,
) -> NDArray[np.complex128]:
    """G_jk of PHYSICS.md §3 (chiral form), each point's phase taken at its emitter's frequency.

    The element of points x (of j) and x′ (of k) is 2 p^R_x conj(p^R_x′) when x > x′,
    2 p^L_x conj(p^L_x′) when x < x′ and p^R_x conj(p^R_x′) + p^L_x conj(p^L_x′) when x = x′,
    with p^R = √γ^R e^{ik_j(x − x₀)}, p^L = √γ^L e^{−ik_j(x − x₀)} (x₀ the common phase origin,
    ``origin``, by default :func:`reference_position`). At equal frequencies this is
    Σ √(γγ′) e^{ik|x − x′|}; at unequal ones the Hermitian part stays exactly the positive
    semidefinite w^R w^R† + w^L w^L†, and an emitter at a decoherence-free point decouples from
    every atom that does not interleave with it.

    Parameters
    ----------
    geometries : sequence of EmitterGeometry, length T
    frequencies : array_like, rad/s, shape (..., T)
    phase_velocity : float, m/s
    origin : array_like, m, optional
        Phase origin x₀ (default :func:`reference_position` of ``geometries``).

    Returns
    -------
    ndarray, complex, rad/s, shape (..., T, T)
    """
    freqs = np.asarray(frequencies, dtype=float)
    x0 = reference_position(geometries) if origin is None else origin
    amps = [
        _point_amplitudes(geo, freqs[..., t], phase_velocity, x0)
        for t, geo in enumerate(geometries)
    ]
    entries = {}
    for j, gj in enumerate(geometries):
        rj, lj = amps[j]
        for k, gk in enumerate(geometries):
            rk, lk = amps[k]
            dx = gj.positions[..., :, None] - gk.positions[..., None, :]
            right = rj[..., :, None] * np.conj(rk[..., None, :])
            left = lj[..., :, None] * np.conj(lk[..., None, :])
            term = np.where(dx > 0, 2 * right, np.where(dx < 0, 2 * left, right + left))
            entries[j, k] = np.sum(term, axis=(-2, -1))
    batch = np.broadcast_shapes(*(np.shape(x) for x in entries.values()))
    n = len(geometries)
    out = np.empty((*batch, n, n), dtype=complex)
    for (j, k), value in entries.items():
        out[..., j, k] = value
    return out


@dataclass(frozen=True, eq=False)
class Couplings:
    """Waveguide couplings of every atom's g→e transition at given frequencies.

    All arrays have the batch shape leading; n is the number of atoms, in device order.

    Attributes
    ----------
    frequencies : ndarray, rad/s, shape (..., n)
        Bare transition frequencies at which everything was evaluated.
    coupling_matrix : ndarray, complex, rad/s, shape (..., n, n)
        G_jk (PHYSICS.md §3).
    decay_matrix : ndarray, complex, rad/s, shape (..., n, n)
        Γ, Hermitian positive semidefinite; diagonal Γ_j, off-diagonal Γ_coll.
    exchange : ndarray, complex, rad/s, shape (..., n, n)
        J (zero diagonal); real for a bidirectional waveguide.
    lamb_shift : ndarray, rad/s, shape (..., n)
        δω_j = ½ Im G_jj.
    form_factors : ndarray, complex, √(rad/s), shape (..., n)
        u_j = Σ_n √γ_{j,n} e^{ikx_{j,n}} (absolute positions, PHYSICS.md §3.2).
    form_factors_right, form_factors_left : ndarray, complex, √(rad/s), shape (..., n)
        Channel form factors w^R_j, w^L_j (Γ = w^R w^R† + w^L w^L†), phases relative to the
        device's phase origin x₀ (:func:`device_origin`).
    atom_names : tuple of str
    """

    frequencies: NDArray[np.float64]
    coupling_matrix: NDArray[np.complex128]
    decay_matrix: NDArray[np.complex128]
    exchange: NDArray[np.complex128]
    lamb_shift: NDArray[np.float64]
    form_factors: NDArray[np.complex128]
    form_factors_right: NDArray[np.complex128]
    form_factors_left: NDArray[np.complex128]
    atom_names: tuple[str, ...]

    @property
    def decay_rates(self) -> NDArray[np.float64]:
        """Individual waveguide decay rates Γ_j (rad/s), shape (..., n)."""
        return np.real(np.diagonal(self.decay_matrix, axis1=-2, axis2=-1))

    @property
    def correlation(self) -> NDArray[np.float64]:
        """|Γ_jk|/√(Γ_jΓ_k), shape (..., n, n): 1 means perfectly correlated decay (NaN at Γ=0)."""
        rates = self.decay_rates
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.abs(self.decay_matrix) / np.sqrt(rates[..., :, None] * rates[..., None, :])


def _atom_frequencies(
    device: Device, frequency: ArrayLike | None, frequencies: ArrayLike | None
) -> NDArray[np.float64]:
    if frequency is not None and frequencies is not None:
        raise ValueError("give either frequency (common to all atoms) or frequencies, not both")
    if frequency is not None:
        f = np.asarray(frequency, dtype=float)[..., None] * np.ones(device.n_atoms)
    elif frequencies is not None:
        f = np.asarray(frequencies, dtype=float)
        if f.ndim == 0 or f.shape[-1] != device.n_atoms:
            raise ValueError(
                f"frequencies must have shape (..., {device.n_atoms}) (one per atom), got {f.shape}"
            )
    else:
        f = device.frequencies
    if np.any(~np.isfinite(f)) or np.any(f <= 0):
        raise ValueError("frequencies must be finite and > 0 rad/s")
    return f


def couplings(
    device: Device,
    *,
    frequency: ArrayLike | None = None,
    frequencies: ArrayLike | None = None,
) -> Couplings:
    """Couplings of all atoms of ``device`` (see :meth:`Device.couplings`)."""
    f = _atom_frequencies(device, frequency, frequencies)
    geos = [EmitterGeometry.of(a) for a in device.atoms]
    v = device.waveguide.phase_velocity
    x0 = reference_position(geos)
    g = coupling_matrix(geos, f, v, x0)
    wr, wl = channel_form_factors(geos, f, v, x0)
    u = _stack_emitters(
        [
            np.sum(
                np.sqrt(geo.rates_right + geo.rates_left)
                * np.exp(1j * (f[..., t] / v)[..., None] * geo.positions),
                axis=-1,
            )
            for t, geo in enumerate(geos)
        ]
    )
    batch = np.broadcast_shapes(f.shape, g.shape[:-1], wr.shape, u.shape)
    f, wr, wl, u = (np.broadcast_to(x, batch) for x in (f, wr, wl, u))
    g = np.broadcast_to(g, (*batch, batch[-1]))
    decay, coherent = split_coupling(g, wr, wl)
    lamb = np.real(np.diagonal(coherent, axis1=-2, axis2=-1)).copy()
    exchange = coherent.copy()
    idx = np.arange(batch[-1])
    exchange[..., idx, idx] = 0.0
    return Couplings(
        frequencies=f,
        coupling_matrix=g,
        decay_matrix=decay,
        exchange=exchange,
        lamb_shift=lamb,
        form_factors=u,
        form_factors_right=wr,
        form_factors_left=wl,
        atom_names=device.atom_names,
    )


def _stack_emitters(values: list[NDArray]) -> NDArray:
    return np.stack(np.broadcast_arrays(*values), axis=-1)


def split_coupling(
    g: NDArray[np.complex128], wr: NDArray[np.complex128], wl: NDArray[np.complex128]
) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    """Decay matrix Γ = w^R w^R† + w^L w^L† and coherent matrix (i/4)(G† − G).

    Parameters
    ----------
    g : ndarray, complex, rad/s, shape (..., T, T)
    wr, wl : ndarray, complex, √(rad/s), shape (..., T)

    Returns
    -------
    (ndarray, ndarray), complex, rad/s, shape (..., T, T) each
        Γ (Hermitian PSD) and the coherent matrix (Hermitian: Lamb shifts on the diagonal,
        exchange off it).
    """
    decay = wr[..., :, None] * np.conj(wr[..., None, :]) + wl[..., :, None] * np.conj(
        wl[..., None, :]
    )
    coherent = 0.25j * (np.conj(np.swapaxes(g, -1, -2)) - g)
    return decay, coherent


def drive_amplitudes(device: Device, drive: Drive) -> NDArray[np.complex128]:
    """Drive amplitudes Ω_j of a tone sent through the waveguide (PHYSICS.md §4).

    Ω_j = α·w^R_j(ω_d) from the left port, α·w^L_j(ω_d) from the right, with
    α = √(P/ħω_d)·e^{i·phase} the tone's amplitude at the device's phase origin
    (:func:`device_origin`); the drive term is Ω_j b_j† + h.c. (Rabi frequency 2|Ω_j|).

    Parameters
    ----------
    device : Device
    drive : Drive

    Returns
    -------
    ndarray, complex, rad/s, shape (..., n_atoms)
    """
    geos = [EmitterGeometry.of(a) for a in device.atoms]
    wd = np.asarray(drive.frequency)[..., None] * np.ones(device.n_atoms)
    wr, wl = channel_form_factors(geos, wd, device.waveguide.phase_velocity, device_origin(device))
    channel = wr if drive.port == "left" else wl
    return np.asarray(drive.amplitude)[..., None] * channel


def correlation(
    device: Device, pair: tuple[str | int, str | int], frequency: ArrayLike
) -> NDArray[np.float64]:
    """|Γ_coll|/√(Γ_AΓ_B) of a pair with both atoms at ``frequency`` (rad/s, any shape)."""
    i, j = (device.index(p) for p in pair)
    c = couplings(device, frequency=frequency)
    return c.correlation[..., i, j]


def _scalar_geometry(device: Device, atoms: Sequence[int]) -> None:
    for i in atoms:
        atom = device.atoms[i]
        if (
            np.ndim(atom.points) > 1
            or atom.rates_per_point.ndim > 1
            or (atom.right_fraction_per_point.ndim > 1)
        ):
            raise ValueError(
                f"Atom {atom.name!r}: this search needs one geometry, not a batch of points/rates"
            )


def _check_band(band: tuple[float, float]) -> tuple[float, float]:
    lo, hi = (float(x) for x in band)
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
        raise ValueError(f"band must be (low, high) in rad/s with 0 < low < high, got {band!r}")
    return lo, hi


def _minima(
    objective: Callable[[NDArray], NDArray],
    band: tuple[float, float],
    extent: float,
    phase_velocity: float,
) -> list[tuple[float, float]]:
    """Local minima (frequency, value) of a smooth function of ω on a band, refined."""
    from scipy.optimize import minimize_scalar

    lo, hi = band
    periods = (hi - lo) * max(extent, 1e-9) / (2 * np.pi * phase_velocity)
    n = int(min(2_000_000, 64 * periods + 257))
    grid = np.linspace(lo, hi, n)
    values = objective(grid)
    inner = np.flatnonzero((values[1:-1] <= values[:-2]) & (values[1:-1] < values[2:])) + 1
    found = []
    for i in inner:
        scalar = lambda w: float(objective(np.asarray(w)))  # noqa: E731
        if values[i] < min(values[i - 1], values[i + 1]):
            # Brent with a bracket and a tight relative tolerance: the bounded variant stops
            # at √ε relative, ~300 rad/s at 5 GHz.
            res = minimize_scalar(
                scalar, bracket=(grid[i - 1], grid[i], grid[i + 1]), method="brent", tol=1e-15
            )
        else:
            # No strict bracket: a kink midway between two equal grid values (|sin kd| of
            # small atoms) or a plateau within rounding. The bounded search needs none.
            res = minimize_scalar(
                scalar,
                bounds=(grid[i - 1], grid[i + 1]),
                method="bounded",
                options={"xatol": 1e-12 * abs(grid[i])},
            )
        if not grid[i - 1] <= res.x <= grid[i + 1]:  # pragma: no cover - defensive
            continue
        found.append((float(res.x), float(res.fun)))
    return found


def decoherence_free_frequencies(
    device: Device,
    atom: str | int,
    band: tuple[float, float],
    *,
    relative_tolerance: float = 1e-2,
) -> NDArray[np.float64]:
    """Frequencies in ``band`` where the atom's waveguide decay vanishes (DF points).

    The atom's coupling points interfere destructively: Γ_j(ω) = |w^R|² + |w^L|² has a local
    minimum that is at most ``relative_tolerance`` times the largest possible rate (Σ√γ_n)².
    For two equal points this is φ = (2m+1)π, ω = (2m+1)πv/Δx; unequal rates leave a residual
    (√γ₁ − √γ₂)² (PHYSICS.md §3.2), which counts as DF when within the tolerance.

    Parameters
    ----------
    device : Device
    atom : str or int
    band : (float, float), rad/s
    relative_tolerance : float

    Returns
    -------
    ndarray, rad/s, sorted
    """
    lo, hi = _check_band(band)
    i = device.index(atom)
    _scalar_geometry(device, [i])
    a = device.atoms[i]
    geo = [EmitterGeometry.of(a)]
    v = device.waveguide.phase_velocity
    scale = float(np.sum(np.sqrt(a.rates_per_point))) ** 2
    if scale == 0:
        raise ValueError(f"Atom {a.name!r} has no waveguide coupling (all point_rates are 0)")

    def rate(w: NDArray) -> NDArray:
        wr, wl = channel_form_factors(geo, np.asarray(w)[..., None], v)
        # √(Γ/scale): a V-shaped zero, located by the minimiser to ~xatol (a quadratic one
        # would only be found to ~√ε).
        return np.sqrt((np.abs(wr[..., 0]) ** 2 + np.abs(wl[..., 0]) ** 2) / scale)

    extent = float(np.ptp(a.points)) if a.n_points > 1 else 0.0
    if extent == 0.0:
        return np.empty(0)
    found = _minima(rate, (lo, hi), extent, v)
    return np.array(sorted(w for w, val in found if val**2 <= relative_tolerance))


def perfect_correlation_frequencies(
    device: Device,
    pair: tuple[str | int, str | int],
    band: tuple[float, float],
    *,
    tolerance: float = 1e-6,
    minimum_rate: float = 1e-3,
) -> NDArray[np.float64]:
    """Frequencies in ``band`` where a pair at equal frequency decays perfectly collectively.

    Perfect correlation means |Γ_coll|² = Γ_AΓ_B (a rank-one Γ for the pair: a dark state
    exists). For sequential atoms this is kD = nπ, where also J = 0 (PHYSICS.md §3.2).
    Points where either atom is (nearly) decoherence-free are excluded.

    Parameters
    ----------
    device : Device
    pair : (str or int, str or int)
    band : (float, float), rad/s
    tolerance : float
        Largest accepted 1 − |Γ_coll|²/(Γ_AΓ_B).
    minimum_rate : float
        Exclude points where min(Γ_A, Γ_B) < minimum_rate·(largest possible rate).

    Returns
    -------
    ndarray, rad/s, sorted
    """
    lo, hi = _check_band(band)
    i, j = (device.index(p) for p in pair)
    if i == j:
        raise ValueError("pair must name two different atoms")
    _scalar_geometry(device, [i, j])
    sub = type(device)(waveguide=device.waveguide, atoms=(device.atoms[i], device.atoms[j]))
    v = device.waveguide.phase_velocity
    scale = min(float(np.sum(np.sqrt(device.atoms[k].rates_per_point))) ** 2 for k in (i, j))

    def parts(w: NDArray) -> tuple[NDArray, NDArray]:
        c = couplings(sub, frequency=w)
        rates = c.decay_rates
        with np.errstate(divide="ignore", invalid="ignore"):
            deficit = 1.0 - np.abs(c.decay_matrix[..., 0, 1]) ** 2 / (rates[..., 0] * rates[..., 1])
        return np.sqrt(np.clip(np.nan_to_num(deficit, nan=1.0), 0, None)), np.min(rates, axis=-1)

    points = np.concatenate([np.ravel(sub.atoms[0].points), np.ravel(sub.atoms[1].points)])
    found = _minima(lambda w: parts(w)[0], (lo, hi), float(np.ptp(points)), v)
    keep = [
        w
        for w, val in found
        if val**2 <= tolerance and parts(np.asarray(w))[1] >= minimum_rate * scale
    ]
    return np.array(sorted(keep))


@dataclass(frozen=True, eq=False)
class OperatingPoint:
    """Where to put a pair of atoms and the drive to stabilise a dark (Bell-like) state.

    Attributes
    ----------
    frequencies : ndarray, rad/s, shape (..., n_atoms)
        Bare atom frequencies to set (atoms outside the pair keep theirs).
    drive_frequency : ndarray, rad/s, shape (...)
        ω_d: the mean Lamb-shifted pair frequency corrected by J cos θ (PHYSICS.md §6).
    dressed_frequencies : ndarray, rad/s, shape (..., n_atoms)
        ω̃_j = ω_j + δω_j; ω̃_A − ω_d = δ + J cos θ, ω̃_B − ω_d = −δ + J cos θ.
    lamb_shift : ndarray, rad/s, shape (..., n_atoms)
    detuning : ndarray, rad/s, shape (...)
        δ.
    correlation_frequency : float or ndarray, rad/s
        ω₀, where the pair's decay is perfectly correlated; the bare pair frequencies are
        ω₀ ± s with s chosen so that the dressed splitting is exactly 2δ (an array when one
        was given per batch point).
    correlation : ndarray, shape (...)
        |Γ_coll|/√(Γ_AΓ_B) at the operating point (1 is perfect).
    theta : ndarray, rad, shape (...)
        Phase of Γ_coll: the collective jump is ∝ σ_A + e^{iθ}σ_B.
    dark_state : str
        ``"psi-"`` when cos θ > 0 at every point, ``"psi+"`` when cos θ < 0 at every point
        (the Bell state the dark state tends to for weak drive); ``"mixed"`` when the batch
        contains both (use ``theta`` point by point).
    pair : (int, int)
    """

    frequencies: NDArray[np.float64]
    drive_frequency: NDArray[np.float64]
    dressed_frequencies: NDArray[np.float64]
    lamb_shift: NDArray[np.float64]
    detuning: NDArray[np.float64]
    correlation_frequency: float | NDArray[np.float64]
    correlation: NDArray[np.float64]
    theta: NDArray[np.float64]
    dark_state: str
    pair: tuple[int, int]

    def drive(self, power_dbm: ArrayLike, *, port: str = "left", phase: ArrayLike = 0.0) -> Drive:
        """A :class:`Drive` at this operating point's drive frequency."""
        return Drive(frequency=self.drive_frequency, power_dbm=power_dbm, port=port, phase=phase)


def _dark_state_name(theta: NDArray) -> str:
    cos = np.cos(theta)
    if np.all(cos > 0):
        return "psi-"
    if np.all(cos < 0):
        return "psi+"
    return "mixed"


def entangling_operating_point(
    device: Device,
    detuning: ArrayLike,
    *,
    pair: tuple[str | int, str | int] = (0, 1),
    correlation_frequency: float | None = None,
    band: tuple[float, float] | None = None,
) -> OperatingPoint:
    """Atom and drive frequencies that stabilise a pair's dark state for detuning δ.

    Puts the pair symmetrically about a perfect-correlation frequency ω₀ with Lamb-shifted
    (dressed) frequencies ω̃_A − ω̃_B = 2δ and places the drive at the dressed centre
    (corrected by J cos θ), as the pure-dark-state condition of PHYSICS.md §6 requires. A drive
    at the bare frequency misses the resonance by the Lamb shift (≈ γ), which is why this
    helper exists.

    Parameters
    ----------
    device : Device
    detuning : array_like, rad/s
        δ; an array gives a batch of operating points.
    pair : (str or int, str or int)
        The two atoms; the first gets +δ.
    correlation_frequency : float or array_like, rad/s, optional
        ω₀. By default the perfect-correlation frequency in ``band`` nearest the pair's mean
        bare frequency. An array gives one ω₀ per batch point (it broadcasts with
        ``detuning`` and the device's array parameters, e.g. swept geometries).
    band : (float, float), rad/s, optional
        Search band for ω₀; default ±5 % around the pair's mean frequency.

    Returns
    -------
    OperatingPoint
    """
    i, j = (device.index(p) for p in pair)
    if i == j:
        raise ValueError("pair must name two different atoms")
    delta = np.asarray(detuning, dtype=float)
    if not np.all(np.isfinite(delta)):
        raise ValueError("detuning must be finite (rad/s)")
    if correlation_frequency is None:
        centre = 0.5 * (device.atoms[i].frequency + device.atoms[j].frequency)
        if np.ndim(centre):
            raise ValueError("give correlation_frequency when the atoms' frequencies are arrays")
        band = band if band is not None else (0.95 * float(centre), 1.05 * float(centre))
        candidates = perfect_correlation_frequencies(device, (i, j), band)
        if candidates.size == 0:
            raise ValueError(
                f"no perfect-correlation frequency of atoms {device.atom_names[i]!r}, "
                f"{device.atom_names[j]!r} in band {band} rad/s; pass correlation_frequency"
            )
        w0 = float(candidates[np.argmin(np.abs(candidates - centre))])
    else:
        w0 = np.asarray(correlation_frequency, dtype=float)
        if not (np.all(np.isfinite(w0)) and np.all(w0 > 0)):
            raise ValueError(f"correlation_frequency must be > 0 rad/s, got {w0!r}")
        w0 = float(w0) if w0.ndim == 0 else w0
        delta = np.broadcast_to(delta, np.broadcast_shapes(delta.shape, np.shape(w0)))
    base = np.broadcast_to(device.frequencies, (*delta.shape, device.n_atoms)).copy()
    split = delta.copy()
    for _ in range(100):
        base[..., i], base[..., j] = w0 + split, w0 - split
        c = couplings(device, frequencies=base)
        new = delta - 0.5 * (c.lamb_shift[..., i] - c.lamb_shift[..., j])
        done = np.all(np.abs(new - split) <= 1e-12 * np.asarray(w0))
        split = new
        if done:
            break
    else:  # pragma: no cover - the map contracts by ~γτ ≪ 1 in the Markov regime
        raise RuntimeError("operating point did not converge: Lamb shifts vary too fast")
    base[..., i], base[..., j] = w0 + split, w0 - split
    c = couplings(device, frequencies=base)
    dressed = base + c.lamb_shift
    theta = np.angle(c.decay_matrix[..., i, j])
    j_cos = np.real(c.exchange[..., i, j] * np.exp(-1j * theta))
    drive_frequency = 0.5 * (dressed[..., i] + dressed[..., j]) - j_cos
    return OperatingPoint(
        frequencies=base,
        drive_frequency=drive_frequency,
        dressed_frequencies=dressed,
        lamb_shift=c.lamb_shift,
        detuning=delta,
        correlation_frequency=w0,
        correlation=c.correlation[..., i, j],
        theta=theta,
        dark_state=_dark_state_name(theta),
        pair=(i, j),
    )
