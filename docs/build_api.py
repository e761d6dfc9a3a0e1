"""Generate docs/api.md, the API reference, from the package's docstrings.

Usage: ``python docs/build_api.py`` (writes docs/api.md) or ``python docs/build_api.py
--check`` (exit 1 if docs/api.md is out of date; the test suite runs this check, so the
reference always matches the code). Every public name (a module's ``__all__``) gets its
signature and its full numpy-style docstring; classes also list their public methods and
properties.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from pathlib import Path

#: Modules in the order of the package's layers (model → solvers → measure → … → experiments).
MODULES = (
    ("giantatoms.units", "Units at the edges"),
    ("giantatoms.model.device", "Device: waveguide, atoms, drive"),
    ("giantatoms.model.io", "Device files (TOML)"),
    ("giantatoms.model.presets", "Packaged devices"),
    ("giantatoms.model.couplings", "Couplings: rates, exchange, Lamb shifts, operating points"),
    ("giantatoms.model.flux", "Flux-tunable transmons"),
    ("giantatoms.model.lindblad", "Master equation"),
    ("giantatoms.model.chains", "Chains in the textbook form (chiral dimers)"),
    ("giantatoms.model.delays", "Propagation delays and the Markov check"),
    ("giantatoms.solvers.liouvillian", "Liouvillians"),
    ("giantatoms.solvers.steady_state", "Steady states"),
    ("giantatoms.solvers.gap", "Liouvillian gap"),
    ("giantatoms.solvers.evolution", "Time evolution"),
    ("giantatoms.solvers.delay", "Delays: exact single-excitation dynamics, poles, trapped states"),
    ("giantatoms.measure.metrics", "Metrics"),
    ("giantatoms.measure.pairwise", "Pairwise entanglement maps"),
    ("giantatoms.measure.spectroscopy", "Spectroscopy"),
    ("giantatoms.measure.coherence", "Coherence experiments"),
    ("giantatoms.measure.tomography", "Tomography and readout"),
    ("giantatoms.fitting", "Fitting measured spectroscopy"),
    ("giantatoms.protocols", "Protocols in time"),
    ("giantatoms.sweeps", "Sweeps and optimisation"),
    ("giantatoms.plotting", "Figures"),
    ("giantatoms.experiments.reproduce", "The experiment end to end"),
    ("giantatoms.experiments.distance", "Distance study: storage with propagation delays"),
)

HEADER = """\
# API reference

Generated from the docstrings by `python docs/build_api.py`; do not edit by hand. Units:
angular frequencies and rates in rad/s, times in s, powers in dBm, unless a docstring says
otherwise (see [conventions](conventions.md)). Most names are also available from the top
level (`import giantatoms as ga; ga.sweep`).

"""


def _signature(obj: object) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return ""


def _doc(obj: object) -> str:
    return inspect.getdoc(obj) or "*(no docstring)*"


def _members(cls: type) -> list[tuple[str, object]]:
    out = []
    for name, member in cls.__dict__.items():
        if name.startswith("_"):
            continue
        if isinstance(member, property | classmethod | staticmethod) or inspect.isfunction(member):
            out.append((name, member))
    return out


def _entry(module_name: str, name: str, obj: object) -> list[str]:
    lines = []
    if inspect.isclass(obj):
        lines.append(f"### class `{name}`\n")
        lines.append(f"```python\n{name}{_signature(obj)}\n```\n")
        lines.append(_doc(obj) + "\n")
        for member_name, member in _members(obj):
            target = member.__func__ if isinstance(member, classmethod | staticmethod) else member
            if isinstance(member, property):
                lines.append(f"#### property `{name}.{member_name}`\n")
                lines.append(_doc(member) + "\n")
            else:
                kind = "classmethod " if isinstance(member, classmethod) else ""
                lines.append(f"#### {kind}`{name}.{member_name}`\n")
                lines.append(f"```python\n{member_name}{_signature(target)}\n```\n")
                lines.append(_doc(target) + "\n")
    elif callable(obj):
        lines.append(f"### `{name}`\n")
        lines.append(f"```python\n{name}{_signature(obj)}\n```\n")
        lines.append(_doc(obj) + "\n")
    elif inspect.ismodule(obj):
        return []
    else:
        lines.append(f"### `{name}`\n")
        lines.append(f"`{module_name}.{name}` = `{obj!r}`\n"[:400])
    return lines


def build() -> str:
    """The whole reference as Markdown."""
    parts = [HEADER]
    parts.append("## Contents\n")
    for module_name, title in MODULES:
        parts.append(f"* [{title}](#{module_name.replace('.', '')}) — `{module_name}`")
    parts.append("")
    for module_name, title in MODULES:
        module = importlib.import_module(module_name)
        parts.append(f'<a id="{module_name.replace(".", "")}"></a>\n')
        parts.append(f"## {title} — `{module_name}`\n")
        parts.append(_doc(module) + "\n")
        for name in sorted(getattr(module, "__all__", ())):
            parts.extend(_entry(module_name, name, getattr(module, name)))
    text = "\n".join(parts)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write docs/api.md, or check that it is up to date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/api.md is stale")
    parser.add_argument("--out", default=str(Path(__file__).with_name("api.md")))
    args = parser.parse_args(argv)
    text = build()
    path = Path(args.out)
    if args.check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is out of date: run python docs/build_api.py", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"written: {path} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
