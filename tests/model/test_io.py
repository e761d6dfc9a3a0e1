"""TOML device files: exact round trips, both spellings of parameters, clear errors."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giantatoms.model.device import Atom, Device, Waveguide
from giantatoms.model.io import device_from_toml, device_to_toml
from giantatoms.units import GHz, MHz, us

NUMERIC = textwrap.dedent(
    """
    name = "pair"
    description = "two giant atoms"
    assumptions = ["v assumed", "γ assumed"]

    [waveguide]
    phase_velocity_m_per_s = 1.2e8

    [[atoms]]
    name = "A"
    frequency_ghz = 4.6
    points_mm = [0.0, 84.0]
    point_rates_mhz = 2.0
    levels = 3
    anharmonicity_mhz = -200.0
    t1_us = 30.0
    t2_us = 29.5
    n_thermal = 0.01

    [[atoms]]
    name = "B"
    frequency_ghz = 5
    points_mm = [104.3, 188.3]
    point_rates_mhz = [2.0, 1.5]
    right_fraction = [0.5, 1.0]
    t_phi_us = 40
    """
)

UNIT_STRINGS = textwrap.dedent(
    """
    name = "pair"
    description = "two giant atoms"
    assumptions = ["v assumed", "γ assumed"]

    [waveguide]
    phase_velocity_m_per_s = 1.2e8

    [[atoms]]
    name = "A"
    frequency = "4.6 GHz"
    points = ["0 mm", "84.0mm"]
    point_rates = "2 MHz"
    levels = 3
    anharmonicity = "-200 MHz"
    t1 = "30 us"
    t2 = "29.5 µs"
    n_thermal = 0.01

    [[atoms]]
    name = "B"
    frequency = "5 GHz"
    points = ["104.3 mm", "188.3 mm"]
    point_rates = ["2 MHz", "1.5 MHz"]
    right_fraction = [0.5, 1.0]
    t_phi = "40 us"
    """
)

EXPECTED = Device(
    waveguide=Waveguide(1.2e8),
    atoms=(
        Atom(
            "A",
            4.6 * GHz,
            [0.0, 84.0 * 1e-3],
            2.0 * MHz,
            levels=3,
            anharmonicity=-200.0 * MHz,
            t1=30.0 * us,
            t2=29.5 * us,
            n_thermal=0.01,
        ),
        Atom(
            "B",
            5.0 * GHz,
            [104.3 * 1e-3, 188.3 * 1e-3],
            [2.0 * MHz, 1.5 * MHz],
            right_fraction=[0.5, 1.0],
            t_phi=40.0 * us,
        ),
    ),
    name="pair",
    description="two giant atoms",
    assumptions=("v assumed", "γ assumed"),
)


def replace_line(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


# --- reading -------------------------------------------------------------------------------


def test_numeric_form_reads_to_internal_units():
    assert device_from_toml(NUMERIC) == EXPECTED


def test_unit_string_form_equals_numeric_form():
    assert device_from_toml(UNIT_STRINGS) == device_from_toml(NUMERIC)


def test_from_file_path_and_from_string(tmp_path: Path):
    file = tmp_path / "chip.toml"
    file.write_text(NUMERIC, encoding="utf-8")
    assert device_from_toml(file) == EXPECTED
    assert device_from_toml(str(file)) == EXPECTED
    assert Device.from_toml(file) == EXPECTED
    # a file whose name has no .toml suffix is still a file
    other = tmp_path / "chip.cfg"
    other.write_text(NUMERIC, encoding="utf-8")
    assert device_from_toml(str(other)) == EXPECTED


def test_missing_file_is_file_not_found(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"nowhere\.toml"):
        device_from_toml(tmp_path / "nowhere.toml")
    with pytest.raises(FileNotFoundError, match=r"nowhere\.toml"):
        device_from_toml(str(tmp_path / "nowhere.toml"))
    with pytest.raises(FileNotFoundError, match="nowhere"):
        device_from_toml(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="neither an existing file nor TOML"):
        device_from_toml("sequential_pair")
    with pytest.raises(TypeError, match="source"):
        device_from_toml(42)  # type: ignore[arg-type]


def test_malformed_toml_reports_line(tmp_path: Path):
    bad = replace_line(NUMERIC, 'name = "B"', 'name = "B')
    with pytest.raises(ValueError, match=r"invalid TOML in <string>.*line 21"):
        device_from_toml(bad)
    file = tmp_path / "broken.toml"
    file.write_text(bad, encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.toml.*line 21"):
        device_from_toml(file)


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        ("frequency_ghz = 4.6", "frequncy_ghz = 4.6", r"Atom 'A'.*'frequncy_ghz'.*frequency_ghz"),
        ("t_phi_us = 40", "tphi_us = 40", r"Atom 'B'.*'tphi_us'"),
        ('name = "pair"', 'name = "pair"\ncolour = "red"', r"top level.*'colour'"),
        ("phase_velocity_m_per_s = 1.2e8", "phase_velocity = 1.2e8", r"\[waveguide\].*'phase_"),
    ],
)
def test_unknown_key_is_named(old, new, pattern):
    with pytest.raises(ValueError, match=pattern):
        device_from_toml(replace_line(NUMERIC, old, new))


@pytest.mark.parametrize(
    ("old", "pattern"),
    [
        ("frequency_ghz = 4.6\n", r"Atom 'A': missing required key frequency_ghz \(or frequency"),
        ("points_mm = [0.0, 84.0]\n", r"Atom 'A': missing required key points_mm"),
        ("point_rates_mhz = [2.0, 1.5]\n", r"Atom 'B': missing required key point_rates_mhz"),
        ('name = "A"\n', r"\[\[atoms\]\] number 1: missing required key 'name'"),
        ("phase_velocity_m_per_s = 1.2e8\n", r"phase_velocity_m_per_s"),
        ("anharmonicity_mhz = -200.0\n", r"Atom 'A': anharmonicity"),  # from Atom: levels=3
    ],
)
def test_missing_key_is_named(old, pattern):
    with pytest.raises(ValueError, match=pattern):
        device_from_toml(replace_line(NUMERIC, old, ""))


def test_missing_tables():
    with pytest.raises(ValueError, match=r"\[waveguide\]"):
        device_from_toml('name = "x"\n[[atoms]]\nname = "A"\n')
    with pytest.raises(ValueError, match=r"\[\[atoms\]\]"):
        device_from_toml("[waveguide]\nphase_velocity_m_per_s = 1.2e8\n")
    with pytest.raises(ValueError, match="at least one"):
        device_from_toml("atoms = []\n[waveguide]\nphase_velocity_m_per_s = 1.2e8\n")


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        (
            "frequency_ghz = 4.6",
            'frequency_ghz = 4.6\nfrequency = "4.6 GHz"',
            r"Atom 'A': give either frequency_ghz or frequency, not both",
        ),
        ("t1_us = 30.0", 't1_us = 30.0\nt1 = "30 us"', r"Atom 'A': give either t1_us or t1"),
        (
            "points_mm = [0.0, 84.0]",
            'points_mm = [0.0, 84.0]\npoints = ["0 mm", "84 mm"]',
            r"points_mm or points",
        ),
        # the dataclass's own rule about two parameters propagates
        ("t2_us = 29.5", "t2_us = 29.5\nt_phi_us = 60", r"Atom 'A': give either t_phi or t2"),
    ],
)
def test_both_forms_is_an_error(old, new, pattern):
    with pytest.raises(ValueError, match=pattern):
        device_from_toml(replace_line(NUMERIC, old, new))


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        (
            "frequency_ghz = 4.6",
            'frequency_ghz = "4.6 GHz"',
            r"Atom 'A': frequency_ghz must be a number.*unit strings go under the key",
        ),
        ("frequency_ghz = 4.6", "frequency = 4.6", r"Atom 'A': frequency takes a string"),
        ("frequency_ghz = 4.6", "frequency_ghz = [4.6, 4.7]", r"frequency_ghz must be a single"),
        ("frequency_ghz = 4.6", 'frequency = "4.6 parsecs"', r"Atom 'A': frequency.*parsecs"),
        ("points_mm = [0.0, 84.0]", "points_mm = 84.0", r"points_mm must be a list"),
        ("point_rates_mhz = 2.0", "point_rates_mhz = true", r"point_rates_mhz must be a number"),
        ("levels = 3", "levels = 4", r"Atom 'A': levels must be 2 or 3"),
        ('name = "A"', "name = 7", r"name must be a non-empty string"),
        ('description = "two giant atoms"', "description = 3", r"description must be a string"),
        ('assumptions = ["v assumed", "γ assumed"]', "assumptions = [1]", r"assumptions"),
        ("phase_velocity_m_per_s = 1.2e8", "phase_velocity_m_per_s = -1.0", r"phase_velocity"),
    ],
)
def test_wrong_types_are_named(old, new, pattern):
    with pytest.raises(ValueError, match=pattern):
        device_from_toml(replace_line(NUMERIC, old, new))


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        ("point_rates_mhz = 2.0", "point_rates_mhz = -1.0", r"Atom 'A': point_rates must be ≥ 0"),
        ("right_fraction = [0.5, 1.0]", "right_fraction = [0.5, 1.5]", r"Atom 'B': right_fr"),
        (
            "point_rates_mhz = [2.0, 1.5]",
            "point_rates_mhz = [2.0, 1.5, 1.0]",
            r"Atom 'B': point_rates must be a scalar or have one entry per point",
        ),
        ("points_mm = [0.0, 84.0]", "points_mm = []", r"Atom 'A': points must list"),
        ("t1_us = 30.0", "t1_us = 0", r"Atom 'A': t1 must be > 0"),
        ("frequency_ghz = 4.6", "frequency_ghz = nan", r"Atom 'A': frequency must not be NaN"),
    ],
)
def test_dataclass_validation_propagates(old, new, pattern, tmp_path: Path):
    bad = replace_line(NUMERIC, old, new)
    with pytest.raises(ValueError, match=pattern):
        device_from_toml(bad)
    file = tmp_path / "chip.toml"
    file.write_text(bad, encoding="utf-8")
    with pytest.raises(ValueError, match=r"chip\.toml: " + pattern):
        device_from_toml(file)


def test_duplicate_atom_names_rejected():
    with pytest.raises(ValueError, match="unique"):
        device_from_toml(replace_line(NUMERIC, 'name = "B"', 'name = "A"'))


def test_inline_array_of_atoms_and_defaults():
    device = device_from_toml(
        'atoms = [{name = "Q", frequency_ghz = 6, points_mm = [1], point_rates_mhz = 1}]\n'
        "[waveguide]\nphase_velocity_m_per_s = 1e8\n"
    )
    atom = device.atom("Q")
    assert atom.levels == 2
    assert atom.t1 is None and atom.t2 is None and atom.t_phi is None
    assert atom.anharmonicity is None
    assert atom.right_fraction == 0.5
    assert atom.n_thermal == 0.0
    assert device.name == "" and device.description == "" and device.assumptions == ()


def test_infinite_t1_round_trips():
    device = EXPECTED.replace_atom("A", t1=np.inf, t2=None)
    text = device_to_toml(device)
    assert "t1_us = inf" in text
    assert device_from_toml(text) == device


# --- writing --------------------------------------------------------------------------------


def test_written_text_has_header_and_documented_keys():
    text = device_to_toml(EXPECTED)
    assert text.startswith("# giantatoms device file")
    data = tomllib.loads(text)
    assert set(data) == {"name", "description", "assumptions", "waveguide", "atoms"}
    assert data["atoms"][0] == {
        "name": "A",
        "frequency_ghz": 4.6,
        "points_mm": [0.0, 84.0],
        "point_rates_mhz": 2.0,
        "right_fraction": 0.5,
        "levels": 3,
        "anharmonicity_mhz": -200.0,
        "t1_us": 30.0,
        "t2_us": 29.5,
        "n_thermal": 0.01,
    }
    assert data["atoms"][1]["point_rates_mhz"] == [2.0, 1.5]
    assert data["atoms"][1]["t_phi_us"] == 40.0


def test_write_to_path(tmp_path: Path):
    file = tmp_path / "out.toml"
    text = EXPECTED.to_toml(file)
    assert file.read_text(encoding="utf-8") == text
    assert Device.from_toml(file) == EXPECTED


@pytest.mark.parametrize(
    ("atom", "field"),
    [
        ({"frequency": np.array([4.5, 4.6]) * GHz}, "frequency"),
        ({"points": np.zeros((3, 2))}, "points"),
        ({"point_rates": np.ones((3, 2)) * MHz}, "point_rates"),
        ({"t1": np.array([10.0, 20.0]) * us}, "t1"),
        ({"n_thermal": [0.0, 0.1]}, "n_thermal"),
    ],
)
def test_batch_arrays_cannot_be_written(atom, field):
    device = EXPECTED.replace_atom("B", **atom)
    with pytest.raises(ValueError, match=rf"Atom 'B': {field} has shape .*batch dimension"):
        device_to_toml(device)


def test_frequency_batch_from_with_frequencies_cannot_be_written():
    batch = EXPECTED.with_frequencies(np.array([[4.6, 5.0], [4.7, 5.0]]) * GHz)
    with pytest.raises(ValueError, match="batch"):
        batch.to_toml()


def test_strings_are_escaped():
    nasty = "quote \" backslash \\ tab \t newline \n bell \x07 del \x7f unicode Γ ✓ 'single'"
    device = Device(
        Waveguide(),
        [Atom(nasty, 1.0, [0.0], 1.0), Atom("[[atoms]]", 1.0, [0.0], 1.0)],
        name=nasty,
        description='"""\n',
        assumptions=[nasty, ""],
    )
    assert device_from_toml(device_to_toml(device)) == device


