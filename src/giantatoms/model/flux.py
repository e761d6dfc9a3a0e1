"""Flux tuning of a transmon with a SQUID loop (asymmetric SQUID of Koch et al. 2007).

The two junctions of the SQUID, E_J1 and E_J2, act as one junction whose energy depends on the
flux Φ threading the loop (Koch et al., PRA 76, 042319 (2007), eq. 2.18):

    E_J(Φ) = E_JΣ |cos πΦ′| √(1 + d² tan² πΦ′) = E_JΣ √(cos² πΦ′ + d² sin² πΦ′),

with E_JΣ = E_J1 + E_J2, the asymmetry d = (E_J1 − E_J2)/E_JΣ ∈ [0, 1) and the reduced flux
Φ′ = (Φ − Φ_offset)/Φ_period (Φ_period = Φ₀ when the flux is given in flux quanta). The second
form is used throughout: it is the same function without the 0·∞ of the first at Φ′ = ½.

In the transmon regime (E_J ≫ E_C, ħ = 1, angular units) ω₀₁ ≈ √(8E_J E_C) − E_C with the
charging energy E_C = −α, so with ω_max = ω(Φ_offset):

    ω(Φ) = (ω_max + E_C) · [E_J(Φ)/E_JΣ]^{1/2} − E_C.

The maximum ω_max sits at Φ′ ∈ ℤ (the upper sweet spot), the minimum
ω_min = (ω_max + E_C)√d − E_C at Φ′ ∈ ℤ + ½ (the lower sweet spot, only for d > 0). For a
symmetric SQUID (d = 0) the formula reaches −E_C at half a period, where the transmon
approximation has long failed (E_J → 0); frequencies ≤ 0 are treated as unreachable.

Units: frequencies and the anharmonicity in rad/s; flux in any unit, the same for ``flux``,
``flux_offset``, ``flux_period`` and flux-noise amplitudes (flux quanta Φ₀ by default).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import choice, real_array
from giantatoms.model.device import _arrays_equal
from giantatoms.units import MHz

__all__ = ["TunableTransmon"]

#: Relative tolerance (of ω_max + E_C) by which a requested frequency may lie outside the
#: reachable range and still be accepted (it is then clipped to the edge).
RANGE_TOLERANCE = 1e-12

_OWNER = "TunableTransmon"
_BRANCHES = ("positive", "negative")


@dataclass(frozen=True, eq=False)
class TunableTransmon:
    """A flux-tunable transmon: frequency against flux through its SQUID loop.

    All parameters may be arrays; they broadcast against each other and against the flux or
    frequency passed to the methods, whose results carry the broadcast batch shape.

    Parameters
    ----------
    max_frequency : array_like, rad/s, > 0
        ω_max, the g→e frequency at the upper sweet spot Φ = ``flux_offset``.
    anharmonicity : array_like, rad/s, ≤ 0
        α = ω₁₂ − ω₀₁ (negative for a transmon); the charging energy is E_C = −α. Default
        −2π × 200 MHz (the reconstructed device, PHYSICS.md §1.1).
    asymmetry : array_like, in [0, 1)
        Junction asymmetry d = (E_J1 − E_J2)/(E_J1 + E_J2); 0 is a symmetric SQUID.
    flux_offset : array_like, flux units
        Flux at which the frequency is maximal (a residual offset of the flux line).
    flux_period : array_like, flux units, > 0
        One flux quantum in the units of ``flux``; 1 means flux in units of Φ₀.

    Notes
    -----
    ω(Φ) = (ω_max + E_C)·(cos² πΦ′ + d² sin² πΦ′)^{1/4} − E_C with
    Φ′ = (Φ − flux_offset)/flux_period and E_C = −α (Koch et al. 2007; module docstring).
    """

    max_frequency: ArrayLike
    anharmonicity: ArrayLike = -200.0 * MHz
    asymmetry: ArrayLike = 0.0
    flux_offset: ArrayLike = 0.0
    flux_period: ArrayLike = 1.0

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(
            self,
            "max_frequency",
            real_array(
                self.max_frequency, "max_frequency", owner=_OWNER, minimum=0, strict_minimum=True
            ),
        )
        s(
            self,
            "anharmonicity",
            real_array(self.anharmonicity, "anharmonicity", owner=_OWNER, maximum=0),
        )
        asymmetry = real_array(self.asymmetry, "asymmetry", owner=_OWNER, minimum=0)
        if np.any(asymmetry >= 1):
            raise ValueError(
                f"{_OWNER}: asymmetry must be in [0, 1) (d = (E_J1 − E_J2)/(E_J1 + E_J2)), "
                f"got {np.ravel(asymmetry[asymmetry >= 1])[0]:g}"
            )
        s(self, "asymmetry", asymmetry)
        s(self, "flux_offset", real_array(self.flux_offset, "flux_offset", owner=_OWNER))
        s(
            self,
            "flux_period",
            real_array(
                self.flux_period, "flux_period", owner=_OWNER, minimum=0, strict_minimum=True
            ),
        )
        try:
            _ = self.batch_shape
        except ValueError:
            shapes = {f: np.shape(getattr(self, f)) for f in self._fields()}
            raise ValueError(f"{_OWNER}: parameter shapes do not broadcast: {shapes}") from None

    @staticmethod
    def _fields() -> tuple[str, ...]:
        return ("max_frequency", "anharmonicity", "asymmetry", "flux_offset", "flux_period")

    # ---------------------------------------------------------------------------------------
    # Derived parameters
    # ---------------------------------------------------------------------------------------

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast shape of the parameters."""
        return np.broadcast_shapes(*(np.shape(getattr(self, f)) for f in self._fields()))

    @property
    def charging_energy(self) -> NDArray[np.float64]:
        """E_C = −α in rad/s (ħ = 1)."""
        return -np.asarray(self.anharmonicity, dtype=float)

    @property
    def minimum_frequency(self) -> NDArray[np.float64]:
        """ω_min = (ω_max + E_C)√d − E_C in rad/s, at half a period from the offset.

        This is the model's value; for a (nearly) symmetric SQUID it is ≤ 0, i.e. outside the
        transmon regime, and every frequency in (0, ω_max] is reachable.
        """
        scale = self.max_frequency + self.charging_energy
        return scale * np.sqrt(self.asymmetry) - self.charging_energy

    @property
    def reachable_range(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(lowest, highest) reachable frequency in rad/s: (max(ω_min, 0), ω_max)."""
        return np.maximum(self.minimum_frequency, 0.0), np.asarray(self.max_frequency, float)

    def replace(self, **changes: Any) -> TunableTransmon:
        """Return a copy with some parameters changed (validated again)."""
        return replace(self, **changes)

    @classmethod
    def from_frequency_range(
        cls,
        max_frequency: ArrayLike,
        min_frequency: ArrayLike,
        anharmonicity: ArrayLike = -200.0 * MHz,
        *,
        flux_offset: ArrayLike = 0.0,
        flux_period: ArrayLike = 1.0,
    ) -> TunableTransmon:
        """The transmon whose asymmetric SQUID tunes between two given sweet spots.

        Parameters
        ----------
        max_frequency, min_frequency : array_like, rad/s
            Upper and lower sweet-spot frequencies, 0 < ω_min < ω_max.
        anharmonicity : array_like, rad/s, ≤ 0
        flux_offset, flux_period : array_like, flux units

        Returns
        -------
        TunableTransmon
            With asymmetry d = [(ω_min + E_C)/(ω_max + E_C)]².
        """
        high = real_array(max_frequency, "max_frequency", owner=_OWNER)
        low = real_array(
            min_frequency, "min_frequency", owner=_OWNER, minimum=0, strict_minimum=True
        )
        if np.any(low >= high):
            raise ValueError(
                f"{_OWNER}: min_frequency must be < max_frequency, got min_frequency = "
                f"{np.ravel(low)[0]:g} rad/s ≥ max_frequency = {np.ravel(high)[0]:g} rad/s"
            )
        ec = -real_array(anharmonicity, "anharmonicity", owner=_OWNER, maximum=0)
        return cls(
            max_frequency=high,
            anharmonicity=-ec,
            asymmetry=((low + ec) / (high + ec)) ** 2,
            flux_offset=flux_offset,
            flux_period=flux_period,
        )

    # ---------------------------------------------------------------------------------------
    # Frequency against flux
    # ---------------------------------------------------------------------------------------

    def _phase(self, flux: ArrayLike) -> NDArray[np.float64]:
        """Reduced phase πΦ′ = π(Φ − offset)/period."""
        phi = real_array(flux, "flux")
        return np.pi * (phi - self.flux_offset) / self.flux_period

    def _josephson_ratio_squared(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """[E_J(Φ)/E_JΣ]² = cos² x + d² sin² x."""
        return np.cos(x) ** 2 + self.asymmetry**2 * np.sin(x) ** 2

    def frequency(self, flux: ArrayLike) -> NDArray[np.float64]:
        """Transmon g→e frequency at the given flux.

        Parameters
        ----------
        flux : array_like, flux units, shape (...)

        Returns
        -------
        ndarray, rad/s, shape broadcast(flux, batch_shape)
            ω(Φ) = (ω_max + E_C)·(cos² πΦ′ + d² sin² πΦ′)^{1/4} − E_C.
        """
        ratio = self._josephson_ratio_squared(self._phase(flux)) ** 0.25
        return (self.max_frequency + self.charging_energy) * ratio - self.charging_energy

    def sensitivity(self, flux: ArrayLike) -> NDArray[np.float64]:
        """Flux sensitivity dω/dΦ, analytic.

        With g = cos² x + d² sin² x and x = πΦ′,

            dω/dΦ = −(ω_max + E_C)·π(1 − d²) sin 2x / (4 Φ_period g^{3/4}).

        It vanishes at both sweet spots (for d > 0) and diverges at half a period of a
        symmetric SQUID, where ω ∝ |cos πΦ′|^{1/2} has a cusp.

        Parameters
        ----------
        flux : array_like, flux units, shape (...)

        Returns
        -------
        ndarray, rad/s per flux unit, shape broadcast(flux, batch_shape)
        """
        x = self._phase(flux)
        g = self._josephson_ratio_squared(x)
        scale = self.max_frequency + self.charging_energy
        with np.errstate(divide="ignore", invalid="ignore"):
            return (
                -scale
                * np.pi
                * (1.0 - self.asymmetry**2)
                * np.sin(2.0 * x)
                / (4.0 * self.flux_period * g**0.75)
            )

    def frequency_noise(self, flux: ArrayLike, flux_noise_rms: ArrayLike) -> NDArray[np.float64]:
        """Rms frequency fluctuation caused by quasi-static flux noise, to first order.

        σ_ω = |dω/dΦ|·σ_Φ. This is the ``frequency_noise`` expected by
        :func:`giantatoms.protocols.quasi_static_average` and
        :func:`giantatoms.measure.coherence.ramsey_experiment`. At a sweet spot the first-order term
        vanishes and the (non-Gaussian) second-order shift ½ ω'' σ_Φ² dominates; it is not
        included.

        Parameters
        ----------
        flux : array_like, flux units, shape (...)
            Operating point.
        flux_noise_rms : array_like, flux units, ≥ 0
            Standard deviation σ_Φ of the quasi-static flux offset (e.g. a few µΦ₀ integrated
            over the experiment's bandwidth); broadcasts against ``flux``.

        Returns
        -------
        ndarray, rad/s, shape broadcast(flux, flux_noise_rms, batch_shape)
        """
        sigma = real_array(flux_noise_rms, "flux_noise_rms", minimum=0)
        return np.abs(self.sensitivity(flux)) * sigma

    def flux_for_frequency(
        self, frequency: ArrayLike, branch: str = "positive"
    ) -> NDArray[np.float64]:
        """Flux at which the transmon has the given frequency (closed-form inverse).

        From (ω + E_C)/(ω_max + E_C) = g^{1/4} with g = 1 − (1 − d²) sin² x:
        x = arctan2(√(1 − g), √(g − d²)) ∈ [0, π/2], which is well conditioned at both ends.

        Parameters
        ----------
        frequency : array_like, rad/s, shape (...)
            Target g→e frequencies, in the reachable range (max(ω_min, 0), ω_max].
        branch : {"positive", "negative"}
            Which of the two solutions within the period centred on ``flux_offset``:
            Φ ∈ [offset, offset + period/2] (``"positive"``) or
            Φ ∈ [offset − period/2, offset] (``"negative"``). Add whole periods as needed.

        Returns
        -------
        ndarray, flux units, shape broadcast(frequency, batch_shape)

        Raises
        ------
        ValueError
            When a frequency is outside the reachable range (the message gives the range),
            or ``branch`` is not one of the two names.
        """
        side = choice(branch, "branch", _BRANCHES, owner=_OWNER)
        omega = real_array(frequency, "frequency")
        ec = self.charging_energy
        scale = self.max_frequency + ec
        low, high = self.reachable_range
        slack = RANGE_TOLERANCE * scale
        bad = (omega <= 0) | (omega < low - slack) | (omega > high + slack)
        if np.any(bad):
            value = float(np.ravel(np.broadcast_to(omega, bad.shape)[bad])[0])
            lo = float(np.ravel(np.broadcast_to(low, bad.shape)[bad])[0])
            hi = float(np.ravel(np.broadcast_to(high, bad.shape)[bad])[0])
            raise ValueError(
                f"{_OWNER}: frequency {value:.6g} rad/s ({value / (2e9 * np.pi):.6g} GHz) is "
                f"outside the reachable range [ω_min, ω_max] = [{lo:.6g}, {hi:.6g}] rad/s "
                f"([{lo / (2e9 * np.pi):.6g}, {hi / (2e9 * np.pi):.6g}] GHz)"
                + (" (frequencies must be > 0)" if value <= 0 else "")
            )
        d2 = self.asymmetry**2
        g = np.clip(((omega + ec) / scale) ** 4, d2, 1.0)
        x = np.arctan2(np.sqrt(1.0 - g), np.sqrt(g - d2))
        sign = 1.0 if side == "positive" else -1.0
        return self.flux_offset + sign * self.flux_period * x / np.pi

    __eq__ = _arrays_equal
