"""Figures of giantatoms.plotting: import without matplotlib, no pyplot state, saving."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


from giantatoms import plotting  # noqa: E402
from giantatoms.units import GHz  # noqa: E402

# ---------------------------------------------------------------------------- import, saving


def test_module_imports_without_matplotlib_and_functions_say_how_to_install(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    module = importlib.reload(plotting)  # the module itself must not need matplotlib
    try:
        with pytest.raises(ImportError, match=r"pip install 'giantatoms\[plot\]'"):
            module.plot_spectrum([1.0, 2.0], s21=[1.0, 0.5])
    finally:
        monkeypatch.undo()
        importlib.reload(plotting)


def test_no_pyplot_state():
    for module in Path(plotting.__file__).parent.glob("*.py"):  # the package's modules
        source = module.read_text(encoding="utf-8")
        assert "import matplotlib.pyplot" not in source
        assert "from matplotlib import pyplot" not in source


def test_save_figure_creates_folders_and_writes_png(tmp_path):
    fig = plotting.plot_spectrum(np.linspace(1, 2, 5) * GHz, s21=np.ones(5))
    path = plotting.save_figure(fig, tmp_path / "a" / "b" / "spectrum.png", dpi=50)
    assert path == tmp_path / "a" / "b" / "spectrum.png"
    data = path.read_bytes()
    assert len(data) > 0 and data.startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="dpi"):
        plotting.save_figure(fig, tmp_path / "x.png", dpi=0)
    with pytest.raises(TypeError, match="fig"):
        plotting.save_figure(object(), tmp_path / "x.png")
