"""Helpers of the command-line tests: run a command for its JSON, expect a one-line error."""

import json

from giantatoms.cli import main


def run_json(capsys, argv):
    assert main([*argv, "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


def assert_one_line_error(capsys, argv, *fragments):
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("giantatoms: error:")
    for fragment in fragments:
        assert fragment in lines[0]
    assert captured.out == ""
    return lines[0]
