"""Tests of the tomography settings: named sets, canonical names, pre-rotations."""

from __future__ import annotations

import numpy as np
import pytest

from giantatoms.measure.tomography import (
    PRE_ROTATIONS,
    SETTINGS_CARDINAL,
    SETTINGS_PAULI,
    TomographyData,
    pre_rotations,
)

from tests.measure.tomography._states import SX, SY, SZ


def test_setting_sets_and_canonical_names():
    assert len(SETTINGS_PAULI) == 9 and SETTINGS_PAULI[0] == "XX" and SETTINGS_PAULI[-1] == "ZZ"
    assert len(SETTINGS_CARDINAL) == 36 and len(set(SETTINGS_CARDINAL)) == 36
    data = TomographyData.from_arrays(["xy", "-x90:i", "Y90:mY90"], np.ones((3, 4), dtype=int))
    assert data.settings == ("XY", "mX90:I", "Y90:mY90")


# Measured axis (Bloch vector of outcome g) of each single-qubit pre-rotation.
AXES = {"I": SZ, "X180": -SZ, "X90": SY, "mX90": -SY, "Y90": -SX, "mY90": SX}


@pytest.mark.parametrize("gate", PRE_ROTATIONS)
def test_pre_rotation_measures_documented_axis(gate):
    u = pre_rotations(f"{gate}:I")[0]
    assert np.allclose(u.conj().T @ SZ @ u, AXES[gate], atol=1e-14)


@pytest.mark.parametrize(("letter", "axis"), [("X", SX), ("Y", SY), ("Z", SZ)])
def test_pauli_letters_measure_their_axis(letter, axis):
    u_first, u_second = pre_rotations(letter + letter)
    for u in (u_first, u_second):
        assert np.allclose(u.conj().T @ SZ @ u, axis, atol=1e-14)
