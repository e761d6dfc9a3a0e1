"""Layer 3, measurements: what the lab sees of a state or a device.

Metrics of states (:mod:`.metrics`), two-qubit tomography with readout (:mod:`.tomography`),
S-parameters (:mod:`.spectroscopy`) and T1 / Ramsey / echo experiments (:mod:`.coherence`).
Imports the solvers and the model, never protocols, sweeps or experiments.
"""
