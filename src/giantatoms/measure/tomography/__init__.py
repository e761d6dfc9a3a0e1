"""Two-qubit state tomography as the lab does it: settings, readout, counts, reconstruction.

The measurement chain modelled here (PHYSICS.md §1, step 5):

1. the atoms carry local Z phases φ_j acquired while they moved, relative to the reporting
   frame — the phases :attr:`giantatoms.ProtocolResult.local_phases` reports. The lab measures
   each qubit in its own rotating frame, i.e. the state U_φ ρ U_φ† with
   U_φ = exp(+i Σ_j φ_j n_j) (n_j = b_j†b_j), where ρ is the reporting-frame state (for
   ``run_protocol``: ``frame="atoms"`` gives U_φ ρ U_φ† of ``frame="drive"``); the analysis
   undoes U_φ in software;
2. each qubit gets a pre-rotation R (a setting names one per qubit) acting on g–e only;
3. optionally each qubit relaxes during the readout window (amplitude damping, see
   :class:`ReadoutModel`);
4. a projective measurement of g versus "not g" on each qubit (a transmon's f level reads as e);
5. the joint outcome (gg, ge, eg, ee) is mis-assigned by the 4×4 assignment matrix A;
6. a finite number of shots per setting gives multinomial counts.

Conventions
-----------
* Basis and outcome order gg, ge, eg, ee: the first qubit of the pair is the most significant
  factor ("g" = 0, "e" = 1), as in :mod:`giantatoms.measure.metrics`.
* Pauli matrices in the basis (|g⟩, |e⟩): σ_z = diag(1, −1) (so |g⟩ is the +1 eigenstate, as
  QuTiP's ``basis(2, 0)``), σ_x = [[0, 1], [1, 0]], σ_y = [[0, −i], [i, 0]]; rotations
  R_a(θ) = exp(−iθσ_a/2). Outcome g of a setting means eigenvalue +1 of the measured axis.
* Pauli settings (:data:`SETTINGS_PAULI`, e.g. ``"XY"``): each letter is the measured axis of
  that qubit, realised by the pre-rotation X → R_y(−π/2) (``"mY90"``), Y → R_x(+π/2)
  (``"X90"``), Z → identity (``"I"``).
* Gate settings (:data:`SETTINGS_CARDINAL`, e.g. ``"X90:mY90"``): one pre-rotation per qubit
  from ``I`` (+Z), ``X180`` = R_x(π) (−Z, i.e. Z with swapped outcomes), ``X90`` = R_x(π/2)
  (+Y), ``mX90`` = R_x(−π/2) (−Y), ``Y90`` = R_y(π/2) (−X), ``mY90`` = R_y(−π/2) (+X),
  joined by ``":"`` (first qubit first). ``"-X90"`` is accepted for ``"mX90"``. The 36
  combinations measure every signed axis pair, an over-complete set.

Reconstruction (:func:`reconstruct`) offers least-squares linear inversion, its projection on
the physical states (Smolin, Gambetta & Smith, PRL 108, 070502 (2012)) and maximum likelihood
by an accelerated projected gradient with restart (Shang, Zhang & Ng, PRA 95, 062336 (2017)),
all batched. :func:`bell_fidelity_with_errors` adds the parametric bootstrap that turns counts
into the "0.89 ± 0.02" of the paper.
"""

from giantatoms.measure.tomography._bootstrap import BellEstimate, bell_fidelity_with_errors
from giantatoms.measure.tomography._data import TomographyData
from giantatoms.measure.tomography._probabilities import (
    measurement_operators,
    outcome_probabilities,
)
from giantatoms.measure.tomography._readout import ReadoutModel
from giantatoms.measure.tomography._reconstruction import reconstruct
from giantatoms.measure.tomography._results import TomographyResult
from giantatoms.measure.tomography._settings import (
    OUTCOMES,
    PRE_ROTATIONS,
    SETTINGS_CARDINAL,
    SETTINGS_PAULI,
    pre_rotations,
)
from giantatoms.measure.tomography._simulation import simulate_counts

__all__ = [
    "OUTCOMES",
    "PRE_ROTATIONS",
    "SETTINGS_CARDINAL",
    "SETTINGS_PAULI",
    "BellEstimate",
    "ReadoutModel",
    "TomographyData",
    "TomographyResult",
    "bell_fidelity_with_errors",
    "measurement_operators",
    "outcome_probabilities",
    "pre_rotations",
    "reconstruct",
    "simulate_counts",
]
