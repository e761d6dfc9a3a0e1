"""Failures of the command line: one line on stderr, no traceback, exit 1 (2 for bad input).

Hostile input for every subcommand (missing, binary, empty files, a directory or a file where
the other is expected, wrong types), exceptions from deep inside (simulated with monkeypatch:
out of memory, third-party loaders, bugs, Ctrl-C) and ``--debug`` / ``GIANTATOMS_DEBUG``.
"""

import importlib
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from giantatoms.cli import main

SWEEP = """\
device = "sequential_pair"
quantities = ["spectrum"]
probe_frequencies = {start = "4.59GHz", stop = "4.61GHz", num = 3}

[axes]
"drive.detuning" = {start = "0.5MHz", stop = "1MHz", num = 2}
"""

PROTOCOL = """\
[drive]
power = "-130dBm"
detuning = "1MHz"

[protocol]
t_drive = "0.1us"
ramp_time = "10ns"
t_store = "0.1us"
"""

SPECTRUM = "4.59,1,0\n4.60,0.5,0\n4.61,1,0\n"


@pytest.fixture(autouse=True)
def _no_debug_env(monkeypatch):
    monkeypatch.delenv("GIANTATOMS_DEBUG", raising=False)


@pytest.fixture
def files(tmp_path):
    """Valid and hostile input files, by name."""
    rng = np.random.default_rng(7)
    binary = bytes([0x89, 0xFF, 0xFE, 0x00]) + rng.bytes(2000)  # not UTF-8 from byte 0
    paths = {}
    for name in ("bin.toml", "bin.csv", "bin.s2p"):
        paths[name] = tmp_path / name
        paths[name].write_bytes(binary)
    for name in ("empty.toml", "empty.csv", "empty.s2p"):
        paths[name] = tmp_path / name
        paths[name].write_text("")
    for name in ("dir.toml", "dir.csv", "dir.s2p"):
        paths[name] = tmp_path / name
        paths[name].mkdir()
    texts = {
        "sweep.toml": SWEEP,
        "protocol.toml": PROTOCOL,
        "spectrum.csv": SPECTRUM,
        "spectrum.s2p": "# GHz S RI R 50\n4.6 0 0 1 0 1 0 0 0\n",
        "sweep_types.toml": 'device = 3\nquantities = "steady"\n[axes]\n"drive.detuning" = 5\n',
        "protocol_types.toml": PROTOCOL.replace('t_drive = "0.1us"', "t_drive = true"),
        "device_types.toml": "name = 3\n[[atoms]]\nname = 5\n",
        "plain.txt": "a file, not a directory\n",
    }
    for name, text in texts.items():
        paths[name] = tmp_path / name
        paths[name].write_text(text)
    paths["missing"] = tmp_path / "missing.toml"
    paths["counts.csv"] = tmp_path / "counts.csv"
    paths["counts.csv"].write_text(
        "setting,gg,ge,eg,ee\n" + "".join(f"{a}{b},25,25,25,25\n" for a in "XYZ" for b in "XYZ")
    )
    paths["tmp"] = tmp_path
    return paths


def one_line_error(capsys, argv, status):
    """Run ``main(argv)``; check the exit status and one error line; return that line."""
    assert main(argv) == status
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].strip(), captured.err
    assert "Traceback" not in captured.err
    assert lines[0].startswith("giantatoms: error:")
    assert captured.out == ""  # errors never go to stdout
    return lines[0]


# ------------------------------------------------------------------ hostile input files: exit 2


