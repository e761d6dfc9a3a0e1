"""The parts of a chip: the waveguide, atoms with their coupling points, drives.

Frozen dataclasses that only hold validated parameters (internal units: rad/s for frequencies
and rates, seconds, metres, dBm for drive power). Any numeric parameter may be an array; arrays
broadcast against each other and become the leading batch shape of every result (per-point
parameters carry the points on their last axis). :class:`giantatoms.model.device.Device`
assembles them into a chip; everything in :mod:`giantatoms.model` that only needs the parts
imports them from here, so that the device can offer convenience methods (couplings, TOML)
without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import choice, real_array

__all__ = ["Atom", "Drive", "Waveguide"]


def _arrays_equal(a: object, b: object) -> bool:
    if type(a) is not type(b):
        return False
    for f in fields(a):  # type: ignore[arg-type]
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if x is None or y is None or not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return True


@dataclass(frozen=True, eq=False)
class Waveguide:
    """An open transmission-line waveguide with ports at both ends.

    Parameters
    ----------
    phase_velocity : float, m/s, > 0
        Phase velocity v of the guided mode (≈1.2e8 m/s for a CPW on silicon); k = ω/v.
    """

    phase_velocity: float = 1.2e8

    def __post_init__(self) -> None:
        v = real_array(
            self.phase_velocity, "phase_velocity", owner="Waveguide", minimum=0, strict_minimum=True
        )
        if v.ndim != 0:
            raise ValueError("Waveguide: phase_velocity must be a scalar (m/s)")
        object.__setattr__(self, "phase_velocity", float(v))

    def wavenumber(self, frequency: ArrayLike) -> NDArray[np.float64]:
        """K = ω/v in rad/m for angular ``frequency`` in rad/s (any shape)."""
        return np.asarray(frequency, dtype=float) / self.phase_velocity

    __eq__ = _arrays_equal


@dataclass(frozen=True, eq=False)
class Atom:
    """A (giant) transmon coupled to the waveguide at one or more points.

    Parameters
    ----------
    name : str
        Unique name within a device.
    frequency : array_like, rad/s, > 0
        Bare g→e transition frequency ω_j (no Lamb shift); an array adds a batch dimension.
    points : array_like, m, shape (..., n_points)
        Positions x_{j,n} of the coupling points along the waveguide, n_points ≥ 1.
    point_rates : array_like, rad/s, ≥ 0, scalar or shape (..., n_points)
        γ_{j,n}: the decay rate the atom would have through that point alone (both directions).
    right_fraction : array_like, in [0, 1], scalar or shape (..., n_points)
        Chirality of each point: γ^R = right_fraction·γ, γ^L = (1 − right_fraction)·γ.
        0.5 is the ordinary bidirectional coupling; 1 is cascaded (emits only to the right).
    levels : {2, 3}
        Transmon levels kept (g, e[, f]).
    anharmonicity : array_like, rad/s, optional
        α_j (negative for transmons); required when ``levels == 3``.
    t1 : array_like, s, > 0, optional
        Intrinsic (non-waveguide) energy relaxation time; ``None`` means no intrinsic loss.
        γ_nr = 1/t1 is the zero-temperature rate.
    t_phi : array_like, s, > 0, optional
        Pure-dephasing time, γ_φ = 1/t_phi. Give either ``t_phi`` or ``t2``.
    t2 : array_like, s, > 0, optional
        Intrinsic Ramsey time; γ_φ = 1/t2 − 1/(2 t1). Must satisfy t2 ≤ 2 t1.
    n_thermal : array_like, ≥ 0
        Thermal occupation of the intrinsic bath (upward rate γ_nr·n_th).
    """

    name: str
    frequency: ArrayLike
    points: ArrayLike
    point_rates: ArrayLike
    right_fraction: ArrayLike = 0.5
    levels: int = 2
    anharmonicity: ArrayLike | None = None
    t1: ArrayLike | None = None
    t_phi: ArrayLike | None = None
    t2: ArrayLike | None = None
    n_thermal: ArrayLike = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"Atom: name must be a non-empty string, got {self.name!r}")
        owner = f"Atom {self.name!r}"
        s = object.__setattr__
        s(
            self,
            "frequency",
            real_array(self.frequency, "frequency", owner=owner, minimum=0, strict_minimum=True),
        )
        pts = real_array(self.points, "points", owner=owner)
        if pts.ndim == 0 or pts.shape[-1] == 0:
            raise ValueError(
                f"{owner}: points must list at least one position (m), got {self.points!r}"
            )
        s(self, "points", pts)
        rates = real_array(self.point_rates, "point_rates", owner=owner, minimum=0)
        fraction = real_array(
            self.right_fraction, "right_fraction", owner=owner, minimum=0, maximum=1
        )
        for arr, label in ((rates, "point_rates"), (fraction, "right_fraction")):
            if arr.ndim and arr.shape[-1] not in (1, pts.shape[-1]):
                raise ValueError(
                    f"{owner}: {label} must be a scalar or have one entry per point "
                    f"({pts.shape[-1]}), got shape {arr.shape}"
                )
        s(self, "point_rates", rates)
        s(self, "right_fraction", fraction)
        if isinstance(self.levels, bool) or self.levels not in (2, 3):
            raise ValueError(f"{owner}: levels must be 2 or 3, got {self.levels!r}")
        s(self, "levels", int(self.levels))
        if self.anharmonicity is None:
            if self.levels == 3:
                raise ValueError(f"{owner}: anharmonicity (rad/s) is required when levels=3")
        else:
            s(self, "anharmonicity", real_array(self.anharmonicity, "anharmonicity", owner=owner))
        for name in ("t1", "t_phi", "t2"):
            value = getattr(self, name)
            if value is not None:
                s(
                    self,
                    name,
                    real_array(
                        value, name, owner=owner, minimum=0, strict_minimum=True, allow_inf=True
                    ),
                )
        if self.t_phi is not None and self.t2 is not None:
            raise ValueError(f"{owner}: give either t_phi or t2, not both")
        s(self, "n_thermal", real_array(self.n_thermal, "n_thermal", owner=owner, minimum=0))
        if self.t2 is not None and np.any(
            1.0 / np.asarray(self.t2) - 0.5 * self.intrinsic_decay_rate
            < -1e-12 / np.asarray(self.t2)
        ):
            raise ValueError(f"{owner}: t2 must be ≤ 2·t1 (got t2={self.t2}, t1={self.t1})")

    @property
    def n_points(self) -> int:
        """Number of coupling points."""
        return int(np.shape(self.points)[-1])

    @property
    def intrinsic_decay_rate(self) -> NDArray[np.float64]:
        """γ_nr = 1/t1 in rad/s (0 when ``t1`` is None)."""
        if self.t1 is None:
            return np.asarray(0.0)
        return 1.0 / np.asarray(self.t1)

    @property
    def dephasing_rate(self) -> NDArray[np.float64]:
        """Pure-dephasing rate γ_φ in rad/s (coherences decay at γ_nr/2 + γ_φ)."""
        if self.t_phi is not None:
            return 1.0 / np.asarray(self.t_phi)
        if self.t2 is not None:
            return np.maximum(1.0 / np.asarray(self.t2) - 0.5 * self.intrinsic_decay_rate, 0.0)
        return np.asarray(0.0)

    @property
    def rates_per_point(self) -> NDArray[np.float64]:
        """γ_{j,n} broadcast to shape (..., n_points), rad/s."""
        return np.broadcast_to(
            self.point_rates, np.broadcast_shapes(np.shape(self.point_rates), np.shape(self.points))
        )

    @property
    def right_fraction_per_point(self) -> NDArray[np.float64]:
        """Right-going fraction of each point's rate, shape (..., n_points)."""
        return np.broadcast_to(
            self.right_fraction,
            np.broadcast_shapes(np.shape(self.right_fraction), np.shape(self.points)),
        )

    def replace(self, **changes: Any) -> Atom:
        """Return a copy with some parameters changed (validated again)."""
        return replace(self, **changes)

    __eq__ = _arrays_equal


