"""Figures of giantatoms.plotting: structure, labels with units, marker positions, errors."""

from __future__ import annotations

import importlib
import io
import sys
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from mpl_toolkits.mplot3d import Axes3D  # noqa: E402

import giantatoms as ga  # noqa: E402
from giantatoms import plotting  # noqa: E402
from giantatoms.measure.metrics import bell_state  # noqa: E402
from giantatoms.protocols import driven_dissipative, run_protocol  # noqa: E402
from giantatoms.units import GHz, MHz, us  # noqa: E402

BAND = (4.0 * GHz, 5.4 * GHz)


@pytest.fixture(scope="module")
def device():
    return ga.presets.load("sequential_pair")


def render(fig):
    """Draw the figure once (catches errors that only appear at draw time)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    assert buffer.getvalue().startswith(b"\x89PNG")


def lines_with_gid(ax, gid):
    return [line for line in ax.get_lines() if line.get_gid() == gid]


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
    source = Path(plotting.__file__).read_text(encoding="utf-8")
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


# ---------------------------------------------------------------------------- rates


def test_rates_curves_labels_and_markers(device):
    fig = plotting.plot_rates(device, BAND, points=301)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    (ax,) = fig.axes
    assert "GHz" in ax.get_xlabel() and "MHz" in ax.get_ylabel()
    omega = np.linspace(*BAND, 301)
    c = device.couplings(frequency=omega)
    curves = [line for line in ax.get_lines() if line.get_gid() is None and len(line.get_xdata())]
    curves = [line for line in curves if len(line.get_xdata()) == omega.size]
    assert len(curves) == 6
    np.testing.assert_allclose(curves[0].get_xdata(), omega / GHz)
    np.testing.assert_allclose(curves[0].get_ydata(), c.decay_rates[:, 0] / MHz)
    np.testing.assert_allclose(curves[2].get_ydata(), np.abs(c.decay_matrix[:, 0, 1]) / MHz)
    np.testing.assert_allclose(curves[3].get_ydata(), c.exchange[:, 0, 1].real / MHz)
    np.testing.assert_allclose(curves[4].get_ydata(), c.lamb_shift[:, 0] / MHz)

    entangling = ga.perfect_correlation_frequencies(device, (0, 1), BAND) / GHz
    marked = sorted(line.get_xdata()[0] for line in lines_with_gid(ax, "entangling"))
    assert len(entangling) >= 1
    np.testing.assert_allclose(marked, entangling)
    assert any(abs(x - 4.6) < 0.01 for x in marked)
    for k, name in enumerate(device.atom_names):
        df = ga.decoherence_free_frequencies(device, k, BAND) / GHz
        lines = lines_with_gid(ax, f"decoherence_free:{name}")
        marked = sorted(line.get_xdata()[0] for line in lines)
        np.testing.assert_allclose(marked, df)
        assert any(abs(x - 5.0) < 1e-3 for x in marked)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("entangling" in t for t in legend) and any("DF point of A" in t for t in legend)
    render(fig)


def test_rates_into_existing_axes_and_without_markers(device):
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plotting.plot_rates(device, BAND, points=50, mark=False, ax=right) is fig
    assert len(left.get_lines()) == 0 and len(right.get_lines()) > 0
    assert not lines_with_gid(right, "entangling")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"band": (5.0 * GHz, 4.0 * GHz)}, "band"),
        ({"band": (0.0, 4.0 * GHz)}, "band"),
        ({"band": BAND, "points": 1}, "points"),
        ({"band": BAND, "pair": (0, 0)}, "pair"),
    ],
)
def test_rates_bad_input(device, kwargs, name):
    with pytest.raises(ValueError, match=name):
        plotting.plot_rates(device, **kwargs)


# ---------------------------------------------------------------------------- spectroscopy


@pytest.fixture(scope="module")
def flux_map(device):
    fa = np.linspace(4.55, 4.65, 6) * GHz
    frequencies = np.stack([fa, np.full_like(fa, 4.6 * GHz)], axis=-1)
    probe = np.linspace(4.58, 4.62, 9) * GHz
    return fa, probe, ga.scattering(device, probe, frequencies=frequencies).s21


@pytest.mark.parametrize(
    ("quantity", "unit", "transform"),
    [
        ("magnitude", "|S21|", np.abs),
        ("db", "dB", lambda s: 20 * np.log10(np.abs(s))),
        ("phase", "rad", np.angle),
    ],
)
def test_spectroscopy_map(flux_map, quantity, unit, transform):
    fa, probe, s21 = flux_map
    fig = plotting.plot_spectroscopy_map(
        fa / GHz, probe, s21, x_label="atom A frequency", x_unit="GHz", quantity=quantity
    )
    assert len(fig.axes) == 2  # map and colour bar
    ax, bar = fig.axes
    assert ax.get_xlabel() == "atom A frequency (GHz)" and "GHz" in ax.get_ylabel()
    assert unit in bar.get_ylabel()
    mesh = ax.collections[0]
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(9, 6), transform(s21).T)
    np.testing.assert_allclose(ax.get_xlim(), [4.55 - 0.01, 4.65 + 0.01])
    render(fig)


def test_spectroscopy_map_into_axes_and_bad_input(flux_map):
    fa, probe, s21 = flux_map
    fig = Figure()
    ax = fig.add_subplot()
    out = plotting.plot_spectroscopy_map(
        np.arange(6), probe, s21, x_label="flux", x_unit="Φ₀", ax=ax
    )
    assert out is fig and ax.get_xlabel() == "flux (Φ₀)" and len(fig.axes) == 2
    with pytest.raises(ValueError, match="s21"):
        plotting.plot_spectroscopy_map(fa, probe, s21.T, x_label="f", x_unit="GHz")
    with pytest.raises(ValueError, match="quantity"):
        plotting.plot_spectroscopy_map(fa, probe, s21, x_label="f", x_unit="GHz", quantity="power")
    with pytest.raises(ValueError, match="probe_frequencies"):
        plotting.plot_spectroscopy_map(fa, -probe, s21, x_label="f", x_unit="GHz")


def test_spectrum_lines_data_and_scattering(device):
    probe = np.linspace(4.58, 4.62, 41) * GHz
    sc = ga.scattering(device, probe)
    measured = (probe[::5], sc.s21[::5] * 0.98)
    fig = plotting.plot_spectrum(probe, sc.s21, sc.s11, data=measured)
    (ax,) = fig.axes
    assert "GHz" in ax.get_xlabel()
    t, r, points = ax.get_lines()
    np.testing.assert_allclose(t.get_ydata(), np.abs(sc.s21) ** 2)
    np.testing.assert_allclose(r.get_ydata(), np.abs(sc.s11) ** 2)
    np.testing.assert_allclose(points.get_xdata(), probe[::5] / GHz)
    assert points.get_linestyle() == "None"
    render(fig)
    # A Scattering result directly, and measured data as a SpectroscopyData.
    data = ga.fitting.SpectroscopyData(probe, s21=np.conj(sc.s21), convention="engineering")
    fig = plotting.plot_spectrum(sc, data=data)
    assert len(fig.axes[0].get_lines()) == 3


def test_spectrum_bad_input():
    probe = np.linspace(4.5, 4.7, 5) * GHz
    with pytest.raises(ValueError, match="s21"):
        plotting.plot_spectrum(probe, s21=np.ones(4))
    with pytest.raises(ValueError, match="at least one"):
        plotting.plot_spectrum(probe)
    with pytest.raises(ValueError, match="data"):
        plotting.plot_spectrum(probe, s21=np.ones(5), data=42)


# ---------------------------------------------------------------------------- fidelity map


@pytest.fixture(scope="module")
def small_sweep(device):
    return ga.sweep(
        device,
        {"drive.power_dbm": [-135, -130, -125], "drive.detuning": ["0.5MHz", "1MHz", "2MHz"]},
        progress=False,
    )


def test_fidelity_map_from_sweep(small_sweep):
    fig = plotting.plot_fidelity_map(small_sweep)
    assert len(fig.axes) == 2
    ax, bar = fig.axes
    assert "MHz" in ax.get_xlabel() and "dBm" in ax.get_ylabel()
    assert "fidelity" in bar.get_ylabel().lower()
    fidelity = small_sweep.bell_fidelity.transpose("power_dbm", "detuning").values
    ip, idet = np.unravel_index(np.argmax(fidelity), fidelity.shape)
    (best,) = lines_with_gid(ax, "best")
    assert best.get_xdata()[0] == pytest.approx(float(small_sweep.detuning[idet]))
    assert best.get_ydata()[0] == pytest.approx(float(small_sweep.power_dbm[ip]))
    assert f"{fidelity[ip, idet]:.3f}" in ax.texts[0].get_text()
    render(fig)
    # Dimensions in the other order draw the same map.
    fig = plotting.plot_fidelity_map(small_sweep.transpose("detuning", "power_dbm", ...))
    np.testing.assert_allclose(fig.axes[0].collections[0].get_array().reshape(3, 3), fidelity)


def test_fidelity_map_from_arrays_and_mapping():
    power = np.array([-140.0, -130.0, -120.0, -110.0])
    detuning = np.array([0.5, 1.0, 2.0]) * MHz
    values = np.arange(12.0).reshape(4, 3) / 12
    values[1, 2] = 0.99
    values[0, 0] = np.nan  # a failed point
    fig = Figure()
    ax = fig.add_subplot()
    assert plotting.plot_fidelity_map((power, detuning, values), ax=ax) is fig
    (best,) = lines_with_gid(ax, "best")
    assert best.get_xdata()[0] == pytest.approx(2.0) and best.get_ydata()[0] == -130.0
    assert "MHz" in ax.get_xlabel() and "dBm" in ax.get_ylabel()
    render(fig)
    mapping = {"power_dbm": power, "detuning_mhz": detuning / MHz, "concurrence": values}
    fig = plotting.plot_fidelity_map(mapping, variable="concurrence", mark_best=False)
    assert not lines_with_gid(fig.axes[0], "best")
    assert "concurrence" in fig.axes[1].get_ylabel()


def test_fidelity_map_bad_input(small_sweep):
    with pytest.raises(ValueError, match="fidelity"):
        plotting.plot_fidelity_map(([-130, -120], [1e6, 2e6, 3e6], np.zeros((3, 2))))
    with pytest.raises(ValueError, match="variable"):
        plotting.plot_fidelity_map(small_sweep, variable="nonsense")
    with pytest.raises(ValueError, match="variable"):
        plotting.plot_fidelity_map(small_sweep, variable="excited_population")  # 3-D
    with pytest.raises(ValueError, match="data"):
        plotting.plot_fidelity_map("map.nc")


# ---------------------------------------------------------------------------- fidelity vs time

T_DRIVE, RAMP, STORE = 1.0 * us, 20e-9, 0.5 * us


@pytest.fixture(scope="module")
def strategies(device):
    times = np.unique(
        np.r_[np.linspace(0, T_DRIVE + RAMP + STORE, 13), T_DRIVE, T_DRIVE + RAMP, T_DRIVE + 5e-9]
    )
    runs, protocols = {}, {}
    for label, after in (("stay", "stay"), ("move to DF", "move_to_df"), ("resonant", "resonant")):
        protocols[label] = driven_dissipative(
            device,
            power_dbm=-130,
            detuning=1 * MHz,
            t_drive=T_DRIVE,
            ramp_time=RAMP,
            t_store=STORE,
            after_drive=after,
        )
        runs[label] = run_protocol(device, protocols[label], times)
    return runs, protocols


def test_fidelity_vs_time_three_strategies(strategies):
    runs, _ = strategies
    fig = plotting.plot_fidelity_vs_time(runs)
    (ax,) = fig.axes
    assert "µs" in ax.get_xlabel() and "Ψ⁻" in ax.get_ylabel()
    curves = [line for line in ax.get_lines() if line.get_gid() is None]
    assert [line.get_label() for line in curves] == list(runs)
    for line, run in zip(curves, runs.values(), strict=True):
        np.testing.assert_allclose(line.get_xdata(), run.times / us)
        np.testing.assert_allclose(line.get_ydata(), run.bell_fidelity_optimized)
    boundaries = sorted(line.get_xdata()[0] for line in lines_with_gid(ax, "segment_boundary"))
    np.testing.assert_allclose(boundaries, [T_DRIVE / us, (T_DRIVE + RAMP) / us])
    labels = {t.get_text() for t in ax.texts}
    assert {"drive", "store"} <= labels  # the 20 ns ramp is too narrow to label
    render(fig)


def test_fidelity_vs_time_protocol_boundaries_tuples_and_metric(strategies):
    runs, protocols = strategies
    fig = Figure()
    ax = fig.add_subplot()
    run = runs["stay"]
    out = plotting.plot_fidelity_vs_time(
        {"stay": run, "by hand": (run.times, run.concurrence)},
        metric="concurrence",
        protocol=protocols["stay"],
        ax=ax,
    )
    assert out is fig and ax.get_ylabel() == "concurrence"
    boundaries = sorted(line.get_xdata()[0] for line in lines_with_gid(ax, "segment_boundary"))
    np.testing.assert_allclose(boundaries, [T_DRIVE / us, (T_DRIVE + RAMP) / us])
    fig = plotting.plot_fidelity_vs_time(run, metric="psi-", segments=False)
    assert "psi-" in fig.axes[0].get_ylabel() and fig.axes[0].get_legend() is None
    assert not lines_with_gid(fig.axes[0], "segment_boundary")


def test_fidelity_vs_time_bad_input(strategies):
    runs, _ = strategies
    with pytest.raises(ValueError, match="metric"):
        plotting.plot_fidelity_vs_time(runs, metric="fidelity")
    with pytest.raises(ValueError, match="results"):
        plotting.plot_fidelity_vs_time({"a": (np.arange(3.0), np.arange(4.0))})
    with pytest.raises(ValueError, match="results"):
        plotting.plot_fidelity_vs_time({"a": 3})
    with pytest.raises(ValueError, match="results"):
        plotting.plot_fidelity_vs_time({})


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
