"""Setting up a fit: bad arguments (parameters, bounds, starting values, background
components, traces) and traces with nothing to fit are refused before any fit starts."""

from __future__ import annotations

import numpy as np
import pytest

from giantatoms.fitting import SpectroscopyData, fit_device, fit_fano, fit_lorentzian
from giantatoms.units import GHz, MHz

from tests.fitting.conftest import (
    BG_SMALL,
    GIANT,
    SIGMA,
    SMALL,
    W_SMALL,
    noise,
    small_atom_data,
)


def test_bad_fit_arguments():
    data = small_atom_data(0)
    with pytest.raises(ValueError, match=r"unknown parameter 'atoms\.A\.colour'"):
        fit_device(data, SMALL, ["atoms.A.colour"])
    with pytest.raises(ValueError, match="unknown atom 'Z'"):
        fit_device(data, SMALL, ["atoms.Z.frequency"])
    with pytest.raises(ValueError, match="unknown parameter 'frequency'"):
        fit_device(data, SMALL, ["frequency"])
    with pytest.raises(ValueError, match="single point"):
        fit_device(data, SMALL, ["atoms.Q.spacing"])
    with pytest.raises(ValueError, match="float only one of them"):
        fit_device(data, GIANT, ["atoms.A.spacing", "atoms.A.phase"])
    with pytest.raises(ValueError, match="float only one of them"):
        fit_device(data, GIANT, ["atoms.A.t1", "atoms.A.intrinsic_decay_rate"])
    with pytest.raises(ValueError, match="listed twice"):
        fit_device(data, SMALL, ["atoms.Q.frequency", "atoms.Q.frequency"])
    with pytest.raises(ValueError, match="has 1 points"):
        fit_device(data, SMALL, ["atoms.Q.point_rates[1]"])
    with pytest.raises(ValueError, match="no finite t1"):
        fit_device(data, GIANT.replace_atom("A", t1=None), ["atoms.A.t1"])
    with pytest.raises(ValueError, match=r"bounds\['atoms.Q.frequency'\] must satisfy low < high"):
        fit_device(
            data, SMALL, ["atoms.Q.frequency"], bounds={"atoms.Q.frequency": (6 * GHz, 4 * GHz)}
        )
    with pytest.raises(ValueError, match=r"bounds\['radiative_rate'\] must satisfy low < high"):
        fit_lorentzian(data, bounds={"radiative_rate": (3 * MHz, 1 * MHz)})
    with pytest.raises(ValueError, match="outside its bounds"):
        fit_lorentzian(data, bounds={"frequency": (4 * GHz, 4.5 * GHz)})
    with pytest.raises(ValueError, match="initial names unknown parameter 'width'"):
        fit_lorentzian(data, initial={"width": 1.0})
    with pytest.raises(ValueError, match="which is fixed"):
        fit_lorentzian(data, bounds={"s21.slope": (-1.0, 1.0)})
    with pytest.raises(ValueError, match="unknown vary_background entry"):
        fit_lorentzian(data, vary_background=("offset",))
    with pytest.raises(ValueError, match="traces"):
        fit_device(data, SMALL, ["atoms.Q.frequency"], traces=["s11"])
    with pytest.raises(ValueError, match="one parameter set"):
        fit_device(
            data, SMALL.replace_atom("Q", frequency=[5 * GHz, 5.1 * GHz]), ["atoms.Q.point_rates"]
        )
    reflection = SpectroscopyData(W_SMALL, s11=data.s21, convention="engineering")
    with pytest.raises(ValueError, match="no s21 trace"):
        fit_lorentzian(reflection)
    with pytest.raises(TypeError, match="device must be a Device"):
        fit_device(data, "sequential_pair", ["atoms.A.frequency"])
    with pytest.raises(ValueError, match="n must be an integer"):
        fit_lorentzian(data).bootstrap(1)


FLAT_TRACES = {
    "zero": (np.zeros(W_SMALL.size, dtype=complex), None, "zero at every point"),
    "constant": (np.full(W_SMALL.size, 0.8 - 0.3j), None, "constant"),
    "delay only": (BG_SMALL(W_SMALL), None, "constant"),
    "noise only": (
        BG_SMALL(W_SMALL) + noise(np.random.default_rng(5), W_SMALL.size),
        SIGMA,
        "featureless",
    ),
    "noise, σ unknown": (
        0.3 + noise(np.random.default_rng(6), W_SMALL.size),
        None,
        "featureless",
    ),
}


@pytest.mark.parametrize("case", list(FLAT_TRACES))
@pytest.mark.parametrize("fit", ["lorentzian", "fano", "device"])
def test_featureless_traces_are_refused(case, fit):
    s21, sigma, match = FLAT_TRACES[case]
    data = SpectroscopyData(W_SMALL, s21, convention="engineering", sigma=sigma)
    with pytest.raises(ValueError, match=f"s21 is {match}") as excinfo:
        if fit == "lorentzian":
            fit_lorentzian(data)
        elif fit == "fano":
            fit_fano(data)
        else:
            fit_device(data, SMALL, ["atoms.Q.frequency", "atoms.Q.point_rates"])
    assert "\n" not in str(excinfo.value)
