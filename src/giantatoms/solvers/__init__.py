"""Layer 2, the solvers: what a master equation does.

Liouvillians (:mod:`.liouvillian`), steady states (:mod:`.steady_state`), the Liouvillian gap
(:mod:`.gap`) and time evolution (:mod:`.evolution`). New solvers (delays, trajectories,
cumulants) go here. Imports only the model layer and the ground floor.
"""
