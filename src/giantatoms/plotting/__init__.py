"""Matplotlib figures of the quantities the experiment reports, in lab units.

Every function draws with matplotlib's object-oriented API into an ``ax`` (or ``axes``) you
pass, or into a new :class:`matplotlib.figure.Figure` it creates without pyplot (so it works
headless, with no backend selected), and returns the figure. Axis labels carry lab units:
frequencies f = ω/2π in GHz (axes) or MHz (rates, shifts, detunings), times in µs, powers in
dBm at the chip. Inputs use the package's internal units (rad/s, s) unless stated otherwise.

matplotlib is an optional dependency (``pip install 'giantatoms[plot]'``): it is imported
when a function is called, so ``import giantatoms`` works without it.

=====================================  ==========================================================
:func:`plot_rates`                     Γ_A, Γ_B, |Γ_AB|, J and Lamb shifts vs frequency, with the
                                       entangling (perfect-correlation) and DF points marked
:func:`plot_spectroscopy_map`          |S21| (or dB, phase) vs probe frequency and a swept x
:func:`plot_spectrum`                  |S21|², |S11|² vs probe frequency, with measured points
:func:`plot_fidelity_map`              steady-state fidelity vs drive power and detuning
:func:`plot_fidelity_vs_time`          fidelity during protocols (stay / move to DF / resonant)
:func:`plot_density_matrix`            Re ρ and Im ρ as 3D bars ("cityscape"), with a target
:func:`plot_distance`                  stored Bell fidelity vs the atoms' separation (Γτ), with
                                       and without propagation delays
:func:`save_figure`                    save, creating parent folders
=====================================  ==========================================================
"""

from giantatoms.plotting._common import save_figure
from giantatoms.plotting.distance import plot_distance
from giantatoms.plotting.dynamics import plot_fidelity_vs_time
from giantatoms.plotting.maps import plot_fidelity_map
from giantatoms.plotting.spectra import (
    SPECTROSCOPY_QUANTITIES,
    plot_line_fits,
    plot_rates,
    plot_spectroscopy_map,
    plot_spectrum,
)
from giantatoms.plotting.tomography import plot_density_matrix

__all__ = [
    "SPECTROSCOPY_QUANTITIES",
    "plot_density_matrix",
    "plot_distance",
    "plot_fidelity_map",
    "plot_fidelity_vs_time",
    "plot_line_fits",
    "plot_rates",
    "plot_spectroscopy_map",
    "plot_spectrum",
    "save_figure",
]
