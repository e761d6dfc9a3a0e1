"""Density-matrix cityscapes (giantatoms.plotting.tomography): bar heights, labels, errors."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from mpl_toolkits.mplot3d import Axes3D  # noqa: E402

from giantatoms import plotting  # noqa: E402
from giantatoms.measure.metrics import bell_state  # noqa: E402

from tests.plotting._figures import render  # noqa: E402

# ---------------------------------------------------------------------------- density matrix


@pytest.fixture
def bar_calls(monkeypatch):
    """Record every Axes3D.bar3d call (x, y, z, dx, dy, dz, gid) and still draw it."""
    calls = []
    original = Axes3D.bar3d

    def spy(self, x, y, z, dx, dy, dz, *args, **kwargs):
        calls.append(
            {"ax": self, "x": np.asarray(x), "y": np.asarray(y), "dz": np.asarray(dz), **kwargs}
        )
        return original(self, x, y, z, dx, dy, dz, *args, **kwargs)

    monkeypatch.setattr(Axes3D, "bar3d", spy)
    return calls


def test_density_matrix_bar_heights_are_re_and_im(bar_calls, rng):
    psi = bell_state("psi-")
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    noise = a @ a.conj().T
    rho = 0.8 * np.outer(psi, psi.conj()) + 0.2 * noise / np.trace(noise)
    fig = plotting.plot_density_matrix(rho, title="test state", target="psi-")
    assert len(fig.axes) == 2 and all(ax.name == "3d" for ax in fig.axes)
    re_ax, im_ax = fig.axes
    assert re_ax.get_title() == "Re ρ" and im_ax.get_title() == "Im ρ"
    assert [t.get_text() for t in re_ax.get_xticklabels()] == ["gg", "ge", "eg", "ee"]
    bars = [c for c in bar_calls if c["gid"] == "bars"]
    assert [c["ax"] for c in bars] == [re_ax, im_ax]
    rows = np.rint(bars[0]["x"] + 0.3).astype(int)  # bars are centred on their index
    cols = np.rint(bars[0]["y"] + 0.3).astype(int)
    np.testing.assert_array_equal(bars[0]["dz"], rho.real[rows, cols])
    np.testing.assert_array_equal(bars[1]["dz"], rho.imag[rows, cols])
    assert rows.size == 16
    (target,) = [c for c in bar_calls if c["gid"] == "target"]  # Im of Ψ⁻ is zero: no wireframe
    assert target["ax"] is re_ax
    np.testing.assert_allclose(sorted(target["dz"]), [-0.5, -0.5, 0.5, 0.5])
    assert re_ax.get_zlim() == pytest.approx((-0.5, 0.5))
    render(fig)


def test_density_matrix_qutrits_labels_and_existing_axes(bar_calls):
    rho = np.zeros((9, 9), dtype=complex)
    rho[0, 0], rho[8, 8] = 0.3, 0.7
    rho[0, 8], rho[8, 0] = 0.2j, -0.2j
    fig = Figure()
    axes = [fig.add_subplot(1, 2, k, projection="3d") for k in (1, 2)]
    assert plotting.plot_density_matrix(rho, axes=axes, labels="numbers") is fig
    assert len(fig.axes) == 2
    assert [t.get_text() for t in axes[0].get_yticklabels()][-1] == "22"
    assert axes[0].get_zlim() == pytest.approx((-0.7, 0.7))  # ±max rounded up to 0.1
    fig = plotting.plot_density_matrix(rho, target=np.diag([0.0, 0.5, 0.5, 0.0]))
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["gg", "ge", "gf", "eg", "ee", "ef", "fg", "fe", "ff"]
    (target,) = [c for c in bar_calls if c["gid"] == "target"]
    # The 4×4 target sits on |ge⟩, |eg⟩ (indices 1 and 3) of the qutrit space.
    np.testing.assert_allclose(target["x"] + 0.3, [1, 3])
    np.testing.assert_allclose(target["y"] + 0.3, [1, 3])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"rho": np.zeros((4, 3))}, "rho"),
        ({"rho": np.zeros(4)}, "rho"),
        ({"rho": np.eye(6) / 6}, "labels"),
        ({"rho": np.eye(4) / 4, "labels": ["a", "b"]}, "labels"),
        ({"rho": np.eye(4) / 4, "labels": "kets"}, "labels"),
        ({"rho": np.eye(4) / 4, "target": np.eye(3)}, "target"),
        ({"rho": np.eye(4) / 4, "zlim": -1.0}, "zlim"),
    ],
)
def test_density_matrix_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        plotting.plot_density_matrix(**kwargs)


def test_density_matrix_custom_labels_for_other_dimensions():
    fig = plotting.plot_density_matrix(np.eye(6) / 6, labels=list("abcdef"))
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == list("abcdef")
