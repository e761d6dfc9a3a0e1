"""The parser and ``main``: help, one-line usage and input errors, negative quantities, --debug."""

import pytest

from giantatoms.cli import main

from tests.cli._helpers import assert_one_line_error, run_json


def test_bad_input_gives_one_line_error(tmp_path, capsys):
    assert main(["presets", "show", "no_such_chip"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("giantatoms: error:") and len(err.strip().splitlines()) == 1
    assert main(["reproduce", "--device", str(tmp_path / "missing.toml")]) == 2


@pytest.mark.parametrize("command", ["couplings", "steady", "protocol", "spectrum"])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert f"giantatoms {command}" in text and "--json" in text
    if command == "protocol":
        assert "[drive]" in text and "after_drive" in text and "end_drive" in text


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["couplings", "--from", "4.6 parsec"], "unknown frequency unit 'parsec'"),
        (["couplings", "--from", "30us"], "'30us' is a time"),
        (["couplings", "--from", "5GHz", "--to", "4GHz"], "--from < --to"),
        (["couplings", "--preset", "no_such_chip"], "unknown preset"),
        (["couplings", "--pair", "A", "Z"], "unknown atom 'Z'"),
        (["couplings", "--points", "1"], "at least 2 points"),
        (["steady", "--power", "-130GHz", "--detuning", "1MHz"], "unknown power unit"),
        (["steady", "--detuning", "1MHz"], "--power"),
        (["steady", "--device", "missing.toml", "--power", "-130dBm"], "missing.toml"),
        (["spectrum", "--fit", "missing.csv"], "no data file"),
        (["spectrum", "--model", "fano"], "give --fit"),
        (["spectrum", "--to", "4.6 parsec"], "parsec"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_input_one_line(argv, fragment, capsys):
    assert_one_line_error(capsys, argv, fragment)


def test_negative_quantities_are_values(capsys):
    # "-130dBm" and "-0.5MHz" look like options to plain argparse.
    out = run_json(capsys, ["steady", "--power", "-130dBm", "--detuning", "-1MHz"])
    assert out["atom_detunings_mhz"]["A"] == pytest.approx(-1.0, abs=1e-9)


def test_debug_shows_traceback():
    with pytest.raises(ValueError, match="unknown preset"):
        main(["--debug", "couplings", "--preset", "no_such_chip"])
