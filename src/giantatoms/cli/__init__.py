"""The ``giantatoms`` command line.

Subcommands: ``reproduce`` (the experiment's analysis as far as the package implements it),
``sweep`` (a parameter sweep declared in a TOML file, see docs/sweeps.md), ``presets``
(list / show / export the packaged devices), ``couplings`` (a device's rates against
frequency), ``steady`` (steady state and metrics at an operating point), ``protocol`` (the
driven-dissipative protocol declared in a TOML file) and ``spectrum`` (simulate or fit
waveguide spectroscopy). Quantities are given with their units (``4.6GHz``, ``2 MHz``,
``30us``, ``-130dBm``); human output uses GHz for frequencies, MHz for rates (γ/2π), µs for
times and dBm; ``--json`` prints only machine-readable JSON with the unit in each key name.

Errors are one line on stderr, ``giantatoms: error: COMMAND: message``, and nothing on stdout
beyond what was printed before the failure. Exit status: 0 success; 2 bad input (a usage
error, a value the package rejects, a missing or unreadable input file, an input path that is
a directory or a file where the other is expected); 1 any other failure (out of memory, an
I/O or permission error, a failure inside a solver or a third-party loader, a bug); 130
interrupted (Ctrl-C). Warnings issued before a failure are folded into that line.
``--debug`` (before or after the command) or the environment variable ``GIANTATOMS_DEBUG=1``
shows the traceback instead.

The package holds one module per subcommand (``reproduce``, ``tomography``, ``sweep``,
``presets``, ``couplings``, ``steady``, ``protocol``, ``spectrum``), each adding its parser
(``register``) and running it; ``_common`` (the argument parser, unit strings, devices and
pairs, JSON) and ``_errors`` (one-line failures and exit statuses) are shared, and ``_main``
assembles the parser and holds :func:`main`.
"""

from __future__ import annotations

from giantatoms.cli._main import main

__all__ = ["main"]