@dataclass(frozen=True, eq=False)
class Drive:
    """A coherent tone sent into the waveguide.

    Parameters
    ----------
    frequency : array_like, rad/s, > 0
        Drive frequency ω_d; the master equation is written in the frame rotating at ω_d.
    power_dbm : array_like, dBm
        Power arriving at the chip (after attenuation); ``-inf`` switches the drive off.
    port : {"left", "right"}
        The input port. From the left the tone travels right and couples through the
        right-going form factors (PHYSICS.md §4).
    phase : array_like, rad
        Phase of the tone's amplitude α = √(P/ħω_d)·e^{i·phase}.
    """

    frequency: ArrayLike
    power_dbm: ArrayLike = -np.inf
    port: str = "left"
    phase: ArrayLike = 0.0

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(
            self,
            "frequency",
            real_array(self.frequency, "frequency", owner="Drive", minimum=0, strict_minimum=True),
        )
        power = real_array(self.power_dbm, "power_dbm", owner="Drive", allow_inf=True)
        if np.any(power == np.inf):
            raise ValueError("Drive: power_dbm must be finite or -inf (off), got +inf")
        s(self, "power_dbm", power)
        s(self, "port", choice(self.port, "port", ("left", "right"), owner="Drive"))
        s(self, "phase", real_array(self.phase, "phase", owner="Drive"))

    @property
    def photon_flux(self) -> NDArray[np.float64]:
        """|α|² = P/(ħω_d) in photons/s, with the broadcast shape of power and frequency."""
        from giantatoms.units import dbm_to_photon_flux

        return dbm_to_photon_flux(self.power_dbm, self.frequency)

    @property
    def amplitude(self) -> NDArray[np.complex128]:
        """Field amplitude α = √(photon flux)·e^{i·phase}, √(photons/s)."""
        return np.sqrt(self.photon_flux) * np.exp(1j * np.asarray(self.phase))

    __eq__ = _arrays_equal
