"""``giantatoms protocol``: protocol files, checked against ``run_protocol``; bad files."""

import numpy as np
import pytest

from giantatoms import presets
from giantatoms.cli import main
from giantatoms.protocols import driven_dissipative, run_protocol
from giantatoms.units import MHz, ns, us

from tests.cli._helpers import assert_one_line_error, run_json

PROTOCOL = """\
device = "sequential_pair"
times = ["end_drive", "end_ramp", "end", "0.5us"]

[drive]
power = "-130dBm"
detuning = "1MHz"

[protocol]
t_drive = "2us"
ramp_time = "10ns"
t_store = "0.5us"
"""


def test_protocol_matches_run_protocol(tmp_path, capsys):
    path = tmp_path / "run.toml"
    path.write_text(PROTOCOL)
    out_file = tmp_path / "result.nc"
    out = run_json(capsys, ["protocol", str(path), "--out", str(out_file)])
    device = presets.load("sequential_pair")
    protocol = driven_dissipative(
        device, power_dbm=-130.0, detuning=1 * MHz, t_drive=2 * us, ramp_time=10 * ns,
        t_store=0.5 * us,
    )  # fmt: skip
    times = np.array([0.5, 2.0, 2.01, 2.51]) * us
    result = run_protocol(device, protocol, times)
    np.testing.assert_allclose(out["time_us"], times / us, rtol=1e-14)
    assert out["instant"] == ["", "end_drive", "end_ramp", "end"]
    assert out["segment"] == ["drive", "drive", "ramp", "store"]
    assert out["target"] == "psi-"
    np.testing.assert_allclose(out["bell_fidelity"], result.bell_fidelity, atol=1e-10)
    assert abs(out["bell_fidelity_optimized"][-1] - result.bell_fidelity_optimized[-1]) < 1e-10
    np.testing.assert_allclose(out["concurrence"], result.concurrence, atol=1e-10)
    np.testing.assert_allclose(out["leakage"], result.leakage, atol=1e-12)
    assert out["atom_frequencies_ghz"]["A"][-1] == pytest.approx(5.0, abs=1e-9)  # DF point

    import xarray as xr

    with xr.open_dataset(out_file) as ds:
        assert ds.time.attrs["units"] == "us"
        assert ds.bell_fidelity.attrs["units"] == "1"
        np.testing.assert_allclose(ds.bell_fidelity_optimized, result.bell_fidelity_optimized)
        assert list(ds.segment.values) == ["drive", "drive", "ramp", "store"]
        assert ds.atom_frequency.attrs["units"] == "GHz"
        assert ds.attrs["target"] == "psi-"


def test_protocol_table_range_and_options(tmp_path, capsys):
    (tmp_path / "chip.toml").write_text(presets.text("sequential_pair"))
    path = tmp_path / "run.toml"
    path.write_text(
        PROTOCOL.replace('device = "sequential_pair"', 'device = "chip.toml"')
        .replace(
            'times = ["end_drive", "end_ramp", "end", "0.5us"]',
            'times = {start = "end_drive", stop = "end", num = 3}\ntarget = "psi+"',
        )
        .replace('t_store = "0.5us"', 't_store = "0.5us"\nafter_drive = "stay"')
    )
    assert main(["protocol", str(path)]) == 0
    text = capsys.readouterr().out
    assert "time (µs)" in text and "F(opt)" in text and "leakage" in text
    assert "target psi+" in text and "end_drive" in text
    rows = [line for line in text.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == 3


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (("[drive]", "[drive]\nfrequency = '4.6GHz'"), "unknown keys ['frequency']"),
        (("times =", "tmes = 1\ntimes ="), "unknown keys ['tmes']"),
        (("[protocol]", "[protocol]\nramp = '1ns'"), "unknown keys ['ramp']"),
        (('detuning = "1MHz"', 'detuning = "30us"'), "'30us' is a time"),
        (('t_drive = "2us"', "t_drive = 2"), "give the unit"),
        (('device = "sequential_pair"', 'device = "no_such_chip"'), "unknown preset"),
        (('device = "sequential_pair"', 'device = "missing.toml"'), "missing.toml"),
        (('"end", "0.5us"', '"end", "5us"'), "after the end"),
        (('power = "-130dBm"', 'power = "-130 parsec"'), "unknown power unit 'parsec'"),
    ],
)
def test_protocol_bad_files(tmp_path, capsys, change, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(PROTOCOL.replace(*change, 1))
    assert_one_line_error(capsys, ["protocol", str(path)], fragment)


def test_protocol_missing_file(tmp_path, capsys):
    assert_one_line_error(capsys, ["protocol", str(tmp_path / "nope.toml")], "does not exist")
