import math

import numpy as np
import pytest

from giantatoms import units


def test_frequency_multipliers_are_angular():
    assert units.GHz == pytest.approx(2 * math.pi * 1e9)
    assert units.MHz / units.kHz == pytest.approx(1e3)
    assert units.Hz == pytest.approx(2 * math.pi)
    assert 4.6 * units.GHz / units.GHz == pytest.approx(4.6)
    assert units.us == 1e-6 and units.ns == 1e-9 and units.ms == 1e-3 and units.s == 1


def test_power_conversions_round_trip():
    p = np.array([-150.0, -130.0, 0.0, 10.0])
    np.testing.assert_allclose(units.watts_to_dbm(units.dbm_to_watts(p)), p)
    assert units.dbm_to_watts(0.0) == pytest.approx(1e-3)
    assert units.dbm_to_watts(-np.inf) == 0.0
    assert units.watts_to_dbm(0.0) == -np.inf


def test_photon_flux():
    # −130 dBm at 4.6 GHz: 1e-16 W / (ħ·2π·4.6e9 Hz) ≈ 3.28e7 photons/s.
    flux = units.dbm_to_photon_flux(-130.0, 4.6 * units.GHz)
    assert flux == pytest.approx(1e-16 / (units.HBAR * 2 * math.pi * 4.6e9))
    assert units.photon_flux_to_dbm(flux, 4.6 * units.GHz) == pytest.approx(-130.0)
    with pytest.raises(ValueError, match="frequency"):
        units.watts_to_photon_flux(1e-16, 0.0)
    with pytest.raises(ValueError, match="power_w"):
        units.watts_to_dbm(-1.0)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("4.6GHz", "frequency", 4.6 * units.GHz),
        ("2 MHz", "frequency", 2 * units.MHz),
        ("30us", "time", 30e-6),
        ("30 µs", "time", 30e-6),
        ("-130dBm", "power", -130.0),
        ("84 mm", "length", 0.084),
        ("1e3 kHz", "frequency", 1 * units.MHz),
        (5.0, "time", 5.0),
    ],
)
def test_parse_quantity(text, kind, expected):
    assert units.parse_quantity(text, kind) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "kind", "match"),
    [
        ("4.6 GHz", "colour", "kind"),
        ("fast", "time", "cannot read"),
        ("3 parsec", "length", "unknown length unit"),
    ],
)
def test_parse_quantity_errors(text, kind, match):
    with pytest.raises(ValueError, match=match):
        units.parse_quantity(text, kind)
