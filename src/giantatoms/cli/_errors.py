"""Failures of the command line: one-line messages, exit statuses, warnings folded in.

:func:`giantatoms.cli._main.main` turns an exception that ended a command into one line on
stderr (:func:`_report`) with the exit status of :func:`_describe_failure`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any


class _UsageError(Exception):
    """A command-line usage error, reported by :func:`main` as one line (exit status 2)."""


_INPUT_PATH_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, FileExistsError)


def _debug_from_environment() -> bool:
    value = os.environ.get("GIANTATOMS_DEBUG", "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


_MEMORY_HINTS = {
    "reproduce": "try --fast",
    "sweep": "use a smaller grid (fewer points per axis) or a smaller chunk_size",
    "couplings": "use fewer --points",
    "spectrum": "use fewer --points",
    "tomography": "use fewer --bootstrap samples",
    "protocol": "ask for fewer times (a smaller num)",
}


def _describe_failure(exc: Exception, command: str | None) -> tuple[int, str]:
    """Exit status and one-line message of an exception that ended a command."""
    name = _public_name(type(exc))
    if isinstance(exc, UnicodeDecodeError):
        return 2, f"not a text file (binary data?): {_one_line(exc)}"
    if isinstance(exc, _INPUT_PATH_ERRORS):
        return 2, _os_message(exc)
    if isinstance(exc, ValueError | TypeError):
        return 2, _one_line(exc)
    if isinstance(exc, MemoryError):
        detail = f" ({_one_line(exc)})" if str(exc).strip() else ""
        hint = _MEMORY_HINTS.get(command or "", "use fewer points")
        return 1, f"MemoryError: out of memory{detail}; {hint}"
    if isinstance(exc, OSError):
        return 1, f"{name}: {_os_message(exc)}"
    if isinstance(exc, ImportError):
        return 1, f"{name}: {_one_line(exc)}"
    return 1, f"{name}: {_one_line(exc)} (run with --debug for the traceback)"


def _public_name(cls: type) -> str:
    """The class's name, or its first public base's (numpy's _ArrayMemoryError: MemoryError)."""
    for base in cls.__mro__:
        if not base.__name__.startswith("_"):
            return base.__name__
    return cls.__name__  # pragma: no cover - BaseException is public


def _os_message(exc: OSError) -> str:
    """An OSError as 'PATH: reason', naming the path the operating system reported."""
    if exc.strerror:  # "[Errno 13] Permission denied: 'x'" → "x: Permission denied"
        reason = " ".join(str(exc.strerror).split())
        if exc.filename is None:
            return reason
        paths = str(exc.filename)
        if exc.filename2 is not None:
            paths += f" -> {exc.filename2}"
        return f"{paths}: {reason}"
    message = _one_line(exc)
    if exc.filename is not None and str(exc.filename) not in message:
        message = f"{exc.filename}: {message}"
    return message


def _not_text(path: str | Path, what: str, exc: UnicodeDecodeError) -> ValueError:
    """The error for a binary file where a text file is expected."""
    byte = exc.object[exc.start : exc.start + 1]
    where = f"byte {byte[0]:#04x} at offset {exc.start}" if byte else f"offset {exc.start}"
    return ValueError(
        f"{path}: not a text {what} file (binary data?): {where} is not {exc.encoding}"
    )


def _report(command: str | None, message: str, caught: list[Any] | None) -> None:
    """Print the one error line on stderr, with the warnings issued before it folded in."""
    seen: list[str] = []
    for w in caught or ():
        text = _one_line(w.message) if isinstance(w.message, BaseException) else str(w.message)
        text = " ".join(text.split())
        if text and text not in seen:
            seen.append(text)
    if seen:
        shown = "; ".join(seen[:3]) + (f"; … ({len(seen) - 3} more)" if len(seen) > 3 else "")
        message += f" (after {'a warning' if len(seen) == 1 else 'warnings'}: {shown})"
    where = f"{command}: " if command else ""
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()  # what the command printed comes before the error
    print(f"giantatoms: error: {where}{message}", file=sys.stderr)


def _stdout_closed() -> bool:
    """Whether stdout is a pipe whose reader has gone (then stdout goes to the null device).

    Python flushes stdout at exit; pointing it at the null device keeps that from failing
    again with a second broken-pipe message. Where ``select.poll`` is missing, False.
    """
    import select

    try:
        fd = sys.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        closed = any(event & select.POLLERR for _, event in poller.poll(0))
        if closed:
            os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    except (OSError, ValueError, AttributeError):
        return False
    return closed


def _one_line(exc: BaseException) -> str:
    """The exception's message on one line (multi-line messages joined with '; ')."""
    try:
        text = str(exc)
    except Exception:  # a broken __str__ must not turn the one line into a traceback
        text = ""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    return "; ".join(lines) or _public_name(type(exc))
