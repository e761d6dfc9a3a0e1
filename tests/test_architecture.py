"""The package's layout: the layer contract holds, and the import paths of the flat layout
(used by the docs, the examples and users' scripts) still work."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import giantatoms

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("model", "solvers", "measure", "protocols", "sweeps", "experiments", "plotting")


@pytest.mark.parametrize(("old", "new"), sorted(giantatoms.MOVED_MODULES.items()))
def test_old_module_paths_are_the_moved_modules(old, new):
    assert importlib.import_module(f"giantatoms.{old}") is importlib.import_module(new)


def test_old_from_imports_work_in_a_fresh_interpreter():
    code = (
        "from giantatoms.device import Device, Atom\n"
        "from giantatoms.metrics import bell_fidelity\n"
        "from giantatoms.liouvillian import _blas_single_thread\n"
        "from giantatoms.experiment import reproduce\n"
        "import giantatoms.steady_state as m, giantatoms.presets as p\n"
        "import giantatoms as ga\n"
        "assert callable(ga.steady_state) and callable(ga.liouvillian)\n"
        "assert p.load('sequential_pair').n_atoms == 2 and ga.io.__name__.endswith('model.io')\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def _module_paths_in_docs_and_examples() -> set[str]:
    pattern = re.compile(r"(?:from|import)\s+(giantatoms(?:\.\w+)*)")
    found: set[str] = set()
    for path in [*ROOT.joinpath("docs").glob("*.md"), *ROOT.joinpath("examples").glob("*.py")]:
        if path.name == "api.md":
            continue
        found.update(pattern.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_import_path_of_the_docs_and_examples_works():
    paths = _module_paths_in_docs_and_examples()
    assert "giantatoms" in paths and len(paths) > 3
    for name in sorted(paths):
        importlib.import_module(name)


def test_each_layer_is_a_folder():
    package = Path(giantatoms.__file__).parent
    for layer in LAYERS:
        assert (package / layer / "__init__.py").is_file()
    flat = sorted(p.stem for p in package.glob("*.py") if p.stem != "__init__")
    assert flat == ["_validation", "_version", "units"]


def test_the_layer_contract_holds():
    """The same check as CI's ``lint-imports``: lower layers never import higher ones."""
    lint = pytest.importorskip("importlinter.cli")
    assert lint.lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_no_module_is_over_800_lines():
    """Issue 11: no module over ~800 lines; split by idea before a module grows past it."""
    package = Path(giantatoms.__file__).parent
    long = {
        str(p.relative_to(package)): n
        for p in package.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 800
    }
    assert not long, long