HOSTILE = [
    # (argv with {placeholders} for files, the file whose name the message must give)
    (["sweep", "{bin.toml}"], "bin.toml"),
    (["sweep", "{missing}"], "missing.toml"),
    (["sweep", "{dir.toml}"], "dir.toml"),
    (["sweep", "{empty.toml}"], "empty.toml"),
    (["sweep", "{sweep_types.toml}"], "sweep_types.toml"),
    (["sweep", "{sweep.toml}", "--store", "{plain.txt}", "--quiet"], "plain.txt"),
    (["protocol", "{bin.toml}"], "bin.toml"),
    (["protocol", "{missing}"], "missing.toml"),
    (["protocol", "{dir.toml}"], "dir.toml"),
    (["protocol", "{empty.toml}"], "empty.toml"),
    (["protocol", "{protocol_types.toml}"], "protocol_types.toml"),
    (["tomography", "{bin.csv}"], "bin.csv"),
    (["tomography", "{missing}"], "missing.toml"),
    (["tomography", "{dir.csv}"], "dir.csv"),
    (["tomography", "{empty.csv}"], "empty.csv"),
    (["tomography", "{counts.csv}", "--confusion", "{bin.csv}"], "bin.csv"),
    (["tomography", "{counts.csv}", "--confusion", "{empty.csv}"], "empty.csv"),
    (["tomography", "{counts.csv}", "--confusion", "{dir.csv}"], "dir.csv"),
    (["tomography", "{counts.csv}", "--confusion", "{missing}"], "missing.toml"),
    (["couplings", "--device", "{bin.toml}"], "bin.toml"),
    (["couplings", "--device", "{missing}"], "missing.toml"),
    (["couplings", "--device", "{dir.toml}"], "dir.toml"),
    (["couplings", "--device", "{empty.toml}"], "empty.toml"),
    (["couplings", "--device", "{device_types.toml}"], "device_types.toml"),
    (["steady", "--device", "{bin.toml}", "--power", "-130dBm"], "bin.toml"),
    (["spectrum", "--fit", "{bin.csv}"], "bin.csv"),
    (["spectrum", "--fit", "{bin.s2p}"], "bin.s2p"),
    (["spectrum", "--fit", "{empty.csv}"], "empty.csv"),
    (["spectrum", "--fit", "{empty.s2p}"], "empty.s2p"),
    (["spectrum", "--fit", "{dir.s2p}"], "dir.s2p"),
    (["spectrum", "--points", "3", "--out", "{dir.csv}"], "dir.csv"),
    (["presets", "export", "sequential_pair", "--to", "{dir.toml}"], "dir.toml"),
    (["reproduce", "--device", "{bin.toml}", "--fast", "--quiet"], "bin.toml"),
]


@pytest.mark.parametrize(("argv", "named"), HOSTILE)
def test_hostile_input_is_one_line_and_status_2(files, capsys, argv, named):
    argv = [str(files[a[1:-1]]) if a.startswith("{") else a for a in argv]
    line = one_line_error(capsys, argv, 2)
    assert named in line
    assert f": {argv[0]}: " in line  # the command is named


def test_binary_input_names_the_file_and_the_byte(files, capsys):
    for argv in (
        ["sweep", str(files["bin.toml"])],
        ["protocol", str(files["bin.toml"])],
        ["tomography", str(files["bin.csv"])],
    ):
        line = one_line_error(capsys, argv, 2)
        assert "not a text" in line and "byte 0x89 at offset 0" in line


def test_usage_errors_keep_their_form(capsys):
    line = one_line_error(capsys, ["couplings", "--points", "many"], 2)
    assert line.startswith("giantatoms: error: argument --points")
    line = one_line_error(capsys, ["no-such-command"], 2)
    assert "invalid choice" in line


# ------------------------------------------------ failures from deep inside: one line, exit 1


def _patch(monkeypatch, target, replacement):
    """``monkeypatch.setattr`` on 'module.name' or 'module.Class.name', by the module object.

    (The package namespace binds ``giantatoms.steady_state`` to the function, not the module.)
    """
    parts = target.split(".")
    owner, prefix = importlib.import_module(parts[0]), parts[0]
    for name in parts[1:-1]:
        prefix += f".{name}"
        try:
            owner = importlib.import_module(prefix)
        except ImportError:  # a class, not a module
            owner = getattr(owner, name)
    monkeypatch.setattr(owner, parts[-1], replacement)


def _raiser(exc):
    def boom(*args, **kwargs):
        raise exc

    return boom


