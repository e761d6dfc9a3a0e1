"""Layer 1, the model: what the chip is and its master equation.

Device description (:mod:`.device`: waveguide, atoms, drives), device files and packaged
presets (:mod:`.io`, :mod:`.presets`), couplings through the waveguide and operating points
(:mod:`.couplings`), the flux-tunable transmon (:mod:`.flux`), operators (:mod:`.operators`)
and the batched Lindblad master equation (:mod:`.lindblad`, assembled by :mod:`._builder`).
Imports only :mod:`giantatoms.units` and :mod:`giantatoms._validation` from outside.
"""