# --- property-based round trips -------------------------------------------------------------

names = st.text(min_size=1, max_size=8).filter(lambda s: s.strip() != "")


@st.composite
def atoms(draw: st.DrawFn, name: str, exact: bool) -> Atom:
    """A random atom; ``exact`` draws every value as (float in the file's unit) × unit."""
    n = draw(st.integers(1, 4))

    def quantity(low: float, high: float, unit: float) -> float:
        value = draw(st.floats(low, high, allow_nan=False, allow_infinity=False))
        if abs(value) < 1e-100:  # keep clear of subnormals, where ulps stop being relative
            value = 0.0
        return value * unit if exact else value * unit * draw(st.floats(0.9, 1.1))

    def per_point(low: float, high: float, unit: float) -> float | list[float]:
        if draw(st.booleans()):
            return quantity(low, high, unit)
        return [quantity(low, high, unit) for _ in range(n)]

    kwargs: dict[str, object] = {
        "name": name,
        "frequency": quantity(0.1, 20.0, GHz),
        "points": [quantity(-1e3, 1e3, 1e-3) for _ in range(n)],
        "point_rates": per_point(0.0, 50.0, MHz),
        "levels": draw(st.sampled_from([2, 3])),
    }
    if draw(st.booleans()):
        kwargs["right_fraction"] = per_point(0.0, 1.0, 1.0) if exact else draw(st.floats(0, 1))
    if kwargs["levels"] == 3 or draw(st.booleans()):
        kwargs["anharmonicity"] = quantity(-500.0, 500.0, MHz)
    if draw(st.booleans()):
        t1_us = draw(st.floats(0.1, 1e3))
        kwargs["t1"] = t1_us * us
        choice = draw(st.sampled_from(["none", "t2", "t_phi"]))
        if choice == "t2":
            kwargs["t2"] = draw(st.floats(0.01, 1.99)) * t1_us * us
        elif choice == "t_phi":
            kwargs["t_phi"] = quantity(0.01, 1e4, us)
    elif draw(st.booleans()):
        kwargs["t2"] = quantity(0.01, 1e4, us)
    if draw(st.booleans()):
        kwargs["n_thermal"] = draw(st.floats(0.0, 1.0))
    return Atom(**kwargs)  # type: ignore[arg-type]


