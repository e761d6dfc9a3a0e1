"""Fit measured waveguide spectroscopy (complex S21 / S11) with line shapes or the device model.

Two levels of model (PHYSICS.md §7):

* quick looks — one resonance in transmission, :func:`fit_lorentzian`
  (t = 1 − (Γ/2)/(Γ₂ − iΔ)) and :func:`fit_fano` (the same with a complex coupling, the
  impedance-mismatch angle θ of the "diameter correction" method);
* parameter extraction — :func:`fit_device` evaluates :func:`giantatoms.scattering` (linear
  response) for a :class:`~giantatoms.model.device.Device` whose named quantities float: atom
  frequencies, per-point rates, point spacing or phase, intrinsic loss, dephasing, chirality,
  phase velocity.

Every model is multiplied by a complex background per trace (:class:`Background`: amplitude,
phase, cable delay, optional linear amplitude slope). Fits minimise the stacked real and
imaginary residuals weighted by the noise σ (``scipy.optimize.least_squares``, bounded), with a
Jacobian from central differences evaluated as one batched model call. A :class:`FitResult`
reports values, standard errors from the covariance (JᵀJ)⁻¹ (scaled by the residual variance when
σ is not given), correlations, χ², and parametric or residual bootstrap errors on request.

The loaders (:meth:`SpectroscopyData.from_arrays`, ``from_csv``, ``from_touchstone``,
``from_scattering``) never drop data silently: points out of frequency order are sorted and
exactly repeated rows dropped with a :class:`UserWarning` that counts them, a frequency repeated
with different data is refused, and bad files give one-line errors naming the file. The fits
refuse traces with nothing to fit (all zero, constant, no feature above the noise), and a fit
whose result is not meaningful (singular covariance, line outside the band or wider than it)
has ``success`` False with the ``reason``.

Sign convention
---------------
Network analysers and Touchstone files use the engineering convention (time dependence
e^{+jωt}: a cable of delay τ transmits e^{−jωτ}); the package's model uses the physics
convention (e^{−iωt}: PHYSICS.md §2, propagation e^{+ikx}). The two are complex conjugates of
each other. :class:`SpectroscopyData` records which one its arrays use (``convention``) and the
fits conjugate the model accordingly, so measured data are fitted as measured. The background is
defined in the engineering convention,

    B(ω) = A·[1 + s·(ω − ω_ref)]·exp(i[φ − (ω − ω_ref)·τ]),

so τ > 0 is a physical delay in either convention and φ is the phase a network analyser shows
at ω_ref (the centre of the data in fits).

Units: frequencies and rates in rad/s, times in s, lengths in m, angles in rad (use
:mod:`giantatoms.units` at the edges; ``summary()`` prints GHz, MHz (rates /2π), ns, µs, mm).
"""

from giantatoms.fitting._display import _display_unit as _display_unit
from giantatoms.fitting.background import (
    Background,
    estimate_cable_delay,
    remove_background,
    remove_cable_delay,
)
from giantatoms.fitting.data import SpectroscopyData
from giantatoms.fitting.device_fit import fit_device
from giantatoms.fitting.lineshapes import fit_fano, fit_lorentzian
from giantatoms.fitting.result import Bootstrap, FitResult

__all__ = [
    "Background",
    "Bootstrap",
    "FitResult",
    "SpectroscopyData",
    "estimate_cable_delay",
    "fit_device",
    "fit_fano",
    "fit_lorentzian",
    "remove_background",
    "remove_cable_delay",
]
