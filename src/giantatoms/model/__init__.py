"""Layer 1, the model: what the chip is and its master equation.

The parts of a chip (:mod:`.elements`: waveguide, atoms, drives) and the device
(:mod:`.device`), device files and packaged presets (:mod:`.io`, :mod:`.presets`), couplings
through the waveguide and operating points (:mod:`.couplings`), the flux-tunable transmon
(:mod:`.flux`), operators (:mod:`.operators`) and the batched Lindblad master equation
(:mod:`.lindblad`). Imports only the ground floor (:mod:`giantatoms.units`,
:mod:`giantatoms._validation`) from outside.
"""