@st.composite
def devices(draw: st.DrawFn, exact: bool = True) -> Device:
    atom_names = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    return Device(
        waveguide=Waveguide(draw(st.floats(1e6, 3e8))),
        atoms=[draw(atoms(name, exact)) for name in atom_names],
        name=draw(st.text(max_size=10)),
        description=draw(st.text(max_size=30)),
        assumptions=draw(st.lists(st.text(max_size=20), max_size=3)),
    )


@settings(max_examples=150, deadline=None)
@given(devices(exact=True))
def test_round_trip_is_exact(device: Device):
    text = device_to_toml(device)
    assert device_from_toml(text) == device
    assert device_to_toml(device_from_toml(text)) == text


@settings(max_examples=60, deadline=None)
@given(devices(exact=False))
def test_round_trip_of_arbitrary_floats_is_within_one_ulp(device: Device):
    """Values that are not (a float in GHz/MHz/mm/µs) × unit may come back 1 ulp off."""
    back = device_from_toml(device_to_toml(device))
    assert back.name == device.name and back.assumptions == device.assumptions
    assert back.waveguide == device.waveguide
    for a, b in zip(device.atoms, back.atoms, strict=True):
        assert (a.name, a.levels) == (b.name, b.levels)
        for field in (
            "frequency",
            "points",
            "point_rates",
            "right_fraction",
            "anharmonicity",
            "t1",
            "t_phi",
            "t2",
            "n_thermal",
        ):
            x, y = getattr(a, field), getattr(b, field)
            assert (x is None) == (y is None)
            if x is not None:
                assert np.shape(x) == np.shape(y)
                np.testing.assert_array_max_ulp(x, y, maxulp=1)
