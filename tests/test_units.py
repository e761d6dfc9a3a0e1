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


# ---------------------------------------------------------------------------- unit case
# SI prefixes are case-sensitive (m = milli, M = mega): parse_quantity accepts the exact
# spellings only and refuses case slips with a suggestion.


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("2 mHz", "frequency", 2 * 2 * math.pi * 1e-3),  # millihertz, not megahertz
        ("2mHz", "frequency", 2 * 2 * math.pi * 1e-3),
        ("5 Hz", "frequency", 5 * 2 * math.pi),
        ("3 kHz", "frequency", 3 * 2 * math.pi * 1e3),
        ("2 MHz", "frequency", 2 * 2 * math.pi * 1e6),
        ("4.6GHz", "frequency", 4.6 * 2 * math.pi * 1e9),
        ("1e6 rad/s", "frequency", 1e6),
        ("2 s", "time", 2.0),
        ("3 ms", "time", 3e-3),
        ("30us", "time", 30e-6),
        ("30 \u00b5s", "time", 30e-6),  # micro sign
        ("30 \u03bcs", "time", 30e-6),  # Greek mu
        ("7 ns", "time", 7e-9),
        ("250 ps", "time", 250e-12),
        ("-130dBm", "power", -130.0),
        ("-inf dBm", "power", -math.inf),
        ("2 m", "length", 2.0),
        ("84 mm", "length", 0.084),
        ("5 um", "length", 5e-6),
        ("5 \u00b5m", "length", 5e-6),
        ("5 \u03bcm", "length", 5e-6),
    ],
)
def test_parse_quantity_exact_spellings(text, kind, expected):
    assert units.parse_quantity(text, kind) == pytest.approx(expected, rel=1e-15)


def test_millihertz_is_not_megahertz():
    assert units.parse_quantity("1 MHz", "frequency") / units.parse_quantity(
        "1 mHz", "frequency"
    ) == pytest.approx(1e9)


@pytest.mark.parametrize(
    ("text", "kind", "suggestion"),
    [
        ("2 mhz", "frequency", "did you mean 'MHz' (megahertz) or 'mHz' (millihertz)?"),
        ("2 MHZ", "frequency", "did you mean 'MHz' (megahertz) or 'mHz' (millihertz)?"),
        ("2 Mhz", "frequency", "did you mean 'MHz' (megahertz) or 'mHz' (millihertz)?"),
        ("2 mhZ", "frequency", "did you mean 'mHz' (millihertz) or 'MHz' (megahertz)?"),
        ("4.6 ghz", "frequency", "did you mean 'GHz'"),
        ("4.6 GHZ", "frequency", "did you mean 'GHz'"),
        ("3 khz", "frequency", "did you mean 'kHz'"),
        ("3 KHz", "frequency", "did you mean 'kHz'"),
        ("5 hz", "frequency", "did you mean 'Hz'"),
        ("1 rad/S", "frequency", "did you mean 'rad/s'"),
        ("3 MS", "time", "did you mean 'ms'"),
        ("3 Ms", "time", "did you mean 'ms'"),
        ("30 US", "time", "did you mean 'us'"),
        ("30 \u00b5S", "time", "did you mean '\u00b5s'"),
        ("30 \u03bcS", "time", "did you mean '\u03bcs'"),
        ("7 NS", "time", "did you mean 'ns'"),
        ("2 S", "time", "did you mean 's'"),
        ("-130 dbm", "power", "did you mean 'dBm'"),
        ("-130 DBM", "power", "did you mean 'dBm'"),
        ("3 Mm", "length", "did you mean 'mm'"),
        ("3 MM", "length", "did you mean 'mm'"),
        ("2 M", "length", "did you mean 'm'"),
    ],
)
def test_parse_quantity_refuses_case_slips_with_a_suggestion(text, kind, suggestion):
    with pytest.raises(ValueError) as info:
        units.parse_quantity(text, kind)
    message = str(info.value)
    assert repr(text) in message  # the offending text
    assert f"unknown {kind} unit" in message  # the kind
    assert suggestion in message
    assert "case-sensitive" in message
    assert "accepted" in message and ("'GHz'" in message or kind != "frequency")


@pytest.mark.parametrize(
    ("kind", "spellings"),
    [
        ("frequency", ["'mHz'", "'Hz'", "'kHz'", "'MHz'", "'GHz'", "'rad/s'"]),
        ("time", ["'s'", "'ms'", "'us'", "'\u00b5s'", "'\u03bcs'", "'ns'", "'ps'"]),
        ("power", ["'dBm'"]),
        ("length", ["'m'", "'mm'", "'um'", "'\u00b5m'", "'\u03bcm'"]),
    ],
)
def test_parse_quantity_errors_list_the_accepted_spellings(kind, spellings):
    with pytest.raises(ValueError) as info:
        units.parse_quantity("1 parsec", kind)
    message = str(info.value)
    assert "'1 parsec'" in message and f"unknown {kind} unit 'parsec'" in message
    assert "did you mean" not in message  # no case-insensitive match, no suggestion
    for spelling in spellings:
        assert spelling in message


def test_parse_quantity_needs_a_unit_in_text():
    with pytest.raises(ValueError, match=r"no unit in '5'.*time.*'us'"):
        units.parse_quantity("5", "time")
    assert units.parse_quantity(5, "time") == 5.0  # a number is already in internal units


def test_units_of_another_kind_are_not_suggested_as_case_slips():
    # 'MS' is no frequency and 'Mhz' no time: plain refusal, naming the kind
    with pytest.raises(ValueError, match="unknown frequency unit 'ms'") as info:
        units.parse_quantity("3 ms", "frequency")
    assert "did you mean" not in str(info.value)
    with pytest.raises(ValueError, match="unknown time unit 'MHz'"):
        units.parse_quantity("3 MHz", "time")
