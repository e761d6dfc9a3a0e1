"""The parser of the command line, assembled from the subcommand modules, and :func:`main`."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from giantatoms.cli import (
    couplings,
    distance,
    presets,
    protocol,
    reproduce,
    spectrum,
    steady,
    sweep,
    tomography,
)
from giantatoms.cli._common import _Parser
from giantatoms.cli._errors import (
    _debug_from_environment,
    _describe_failure,
    _one_line,
    _report,
    _stdout_closed,
    _UsageError,
)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="giantatoms",
        description="Driven-dissipative entanglement of giant atoms in waveguide QED.",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback on errors instead of one line (also: GIANTATOMS_DEBUG=1)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    reproduce.register(sub)
    tomography.register(sub)
    sweep.register(sub)
    presets.register(sub)
    distance.register(sub)

    _add_physics_commands(sub)
    for command in sub.choices.values():  # --debug also after the command name
        command.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="show the traceback on errors (also: GIANTATOMS_DEBUG=1)",
        )
    return parser


def _add_physics_commands(sub: Any) -> None:
    """The ``couplings``, ``steady``, ``protocol`` and ``spectrum`` subcommands."""
    couplings.register(sub)
    steady.register(sub)
    protocol.register(sub)
    spectrum.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    0 on success, 2 for bad input, 1 for any other failure and 130 when interrupted; each
    failure is one line on stderr (see the docstring of :mod:`giantatoms.cli`). With
    ``--debug`` or ``GIANTATOMS_DEBUG=1`` the exception propagates with its traceback instead.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_from_environment() or "--debug" in argv
    command: str | None = None
    # Warnings are held back while the command runs: on success they are shown afterwards,
    # on failure folded into the one error line.
    with warnings.catch_warnings(record=not debug) as caught:
        try:
            args = _parser().parse_args(argv)
            command = args.command
            debug = _debug_from_environment() or bool(getattr(args, "debug", False))
            status = int(args.func(args))
        except _UsageError as exc:
            _report(None, _one_line(exc), caught)
            return 2
        except KeyboardInterrupt:
            if debug:
                raise
            _report(command, "interrupted", None)
            return 130
        except Exception as exc:
            if debug:
                raise
            if isinstance(exc, BrokenPipeError) and _stdout_closed():
                return 1  # the reader went away (e.g. `| head`): nothing more to say
            status, message = _describe_failure(exc, command)
            _report(command, message, caught)
            return status
    shown: set[str] = set()
    for w in caught or ():
        if str(w.message) in shown:  # the same warning from several places: once
            continue
        shown.add(str(w.message))
        warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)
    return status