# command → (the function it calls, patched to fail; its argv built from the files)
COMMANDS = {
    "reproduce": (
        "giantatoms.experiments.reproduce.reproduce",
        lambda f: ["reproduce", "--fast", "--no-figures", "--quiet", "--out", str(f["tmp"])],
    ),
    "sweep": (
        "giantatoms.sweeps.run_sweep",
        lambda f: ["sweep", str(f["sweep.toml"]), "--quiet", "--store", str(f["tmp"] / "s.zarr")],
    ),
    "couplings": (
        "giantatoms.model.device.Device.couplings",
        lambda f: ["couplings", "--points", "3"],
    ),
    "steady": (
        "giantatoms.solvers.steady_state.steady_state",
        lambda f: ["steady", "--power", "-130dBm", "--detuning", "1MHz"],
    ),
    "protocol": (
        "giantatoms.protocols.run_protocol",
        lambda f: ["protocol", str(f["protocol.toml"])],
    ),
    "spectrum": (
        "giantatoms.measure.spectroscopy.scattering",
        lambda f: ["spectrum", "--points", "3"],
    ),
    "spectrum --fit": (
        "giantatoms.fitting.SpectroscopyData.from_touchstone",
        lambda f: ["spectrum", "--fit", str(f["spectrum.s2p"])],
    ),
    "tomography": (
        "giantatoms.measure.tomography.bell_fidelity_with_errors",
        lambda f: ["tomography", str(f["counts.csv"]), "--bootstrap", "2"],
    ),
    "presets": ("giantatoms.model.presets.names", lambda f: ["presets", "list"]),
}


class _ArrayMemoryError(MemoryError):
    """What numpy raises (numpy._core._exceptions._ArrayMemoryError)."""


@pytest.mark.parametrize("command", list(COMMANDS))
def test_out_of_memory(files, capsys, monkeypatch, command):
    target, argv = COMMANDS[command]
    message = "Unable to allocate 745. GiB for an array with shape (100000000000,)"
    _patch(monkeypatch, target, _raiser(_ArrayMemoryError(message)))
    line = one_line_error(capsys, argv(files), 1)
    name = command.split()[0]
    assert line.startswith(f"giantatoms: error: {name}: MemoryError: out of memory")
    assert message in line
    assert "fewer" in line or "--fast" in line  # what to do about it


def test_out_of_memory_hint_names_the_option(files, capsys, monkeypatch):
    _patch(monkeypatch, "giantatoms.sweeps.run_sweep", _raiser(MemoryError()))
    line = one_line_error(capsys, COMMANDS["sweep"][1](files), 1)
    assert "chunk_size" in line and "smaller grid" in line
    _patch(monkeypatch, "giantatoms.measure.spectroscopy.scattering", _raiser(MemoryError()))
    assert "fewer --points" in one_line_error(capsys, COMMANDS["spectrum"][1](files), 1)


class ContainsArrayError(Exception):
    """A third-party library's own exception class (like zarr's)."""


DEEP = [
    (KeyError("No variable named 'failed'"), "KeyError", True),
    (IndexError("index 9 is out of bounds for axis 0 with size 3"), "IndexError", True),
    (RuntimeError("NetCDF: HDF error"), "RuntimeError", True),
    (EOFError("Ran out of input"), "EOFError", True),  # scikit-rf on an empty .s2p
    (NameError("name 'io' is not defined"), "NameError", True),
    (ContainsArrayError("an array exists at path ''"), "ContainsArrayError", True),
    (PermissionError(13, "Permission denied", "/data/store.zarr"), "PermissionError", False),
    (OSError(-101, "NetCDF: HDF error", "/data/out.nc"), "OSError", False),
    (ImportError("resumable sweep stores need zarr"), "ImportError", False),
]


@pytest.mark.parametrize(("exc", "name", "unexpected"), DEEP)
@pytest.mark.parametrize("command", ["sweep", "spectrum --fit", "tomography"])
def test_exceptions_from_deep_inside(files, capsys, monkeypatch, command, exc, name, unexpected):
    target, argv = COMMANDS[command]
    _patch(monkeypatch, target, _raiser(exc))
    line = one_line_error(capsys, argv(files), 1)
    assert line.startswith(f"giantatoms: error: {command.split()[0]}: {name}: ")
    if isinstance(exc, OSError):
        assert exc.filename in line and exc.strerror in line and "[Errno" not in line
    else:
        assert str(exc.args[0]) in line
    assert ("run with --debug for the traceback" in line) == unexpected


def test_multi_line_messages_are_folded(files, capsys, monkeypatch):
    _patch(
        monkeypatch,
        "giantatoms.model.device.Device.couplings",
        _raiser(RuntimeError("first line\n\n  second\n")),
    )
    line = one_line_error(capsys, ["couplings", "--points", "3"], 1)
    assert "RuntimeError: first line; second (run with --debug" in line


