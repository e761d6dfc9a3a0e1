"""Validation, derived properties, equality and immutability of the chip dataclasses."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from giantatoms.model.device import Atom, Device, Drive, Waveguide
from giantatoms.units import GHz, MHz, us


def make_atom(name: str = "A", **changes: object) -> Atom:
    params: dict[str, object] = {
        "name": name,
        "frequency": 4.6 * GHz,
        "points": [0.0, 84e-3],
        "point_rates": 2 * MHz,
    }
    params.update(changes)
    return Atom(**params)  # type: ignore[arg-type]


def make_device(**changes: object) -> Device:
    params: dict[str, object] = {
        "waveguide": Waveguide(1.2e8),
        "atoms": [make_atom("A"), make_atom("B", points=[104.3e-3, 188.3e-3])],
        "name": "pair",
    }
    params.update(changes)
    return Device(**params)  # type: ignore[arg-type]


# --- validation: every error names the parameter and the atom ---------------------------------

ATOM_ERRORS = [
    ({"point_rates": -1 * MHz}, ValueError, "point_rates"),
    ({"point_rates": [2 * MHz, -1.0]}, ValueError, "point_rates"),
    ({"point_rates": np.nan}, ValueError, "point_rates"),
    ({"frequency": np.nan}, ValueError, "frequency"),
    ({"frequency": 0.0}, ValueError, "frequency"),
    ({"frequency": -4.6 * GHz}, ValueError, "frequency"),
    ({"frequency": "fast"}, TypeError, "frequency"),
    ({"frequency": 1j}, TypeError, "frequency"),
    ({"points": []}, ValueError, "points"),
    ({"points": 0.0}, ValueError, "points"),
    ({"points": [0.0, np.inf]}, ValueError, "points"),
    ({"levels": 4}, ValueError, "levels"),
    ({"levels": True}, ValueError, "levels"),
    ({"levels": 3}, ValueError, "anharmonicity"),
    ({"t1": 30 * us, "t_phi": 10 * us, "t2": 20 * us}, ValueError, "t_phi"),
    ({"t1": -30 * us}, ValueError, "t1"),
    ({"t2": 0.0}, ValueError, "t2"),
    ({"right_fraction": 1.5}, ValueError, "right_fraction"),
    ({"right_fraction": -0.1}, ValueError, "right_fraction"),
    ({"right_fraction": [0.5, 0.5, 0.5]}, ValueError, "right_fraction"),
    ({"point_rates": [1.0, 2.0, 3.0]}, ValueError, "point_rates"),
    ({"n_thermal": -0.01}, ValueError, "n_thermal"),
]


@pytest.mark.parametrize(("changes", "error", "parameter"), ATOM_ERRORS)
def test_atom_validation_names_parameter_and_atom(changes, error, parameter):
    with pytest.raises(error, match=parameter) as info:
        make_atom("Bob", **changes)
    assert "'Bob'" in str(info.value)


@pytest.mark.parametrize("name", ["", "   ", None, 3])
def test_atom_name_must_be_nonempty_string(name):
    with pytest.raises(ValueError, match="name"):
        make_atom(name)


def test_t2_longer_than_twice_t1_is_rejected():
    with pytest.raises(ValueError, match="t2"):
        make_atom("A", t1=30 * us, t2=61 * us)


def test_t2_equal_to_twice_t1_is_allowed():
    atom = make_atom("A", t1=30 * us, t2=60 * us)
    assert atom.dephasing_rate == pytest.approx(0.0, abs=1e-9)


def test_device_rejects_duplicate_names_and_no_atoms():
    with pytest.raises(ValueError, match=r"unique.*'A'"):
        make_device(atoms=[make_atom("A"), make_atom("A")])
    with pytest.raises(ValueError, match="atoms"):
        make_device(atoms=[])


def test_device_rejects_wrong_types():
    with pytest.raises(TypeError, match="waveguide"):
        make_device(waveguide=1.2e8)
    with pytest.raises(TypeError, match="atoms"):
        make_device(atoms=[make_atom("A"), {"name": "B"}])


def test_waveguide_validation():
    with pytest.raises(ValueError, match="phase_velocity"):
        Waveguide(0.0)
    with pytest.raises(ValueError, match="phase_velocity"):
        Waveguide([1e8, 2e8])
    assert Waveguide().phase_velocity == 1.2e8
    assert isinstance(Waveguide(1e8).phase_velocity, float)


def test_drive_validation():
    with pytest.raises(ValueError, match="port"):
        Drive(4.6 * GHz, port="top")
    with pytest.raises(ValueError, match="power_dbm"):
        Drive(4.6 * GHz, power_dbm=np.inf)
    with pytest.raises(ValueError, match="frequency"):
        Drive(-1.0)
    assert Drive(4.6 * GHz, port="RIGHT").port == "right"
    off = Drive(4.6 * GHz)
    assert off.power_dbm == -np.inf
    assert off.photon_flux == 0.0


# --- derived properties ---------------------------------------------------------------------


def test_intrinsic_decay_rate():
    assert make_atom().intrinsic_decay_rate == 0.0
    assert make_atom(t1=30 * us).intrinsic_decay_rate == pytest.approx(1 / (30 * us), rel=1e-15)


def test_dephasing_rate_from_t_phi_and_t2():
    assert make_atom().dephasing_rate == 0.0
    assert make_atom(t_phi=50 * us).dephasing_rate == pytest.approx(1 / (50 * us), rel=1e-15)
    # Γ₂ = Γ₁/2 + γ_φ  ⇒  γ_φ = 1/T2 − 1/(2 T1)
    atom = make_atom(t1=30 * us, t2=29.5 * us)
    assert atom.dephasing_rate == pytest.approx(1 / (29.5 * us) - 1 / (60 * us), rel=1e-14)
    # without t1 the whole Ramsey decay is pure dephasing
    assert make_atom(t2=20 * us).dephasing_rate == pytest.approx(1 / (20 * us), rel=1e-15)


def test_rates_per_point_broadcasting():
    atom = make_atom(points=[0.0, 1e-3, 2e-3], point_rates=2 * MHz)
    np.testing.assert_array_equal(atom.rates_per_point, np.full(3, 2 * MHz))
    assert atom.n_points == 3
    atom = make_atom(points=[0.0, 1e-3], point_rates=[1.0, 2.0], right_fraction=[0.0, 1.0])
    np.testing.assert_array_equal(atom.rates_per_point, [1.0, 2.0])
    np.testing.assert_array_equal(atom.right_fraction_per_point, [0.0, 1.0])
    # a batch of rates (shape (4, 1)) broadcasts against the points
    atom = make_atom(point_rates=np.linspace(1, 4, 4)[:, None] * MHz)
    assert atom.rates_per_point.shape == (4, 2)
    np.testing.assert_array_equal(make_atom().right_fraction_per_point, [0.5, 0.5])


def test_device_frequencies_with_batch_arrays():
    device = make_device(
        atoms=[make_atom("A", frequency=np.array([4.5, 4.6, 4.7]) * GHz), make_atom("B")]
    )
    f = device.frequencies
    assert f.shape == (3, 2)
    np.testing.assert_array_equal(f[:, 0], np.array([4.5, 4.6, 4.7]) * GHz)
    np.testing.assert_array_equal(f[:, 1], np.full(3, 4.6 * GHz))
    assert make_device().frequencies.shape == (2,)


def test_index_and_atom_lookup():
    device = make_device()
    assert device.n_atoms == 2
    assert device.atom_names == ("A", "B")
    assert device.dims == (2, 2)
    assert device.index("B") == 1
    assert device.index(-1) == 1
    assert device.atom(0).name == "A"
    assert device.atom("B") is device.atoms[1]
    with pytest.raises(ValueError, match="unknown atom 'C'"):
        device.index("C")
    with pytest.raises(ValueError, match="out of range"):
        device.index(2)


def test_replace_atom_and_with_frequencies():
    device = make_device()
    changed = device.replace_atom("B", t1=20 * us)
    assert changed.atom("B").t1 == 20 * us
    assert device.atom("B").t1 is None  # the original is untouched
    assert changed.atom("A") == device.atom("A")
    with pytest.raises(ValueError, match="point_rates"):
        device.replace_atom("A", point_rates=-1.0)  # replacements are validated again

    moved = device.with_frequencies([5.0 * GHz, 4.6 * GHz])
    np.testing.assert_array_equal(moved.frequencies, [5.0 * GHz, 4.6 * GHz])
    grid = np.linspace(4, 5, 7)[:, None] * GHz * np.ones(2)
    assert device.with_frequencies(grid).frequencies.shape == (7, 2)
    with pytest.raises(ValueError, match="frequencies"):
        device.with_frequencies([4.6 * GHz])


# --- equality and immutability ---------------------------------------------------------------


def test_equality_semantics():
    assert make_atom() == make_atom()
    assert make_atom(points=np.array([0.0, 84e-3])) == make_atom(points=(0.0, 84e-3))
    assert make_atom() != make_atom(frequency=4.7 * GHz)
    assert make_atom() != make_atom(points=[0.0, 85e-3])
    assert make_atom() != make_atom("B")
    assert make_atom(levels=3, anharmonicity=-200 * MHz) != make_atom(
        levels=3, anharmonicity=-201 * MHz
    )
    assert make_atom(t1=30 * us) != make_atom()  # None differs from a value
    assert make_atom() != "A"
    assert make_device() == make_device()
    assert make_device(atoms=tuple(make_device().atoms)) == make_device()
    assert make_device() != make_device(name="other")
    assert make_device() != make_device(assumptions=["v assumed"])
    assert make_device() != make_device(waveguide=Waveguide(1.1e8))
    reordered = make_device(atoms=list(reversed(make_device().atoms)))
    assert reordered != make_device()  # the order of atoms is the basis order
    assert Drive(4.6 * GHz, -120.0) == Drive(4.6 * GHz, -120.0)
    assert Drive(4.6 * GHz, -120.0) != Drive(4.6 * GHz, -121.0)


def test_immutability():
    atom = make_atom()
    device = make_device()
    with pytest.raises(dataclasses.FrozenInstanceError):
        atom.frequency = 5 * GHz  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        device.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        device.waveguide.phase_velocity = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Drive(4.6 * GHz).port = "right"  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        atom.points[0] = 1.0
    assert isinstance(device.atoms, tuple)
    assert isinstance(device.assumptions, tuple)


def test_inputs_are_copied():
    points = np.array([0.0, 84e-3])
    atom = make_atom(points=points)
    points[0] = 1.0
    assert atom.points[0] == 0.0
