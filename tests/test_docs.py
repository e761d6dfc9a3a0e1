"""The documentation runs: tutorial and how-to code blocks, examples, the API reference."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("page", ["tutorial.md", "howto.md", "delays.md", "many_atoms.md"])
def test_every_code_block_of_the_page_runs(page, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # the pages write files (device TOML, CSV, stores)
    blocks = python_blocks(DOCS / page)
    assert len(blocks) >= 4
    namespace: dict = {"__name__": "__docs__"}
    for k, block in enumerate(blocks):
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                exec(compile(block, f"{page}[block {k}]", "exec"), namespace)
            except Exception as exc:  # name the block that failed
                raise AssertionError(f"{page}, code block {k} failed: {exc!r}\n{block}") from exc


def test_tutorial_numbers_are_what_the_text_says(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for block in python_blocks(DOCS / "tutorial.md"):
            exec(block, namespace)
    ns = namespace
    assert abs(ns["df"][0] / ns["GHz"] - 5.0) < 1e-9  # "DF point at 5.0 GHz"
    assert abs(ns["modes"].broadening[ns["brightest"]] - 8.0) < 0.1  # "≈ 8 at the in-phase point"
    assert ns["runs"]["stay"].bell_fidelity_optimized[-1] < 0.2  # "gone within a few 1/Γ"
    assert ns["runs"]["move to DF"].bell_fidelity_optimized[-1] > 0.8
    assert 0.8 < ns["estimate"].value < 0.95


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_with_fast_settings(example, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run(
        [sys.executable, str(example), "--fast", "--out", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "an example should print what it found"


def test_api_reference_is_generated_from_the_current_docstrings():
    done = subprocess.run(
        [sys.executable, str(DOCS / "build_api.py"), "--check"],
        env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    for name in ("def sweep", "reconstruct", "run_protocol", "plot_density_matrix", "Device"):
        assert name.split()[-1] in text