def test_exception_without_message_and_with_a_broken_str(files, capsys, monkeypatch):
    class Broken(Exception):
        def __str__(self):
            raise ValueError("no message for you")

    _patch(monkeypatch, "giantatoms.model.presets.names", _raiser(Broken()))
    assert "presets: Broken: Broken (run with --debug" in one_line_error(
        capsys, ["presets", "list"], 1
    )
    _patch(monkeypatch, "giantatoms.model.presets.names", _raiser(AssertionError()))
    assert "AssertionError: AssertionError" in one_line_error(capsys, ["presets", "list"], 1)


def test_broken_pipe_elsewhere_is_reported(capsys, monkeypatch):
    # Not stdout's reader going away (capsys' stdout is fine): an ordinary I/O failure.
    broken = _raiser(BrokenPipeError(32, "Broken pipe"))
    _patch(monkeypatch, "giantatoms.model.presets.names", broken)
    assert "BrokenPipeError: Broken pipe" in one_line_error(capsys, ["presets", "list"], 1)


@pytest.mark.parametrize("command", ["sweep", "steady", "tomography"])
def test_keyboard_interrupt(files, capsys, monkeypatch, command):
    target, argv = COMMANDS[command]
    _patch(monkeypatch, target, _raiser(KeyboardInterrupt()))
    assert one_line_error(capsys, argv(files), 130) == f"giantatoms: error: {command}: interrupted"


# ---------------------------------------------------------------------------------- warnings


def _warn_then(result_or_exc):
    def run(*args, **kwargs):
        warnings.warn("dropped 4 repeated rows", UserWarning, stacklevel=2)
        warnings.warn("dropped 4 repeated rows", UserWarning, stacklevel=2)  # shown once
        if isinstance(result_or_exc, BaseException):
            raise result_or_exc
        return result_or_exc

    return run


def test_warnings_before_a_failure_are_folded_into_the_line(capsys, monkeypatch):
    _patch(monkeypatch, "giantatoms.model.presets.names", _warn_then(ValueError("too few points")))
    line = one_line_error(capsys, ["presets", "list"], 2)
    assert line == (
        "giantatoms: error: presets: too few points (after a warning: dropped 4 repeated rows)"
    )


def test_warnings_of_a_successful_run_are_still_shown(capsys, monkeypatch):
    from giantatoms import presets

    _patch(monkeypatch, "giantatoms.model.presets.names", _warn_then(presets.names()))
    with pytest.warns(UserWarning, match="dropped 4 repeated rows"):
        assert main(["presets", "list"]) == 0
    assert "sequential_pair" in capsys.readouterr().out


# ------------------------------------------------------------------------------------- debug


@pytest.mark.parametrize(
    "where", ["before", "after", "environment"], ids=["--debug CMD", "CMD --debug", "env"]
)
def test_debug_lets_the_exception_through(files, monkeypatch, where):
    target, argv = COMMANDS["couplings"]
    argv = argv(files)
    if where == "before":
        argv = ["--debug", *argv]
    elif where == "after":
        argv = [*argv, "--debug"]
    else:
        monkeypatch.setenv("GIANTATOMS_DEBUG", "1")
    _patch(monkeypatch, target, _raiser(_ArrayMemoryError("Unable to allocate")))
    with pytest.raises(MemoryError, match="Unable to allocate"):
        main(argv)
    _patch(monkeypatch, target, _raiser(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        main(argv)


def test_debug_shows_bad_input_too(files):
    with pytest.raises(ValueError, match="not a text"):
        main(["--debug", "tomography", str(files["bin.csv"])])


def test_debug_zero_in_the_environment_is_off(files, capsys, monkeypatch):
    monkeypatch.setenv("GIANTATOMS_DEBUG", "0")
    one_line_error(capsys, ["tomography", str(files["bin.csv"])], 2)


# ------------------------------------------------------------------- the real entry point


def _run_entry_point(*args):
    env = {k: v for k, v in os.environ.items() if k != "GIANTATOMS_DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "giantatoms.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_entry_point_binary_file_prints_no_traceback(files):
    done = _run_entry_point("tomography", str(files["bin.csv"]))
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "bin.csv" in lines[0], done.stderr
    assert lines[0].startswith("giantatoms: error: tomography: ")

    done = _run_entry_point("--debug", "tomography", str(files["bin.csv"]))
    assert done.returncode == 1 and "Traceback" in done.stderr
