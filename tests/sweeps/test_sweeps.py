"""Sweeps: declaration checks, values against the core, executors, storage/resume, failures."""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import giantatoms as ga
from giantatoms.sweeps import (
    Axis,
    ProcessExecutor,
    SweepSpec,
    _execute,
    resolve_path,
    run_sweep,
    sweep,
)
from giantatoms.units import MHz, us

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def device():
    return ga.presets.load("sequential_pair")


@pytest.fixture(scope="module")
def ideal():
    """Two small two-level atoms one wavelength apart: the pure-dark-state model."""
    return ga.presets.load("small_atoms_one_wavelength")


def small_grid(chunk_size=5):
    return {
        "axes": {
            "drive.power_dbm": {"start": "-140dBm", "stop": "-120dBm", "num": 4},
            "drive.detuning": ["0.5MHz", "1MHz", "2MHz"],
            "atoms.*.t1": ["20us", "40us"],
        },
        "quantities": ["steady", "gap"],
        "chunk_size": chunk_size,
        "progress": False,
    }


# ---------------------------------------------------------------------------------------------
# Paths and declarations


def test_paths_resolve_with_units_and_dims(device):
    p = resolve_path(device, "atoms.A.t1")
    assert (p.group, p.field, p.atoms, p.unit, p.dim) == ("device", "t1", (0,), "us", "A_t1")
    assert p.parse("30us") == pytest.approx(30 * us)
    assert p.parse(3e-5) == 3e-5  # numbers are internal units
    star = resolve_path(device, "atoms.*.point_rates[1]")
    assert star.atoms == (0, 1) and star.index == 1 and star.dim == "point_rates1"
    assert resolve_path(device, "drive.detuning").parse("2 MHz") == pytest.approx(2 * MHz)
    assert resolve_path(device, "drive.power_dbm").parse("-130dBm") == -130.0
    assert resolve_path(device, "waveguide.phase_velocity").unit == "m/s"


@pytest.mark.parametrize(
    ("axes", "message"),
    [
        ({"atoms.A.tone": [1.0]}, "unknown parameter path 'atoms.A.tone'"),
        ({"drive.powr_dbm": [1.0]}, "did you mean"),
        ({"atoms.C.t1": ["1us"]}, "no atom named 'C'"),
        ({"atoms.A.points[7]": ["1mm"]}, "out of range"),
        ({"atoms.A.t1": ["2 GHz"]}, "atoms.A.t1 is a time"),
        ({"drive.power_dbm": ["3us"]}, "drive.power_dbm is a power"),
        ({"drive.detuning": ["1 parsec"]}, "unknown frequency unit"),
        ({"atoms.A.t1": []}, "empty list of values"),
        ({"drive.power_dbm": {"start": -120, "stop": -130, "step": 1.0}}, "empty range"),
        ({"drive.power_dbm": {"start": -120, "stop": -130, "num": 0}}, "num must be"),
        ({"drive.power_dbm": {"start": -120, "num": 3}}, "a range needs"),
        ({"atoms.A.t1": ["-3us"]}, "outside the allowed range"),
        ({"atoms.A.right_fraction": [1.5]}, "outside the allowed range"),
        ({"drive.detuning": [float("nan")]}, "finite"),
        ({}, "at least one axis"),
    ],
)
def test_bad_specs_fail_before_any_work(device, axes, message, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("a bad spec reached the evaluation")

    monkeypatch.setattr(_execute, "evaluate_chunk", forbidden)
    fixed = {"drive.detuning": "1MHz", "drive.power_dbm": -130}
    fixed = {k: v for k, v in fixed.items() if k not in axes}
    with pytest.raises((ValueError, TypeError), match=message):
        sweep(device, axes, fixed=fixed, progress=False)


AXES = {"drive.power_dbm": [-130], "drive.detuning": [1e6]}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"axes": {"drive.power_dbm": [-130]}}, "needs drive.detuning"),
        ({"axes": {"drive.detuning": [1e6]}}, "need drive.power_dbm"),
        (
            {"axes": {"atoms.A.frequency": ["4.6GHz"]}, "fixed": {"drive.power_dbm": -130}},
            "set by the entangling operating point",
        ),
        (
            {"axes": {"drive.power_dbm": [-130]}, "operating_point": "device"},
            "needs drive.frequency",
        ),
        (
            {
                "axes": {"atoms.A.points[0]": ["1mm"]},
                "fixed": {
                    "drive.power_dbm": -130,
                    "drive.detuning": 1e6,
                    "protocol.t_drive": "1us",
                    "protocol.ramp_time": "10ns",
                    "protocol.t_store": "1us",
                },
                "quantities": "protocol",
            },
            "protocol with a swept geometry",
        ),
        (
            {
                "axes": {"drive.power_dbm": [-130], "drive.detuning": [1e6]},
                "quantities": "protocol",
            },
            "needs \\['protocol.t_drive'",
        ),
        (
            {
                "axes": {"drive.detuning": [1e6]},
                "quantities": "spectrum",
            },
            "needs probe_frequencies",
        ),
        (
            {
                "axes": {"drive.power_dbm": [-130], "drive.detuning": [1e6]},
                "fixed": {"noise.frequency_noise": "0.1MHz"},
            },
            "noise_samples",
        ),
        (
            {
                "axes": {"drive.power_dbm": [-130], "drive.detuning": [1e6]},
                "quantities": "tomography",
            },
            "quantities must be one of",
        ),
        (
            {"axes": AXES, "chunk_size": 0},
            "chunk_size",
        ),
        (
            {
                "axes": [
                    Axis("drive.power_dbm", [-130, -120], dim="x"),
                    Axis("drive.detuning", [1e6], dim="x"),
                ]
            },
            "equal lengths",
        ),
        (
            {"axes": AXES, "executor": "gpu"},
            "executor must be",
        ),
        (
            {"axes": {"drive.power_dbm": [-130]}, "fixed": {"drive.power_dbm": -120}},
            "both swept and fixed",
        ),
        (
            {
                "axes": {"atoms.*.frequency": ["4.6GHz"], "drive.frequency": ["4.6GHz"]},
                "fixed": {"drive.power_dbm": -130},
                "operating_point": "device",
            },
            "both default to the dimension 'frequency'",
        ),
        ({"axes": [Axis("drive.power_dbm", [-130], dim="gap")]}, "taken by result variables"),
        (
            {"axes": {**AXES, "atoms.A.t2": ["10us"]}, "fixed": {"atoms.A.t_phi": "20us"}},
            "either t2 or t_phi",
        ),
        (
            {"axes": {**AXES, "atoms.A.point_rates": ["1MHz"], "atoms.A.point_rates[0]": ["2MHz"]}},
            "both for all points and for one point",
        ),
        ({"axes": {**AXES, "protocol.ramp_time": ["10ns"]}}, "not used by quantities"),
        (
            {
                "axes": {"drive.power_dbm": [-130]},
                "fixed": {"drive.detuning": 1e6, "atoms.A.t1": "10us"},
            },
            "t2 must be ≤ 2·t1",
        ),
    ],
)
def test_inconsistent_declarations_fail_early(device, kwargs, message, monkeypatch):
    monkeypatch.setattr(
        _execute, "evaluate_chunk", lambda *a: (_ for _ in ()).throw(AssertionError("ran"))
    )
    with pytest.raises((ValueError, TypeError), match=message):
        sweep(device, progress=False, **kwargs)


# ---------------------------------------------------------------------------------------------
# Values and labels


def test_steady_sweep_equals_the_core_batched_call(device):
    ds = sweep(device, **small_grid())
    assert ds.bell_fidelity.dims == ("power_dbm", "detuning", "t1")
    assert ds.power_dbm.attrs["units"] == "dBm" and ds.detuning.attrs["units"] == "MHz"
    assert ds.t1.attrs["units"] == "us" and ds.t1.attrs["path"] == "atoms.*.t1"
    np.testing.assert_allclose(ds.detuning, [0.5, 1, 2])
    np.testing.assert_allclose(ds.t1, [20, 40])
    assert not ds.failed.any() and ds.converged.all()
    # The same points built by hand, as one batched call of the lower layers.
    powers = np.linspace(-140, -120, 4)[:, None, None]
    deltas = np.array([0.5, 1, 2])[None, :, None] * MHz
    t1 = np.array([20, 40])[None, None, :] * us
    chip = dataclasses.replace(device, atoms=[a.replace(t1=t1, t2=a.t2) for a in device.atoms])
    w0 = ga.entangling_operating_point(device, 0.0).correlation_frequency
    op = ga.entangling_operating_point(
        chip, np.broadcast_to(deltas, (1, 3, 2)), correlation_frequency=w0
    )
    me = ga.master_equation(
        chip, ga.Drive(frequency=op.drive_frequency, power_dbm=powers), frequencies=op.frequencies
    )
    rho = ga.steady_state(me).rho
    expected = ga.bell_fidelity(rho, op.dark_state, optimize_phases=True)
    np.testing.assert_allclose(ds.bell_fidelity, expected, atol=1e-12)
    np.testing.assert_allclose(ds.concurrence, ga.concurrence(rho), atol=1e-12)
    gap = ga.liouvillian_gap(me).gap
    np.testing.assert_allclose(ds.stabilisation_time, 1 / gap / us, rtol=1e-10)
    np.testing.assert_allclose(
        ds.atom_frequency, np.broadcast_to(op.frequencies, (4, 3, 2, 2)) / (2e9 * np.pi), rtol=1e-14
    )


def test_attributes_record_the_input(device):
    ds = sweep(device, **small_grid())
    spec = json.loads(ds.attrs["sweep_spec"])
    assert [a["path"] for a in spec["axes"]] == ["drive.power_dbm", "drive.detuning", "atoms.*.t1"]
    assert ga.Device.from_toml(ds.attrs["device_toml"]) == device
    versions = json.loads(ds.attrs["versions"])
    assert versions["giantatoms"] == ga.__version__ and "numpy" in versions
    assert json.loads(ds.attrs["sweep_input"])["axes"]["drive.detuning"] == [
        "0.5MHz",
        "1MHz",
        "2MHz",
    ]
    assert len(ds.attrs["sweep_fingerprint"]) == 64


def test_single_atom_parameter_and_zipped_axes(device):
    # atoms.A.t1 changes atom A only; two axes on one dim are swept together.
    ds = sweep(
        device,
        [
            Axis("atoms.A.t1", ["10us", "50us"], dim="quality"),
            Axis("atoms.B.t1", ["50us", "10us"], dim="quality"),
        ],
        fixed={"drive.power_dbm": -130, "drive.detuning": "1MHz", "atoms.*.t2": "15us"},
        progress=False,
    )
    assert ds.bell_fidelity.dims == ("quality",)
    np.testing.assert_allclose(ds["atoms.A.t1"], [10, 50])
    np.testing.assert_allclose(ds["atoms.B.t1"], [50, 10])
    # Swapping the atoms' T1 changes which atom is lossier: populations mirror, not equal.
    pop = ds.excited_population.values
    assert not np.allclose(pop[0], pop[1])


def test_device_mode_geometry_and_spectrum_against_scattering(ideal):
    probe = np.linspace(4.59, 4.61, 41) * 2e9 * np.pi
    ds = sweep(
        ideal,
        {"atoms.B.points[0]": ["26.087mm", "30mm"], "atoms.A.frequency": ["4.6GHz", "4.601GHz"]},
        quantities=["spectrum"],
        operating_point="device",
        probe_frequencies=probe,
        progress=False,
    )
    assert ds.s21_real.dims == ("B_points0", "A_frequency", "probe_frequency")
    atom_b = ideal.atoms[1].replace(points=[30e-3])
    chip = dataclasses.replace(
        ideal, atoms=[ideal.atoms[0].replace(frequency=4.601e9 * 2 * np.pi), atom_b]
    )
    s = ga.scattering(chip, probe)
    np.testing.assert_allclose(ds.s21_real[1, 1] + 1j * ds.s21_imag[1, 1], s.s21, atol=1e-12)
    np.testing.assert_allclose(ds.s11_real[1, 1] + 1j * ds.s11_imag[1, 1], s.s11, atol=1e-12)
    np.testing.assert_allclose(ds.probe_frequency, probe / (2e9 * np.pi))


def test_protocol_sweep_matches_run_protocol(device):
    ds = sweep(
        device,
        {"protocol.ramp_time": ["10ns", "30ns"], "drive.detuning": ["1MHz", "2MHz"]},
        fixed={"drive.power_dbm": -131, "protocol.t_drive": "3us", "protocol.t_store": "0.5us"},
        quantities=["protocol"],
        times=["end_drive", "end_ramp", "end", "1us"],
        progress=False,
    )
    assert ds.protocol_bell_fidelity_optimized.dims == ("ramp_time", "detuning", "time")
    assert list(ds.time.values) == ["end_drive", "end_ramp", "end", "1 us"]
    np.testing.assert_allclose(ds.protocol_time[1, 0], [3.0, 3.03, 3.53, 1.0])
    protocol = ga.protocols.driven_dissipative(
        device, power_dbm=-131, detuning=1 * MHz, t_drive=3 * us, ramp_time=30e-9, t_store=0.5 * us
    )
    times = np.array([1.0, 3.0, 3.03, 3.53]) * us
    direct = ga.run_protocol(device, protocol, times, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(
        ds.protocol_bell_fidelity_optimized[1, 0],
        direct.bell_fidelity_optimized[[1, 2, 3, 0]],
        atol=1e-6,
    )
    assert (ds.protocol_error_estimate >= 0).all() and not ds.failed.any()


def test_quasi_static_noise_is_seeded_and_shared(device):
    kwargs = {
        "axes": {"noise.frequency_noise": [0.0, "0.3MHz"]},
        "fixed": {
            "drive.power_dbm": -131,
            "drive.detuning": "1MHz",
            "protocol.t_drive": "2us",
            "protocol.ramp_time": "10ns",
            "protocol.t_store": "1us",
        },
        "quantities": ["protocol"],
        "times": ["end"],
        "noise_samples": 4,
        "seed": 7,
        "progress": False,
    }
    a, b = sweep(device, **kwargs), sweep(device, **kwargs)
    xr.testing.assert_identical(a, b)
    assert a.attrs["seed"] == 7
    assert float(a.protocol_bell_fidelity_sem[0, 0]) < 1e-14  # no noise: every sample equal
    assert float(a.protocol_bell_fidelity_sem[1, 0]) > 0.0
    no_seed = sweep(device, **dict(kwargs, seed=None))
    assert no_seed.attrs["seed"] >= 0  # drawn and recorded


def test_noise_averages_are_those_of_the_shot_averaged_state(device):
    """Reconstructed chip, 5 µs storage at the DF point after a 3 µs drive.

    σ → 0 gives the noiseless fidelity; σ√2·t ≈ 22 rad wipes out the shot-averaged singlet
    coherence, leaving the incoherent floor (P_eg + P_ge)/2. The per-shot optimum (its own
    variable) would stay near the noiseless value.
    """
    fixed = {
        "drive.power_dbm": -127,
        "drive.detuning": "2MHz",
        "protocol.t_drive": "3us",
        "protocol.ramp_time": "30ns",
        "protocol.t_store": "5us",
    }
    common = {"quantities": ["protocol"], "times": ["end"], "progress": False}
    noisy = sweep(
        device, {"noise.frequency_noise": [0.0, "1kHz", "0.5MHz"]}, fixed=fixed,
        noise_samples=48, seed=3, **common,
    )  # fmt: skip
    clean = sweep(
        device, {"drive.detuning": ["2MHz"]},
        fixed={k: v for k, v in fixed.items() if k != "drive.detuning"}, **common,
    )  # fmt: skip
    f0 = float(clean.protocol_bell_fidelity_optimized[0, 0])
    f = noisy.protocol_bell_fidelity_optimized[:, 0].values
    sem = noisy.protocol_bell_fidelity_optimized_sem[:, 0].values
    per_shot = noisy.protocol_bell_fidelity_optimized_per_shot[:, 0].values
    assert f[0] == pytest.approx(f0, abs=1e-10)
    assert abs(f[1] - f0) < 1e-3
    protocol = ga.protocols.driven_dissipative(
        device, power_dbm=-127.0, detuning=2 * ga.units.MHz, t_drive=3e-6, ramp_time=30e-9,
        t_store=5e-6,
    )  # fmt: skip
    pops = ga.run_protocol(device, protocol, [0.0, float(protocol.duration)]).populations
    floor = 0.5 * (pops["eg"][-1] + pops["ge"][-1])
    assert 0.0 < sem[2] < 0.05
    assert abs(f[2] - floor) < 3 * sem[2]
    assert f0 - f[2] > 0.2
    assert per_shot[2] > f0 - 0.05  # the upper bound hides the loss


# ---------------------------------------------------------------------------------------------
# Failures are data


def test_failing_points_are_recorded_and_the_rest_complete(ideal, device):
    # Lossless and δ = 0: the singlet is dark and decoupled from the drive, so it is a second
    # steady state next to the driven one (no unique steady state).
    ds = sweep(
        ideal,
        {"drive.detuning": [0.0, "1MHz"]},
        fixed={"drive.power_dbm": -128.0},
        progress=False,
    )
    assert ds.failed.values.tolist() == [True, False]
    assert "no unique steady state" in str(ds.error.values[0]) and ds.error.values[1] == ""
    assert not ds.converged.values[0] and ds.condition_estimate.values[0] > 1e12
    assert np.isfinite(ds.bell_fidelity.values[1])
    # An invalid combination (T2 > 2 T1) raises inside the chunk: recorded per point.
    ds = sweep(
        device,
        {"atoms.A.t2": ["10us", "90us", "20us"]},
        fixed={"atoms.A.t1": "30us", "drive.power_dbm": -130, "drive.detuning": "1MHz"},
        chunk_size=3,
        progress=False,
    )
    assert ds.failed.values.tolist() == [False, True, False]
    assert "t2 must be ≤ 2·t1" in str(ds.error.values[1])
    assert (
        np.isnan(ds.bell_fidelity.values[1]) and np.isfinite(ds.bell_fidelity.values[[0, 2]]).all()
    )


# ---------------------------------------------------------------------------------------------
# Executors: every back end gives the same bits


def test_processes_and_thread_pools_equal_serial_bit_for_bit(device):
    serial = sweep(device, **small_grid())
    processes = sweep(device, **small_grid(), executor="processes", workers=2)
    xr.testing.assert_identical(serial, processes)
    with cf.ThreadPoolExecutor(2) as pool:
        xr.testing.assert_identical(serial, sweep(device, **small_grid(), executor=pool))
    with ProcessExecutor(2) as pool:  # one pool reused by two sweeps
        xr.testing.assert_identical(serial, sweep(device, **small_grid(), executor=pool))
        first = pool.pool
        xr.testing.assert_identical(serial, sweep(device, **small_grid(), executor=pool))
        assert pool.pool is first


def test_dask_local_cluster_equals_serial_bit_for_bit(device):
    distributed = pytest.importorskip("distributed")
    serial = sweep(device, **small_grid())
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        with distributed.Client(cluster) as client:
            via_client = sweep(device, **small_grid(), executor=client)
            via_address = sweep(device, **small_grid(), executor=cluster.scheduler_address)
        via_cluster = sweep(device, **small_grid(), executor=cluster)
    finally:
        cluster.close()
    xr.testing.assert_identical(serial, via_client)
    xr.testing.assert_identical(serial, via_address)
    xr.testing.assert_identical(serial, via_cluster)


class FlakyExecutor(cf.Executor):
    """Runs tasks inline; the first submission of each chunk in ``flaky`` raises."""

    def __init__(self, flaky):
        self.flaky, self.seen = set(flaky), set()

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        chunk = args[1]
        if chunk in self.flaky and chunk not in self.seen:
            self.seen.add(chunk)
            future.set_exception(ConnectionError("worker lost"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future


def test_failed_tasks_are_retried_and_finished_work_is_kept(device, tmp_path):
    serial = sweep(device, **small_grid())
    xr.testing.assert_identical(
        serial, sweep(device, **small_grid(), executor=FlakyExecutor({1, 3}))
    )
    store = tmp_path / "flaky.zarr"
    with pytest.raises(RuntimeError, match="chunk 3 failed 1 times"):
        sweep(device, **small_grid(), executor=FlakyExecutor({3}), retries=0, store=store)
    resumed = sweep(device, **small_grid(), store=store)
    xr.testing.assert_identical(serial, resumed)


def _suicidal_task(spec, chunk):
    """First call in any worker: die like an OOM-killed process (fork pools only)."""
    marker = Path(os.environ["GIANTATOMS_TEST_MARKER"])
    if chunk == 2 and not marker.exists():
        marker.write_text("died once")
        os._exit(1)
    return _execute.evaluate_chunk(spec, chunk)


@pytest.mark.skipif(sys.platform != "linux", reason="needs the fork start method")
def test_a_dead_worker_process_is_replaced_and_its_chunk_retried(device, tmp_path, monkeypatch):
    serial = sweep(device, **small_grid())
    monkeypatch.setenv("GIANTATOMS_TEST_MARKER", str(tmp_path / "marker"))
    monkeypatch.setattr(_execute, "_worker_task", _suicidal_task)
    with ProcessExecutor(2, start_method="fork") as pool:
        result = sweep(device, **small_grid(), executor=pool)
    assert (tmp_path / "marker").exists()
    xr.testing.assert_identical(serial, result)


# ---------------------------------------------------------------------------------------------
# Storage and resume

KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import giantatoms as ga
    from giantatoms.sweeps import _execute, sweep
    from tests.sweeps.test_sweeps import small_grid

    real = _execute.evaluate_chunk
    def slow(spec, chunk):
        time.sleep(0.15)
        return real(spec, chunk)
    _execute.evaluate_chunk = slow
    sweep(ga.presets.load("sequential_pair"), **small_grid(chunk_size=2), store=sys.argv[1])
    """
)


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_sigkill_then_resume_gives_the_identical_dataset(device, tmp_path, suffix):
    import zarr

    reference = sweep(device, **small_grid(chunk_size=2))
    store = tmp_path / f"run{suffix}"
    checkpoint = store if suffix == ".zarr" else tmp_path / f"run{suffix}.partial.zarr"
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT)
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'src'}")
    proc = subprocess.Popen([sys.executable, str(script), str(store)], env=env, cwd=ROOT)
    done = 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                done = int(
                    zarr.open_group(str(checkpoint), mode="r")["checkpoint/chunk_done"][:].sum()
                )
            except Exception:
                done = 0
            if done >= 3:
                break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the sweep finished before it could be killed"
    n_chunks = SweepSpec.create(
        device, small_grid()["axes"], quantities=["steady", "gap"], chunk_size=2
    ).n_chunks
    assert 3 <= done < n_chunks
    with pytest.warns(RuntimeWarning, match="stale lock"):  # the killed driver's lock
        resumed = sweep(device, **small_grid(chunk_size=2), store=store)
    xr.testing.assert_identical(reference, resumed)
    # The store is complete now: opening it again computes nothing and gives the same dataset.
    again = sweep(device, **small_grid(chunk_size=2), store=store)
    xr.testing.assert_identical(reference, again)
    on_disk = (
        xr.open_zarr(store, consolidated=False) if suffix == ".zarr" else xr.open_dataset(store)
    )
    xr.testing.assert_identical(reference, on_disk.load())


def test_a_store_of_another_sweep_is_refused(device, tmp_path):
    store = tmp_path / "a.zarr"
    sweep(device, **small_grid(), store=store)
    other = small_grid()
    other["axes"] = dict(other["axes"], **{"drive.detuning": ["0.5MHz", "1MHz", "3MHz"]})
    with pytest.raises(ValueError, match="different sweep"):
        sweep(device, **other, store=store)
    assert sweep(device, **other, store=store, overwrite=True).detuning.values.tolist() == [
        0.5,
        1,
        3,
    ]


# ---------------------------------------------------------------------------------------------
# Optimisation


def _dark_state_fidelity(ideal, delta):
    op = ga.entangling_operating_point(ideal, delta)
    me = ga.master_equation(ideal, op.drive(-128.0), frequencies=op.frequencies)
    omega = np.abs(me.info["drive_amplitudes"]).mean()
    return 2 * omega**2 / (delta**2 + 2 * omega**2)


def test_optimiser_finds_the_pure_dark_state_optimum(ideal):
    # PHYSICS.md §6: the steady state is the pure dark state, F = 2Ω²/(δ² + 2Ω²), only when the
    # drive sits at the dressed centre; any offset of the drive frequency mixes it.
    fixed = {"drive.detuning": "1MHz", "drive.power_dbm": -128.0}
    expected = _dark_state_fidelity(ideal, 1 * MHz)
    de = ga.optimize(ideal, {"drive.offset": ("-3MHz", "3MHz")}, fixed=fixed, seed=1)
    assert de.value == pytest.approx(expected, abs=1e-6)
    assert abs(de.x["drive.offset"]) < 2e-3 * MHz
    assert de.success and de.batches < de.evaluations  # the population ran batched
    nm = ga.optimize(
        ideal,
        {"drive.offset": ("-3MHz", "3MHz")},
        fixed=fixed,
        method="Nelder-Mead",
        x0={"drive.offset": "1MHz"},
    )
    assert nm.value == pytest.approx(expected, abs=1e-6)
    # Two parameters: F grows as δ falls, so the optimum is δ at its lower bound, offset 0.
    both = ga.optimize(
        ideal,
        {"drive.offset": ("-3MHz", "3MHz"), "drive.detuning": ("0.5MHz", "2MHz")},
        fixed={"drive.power_dbm": -128.0},
        seed=2,
    )
    assert both.x["drive.detuning"] == pytest.approx(0.5 * MHz, rel=1e-4)
    assert both.value == pytest.approx(_dark_state_fidelity(ideal, 0.5 * MHz), abs=1e-6)
    assert both.x_display["drive.detuning"][1] == "MHz"
    assert both.history[-1] == pytest.approx(both.value, abs=1e-9)


OFFSET = {"drive.offset": ("-3MHz", "3MHz")}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"parameters": {"drive.offset": ("3MHz", "-3MHz")}}, "low < high"),
        ({"parameters": {"drive.ofset": ("-3MHz", "3MHz")}}, "unknown parameter path"),
        (
            {"parameters": {"drive.offset": ("-3MHz", "3MHz")}, "objective": "happiness"},
            "objective",
        ),
        ({"parameters": {"drive.offset": ("-3MHz", "3MHz")}, "method": "annealing"}, "method"),
        ({"parameters": {}}, "at least one path"),
    ],
)
def test_optimiser_rejects_bad_input(ideal, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ga.optimize(ideal, fixed={"drive.detuning": "1MHz", "drive.power_dbm": -128}, **kwargs)


# ---------------------------------------------------------------------------------------------
# Progress and the command line


def test_progress_bar_reports_points_rate_and_eta(capsys):
    bar = _execute.Progress(100, done=20, enabled=True)
    bar.update(40)
    bar.close()
    err = capsys.readouterr().err
    assert "60/100 points" in err and "pts/s" in err and "ETA" in err
    quiet = _execute.Progress(100, enabled=None)  # stderr is not a terminal under pytest
    quiet.update(10)
    assert capsys.readouterr().err == ""


def test_cli_sweep_from_toml(tmp_path, capsys):
    from giantatoms.cli import main

    spec = tmp_path / "study.toml"
    spec.write_text(
        textwrap.dedent(
            """
            device = "sequential_pair"
            quantities = ["steady", "gap"]
            [axes]
            "drive.power_dbm" = {start = "-140dBm", stop = "-120dBm", num = 3}
            "drive.detuning" = ["0.5MHz", "1MHz"]
            [fixed]
            "atoms.*.t1" = "30us"
            [run]
            store = "study.zarr"
            """
        )
    )
    assert main(["sweep", str(spec), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["points"] == 6 and summary["failed"] == 0
    assert summary["best"]["variable"] == "bell_fidelity"
    assert 0 < summary["best"]["metrics"]["bell_fidelity"]["value"] < 1
    ds = xr.open_zarr(tmp_path / "study.zarr", consolidated=False)
    assert ds.bell_fidelity.shape == (3, 2)
    assert main(["sweep", str(spec)]) == 0  # complete store: resumes instantly
    assert "best bell_fidelity" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('device = "sequential_pair"\n[axes]\n"atoms.A.t1" = ["3 GHz"]\n', "atoms.A.t1 is a time"),
        ('device = "nowhere"\n[axes]\n"drive.power_dbm" = [-130]\n', "unknown preset"),
        ('device = "sequential_pair"\n', "an \\[axes\\] table"),
        (
            'device = "sequential_pair"\ncolour = 1\n[axes]\n"drive.power_dbm" = [1]\n',
            "unknown keys",
        ),
        ("device = \n", "not valid TOML"),
    ],
)
def test_cli_sweep_errors_are_one_line(tmp_path, capsys, text, message):
    from giantatoms.cli import main

    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    assert main(["sweep", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("giantatoms: error:") and err.count("\n") == 1
    assert __import__("re").search(message, err)


def test_run_sweep_type_checks(device):
    with pytest.raises(TypeError, match="SweepSpec"):
        run_sweep({"not": "a spec"})


def test_an_in_process_executor_leaves_the_thread_settings_alone(device):
    from giantatoms.solvers.liouvillian import default_threads

    before = (default_threads(), os.environ.get("OPENBLAS_NUM_THREADS"))
    with cf.ThreadPoolExecutor(2) as pool:
        sweep(device, **small_grid(), executor=pool)
    assert (default_threads(), os.environ.get("OPENBLAS_NUM_THREADS")) == before


def test_a_bad_point_is_isolated_by_bisection_not_a_point_loop(device, monkeypatch):
    from giantatoms.sweeps import _evaluate

    calls = []
    real = _evaluate._evaluate

    def counting(spec, values, n):
        calls.append(n)
        return real(spec, values, n)

    monkeypatch.setattr(_evaluate, "_evaluate", counting)
    t2 = ["20us"] * 16
    t2[11] = "80us"  # > 2·T1 = 60 µs: an invalid atom
    ds = sweep(
        device,
        [
            Axis("atoms.A.t2", t2, dim="sample"),
            Axis("drive.power_dbm", [-130.0] * 16, dim="sample"),
        ],
        fixed={"atoms.A.t1": "30us", "drive.detuning": "1MHz"},
        chunk_size=16,
        progress=False,
    )
    assert np.flatnonzero(ds.failed.values).tolist() == [11]
    assert len(calls) <= 1 + 2 * 4 and calls[0] == 16


@settings(max_examples=6, deadline=None)
@given(chunk=st.integers(min_value=1, max_value=30))
def test_results_do_not_depend_on_chunking_beyond_rounding(chunk):
    device = ga.presets.load("sequential_pair")
    reference = sweep(device, **small_grid(chunk_size=24))
    ds = sweep(device, **small_grid(chunk_size=chunk))
    for name in ("bell_fidelity", "concurrence", "purity", "stabilisation_time", "atom_frequency"):
        np.testing.assert_allclose(ds[name], reference[name], rtol=1e-9, atol=1e-12)
    assert (ds.converged == reference.converged).all()


def test_probe_power_gives_the_driven_spectrum(device):
    probe = np.linspace(4.598, 4.602, 9) * 2e9 * np.pi
    ds = sweep(
        device,
        {"probe.power_dbm": [-150.0, -120.0]},
        quantities=["spectrum"],
        operating_point="device",
        probe_frequencies=probe,
        progress=False,
    )
    for k, power in enumerate((-150.0, -120.0)):
        s21 = ga.scattering(device, probe, power_dbm=power).s21
        np.testing.assert_allclose(ds.s21_real[k] + 1j * ds.s21_imag[k], s21, atol=1e-12)
    # Saturation: the strong probe is transmitted more at the atoms' resonance.
    assert abs(complex(ds.s21_real[1, 4], ds.s21_imag[1, 4])) > abs(
        complex(ds.s21_real[0, 4], ds.s21_imag[0, 4])
    )


def test_unit_string_steps_and_zipped_toml_axes(ideal, tmp_path):
    spec = SweepSpec.create(
        ideal,
        {"atoms.A.frequency": {"start": "4.61GHz", "stop": "4.59GHz", "step": "-0.01GHz"}},
        quantities=["spectrum"],
        operating_point="device",
        probe_frequencies=["4.6GHz"],
    )
    np.testing.assert_allclose(spec.axes[0].values, np.array([4.61, 4.6, 4.59]) * 2e9 * np.pi)
    path = tmp_path / "zip.toml"
    path.write_text(
        textwrap.dedent(
            """
            device = "sequential_pair"
            [[axes]]
            path = "atoms.A.t1"
            values = ["20us", "40us"]
            dim = "quality"
            [[axes]]
            path = "atoms.B.t1"
            values = ["40us", "20us"]
            dim = "quality"
            [fixed]
            "drive.power_dbm" = "-130dBm"
            "drive.detuning" = "1MHz"
            """
        )
    )
    spec, run = SweepSpec.from_toml(path)
    assert spec.dims == ("quality",) and spec.shape == (2,) and run == {}


def test_netcdf_store_is_clean_after_completion(device, tmp_path):
    store = tmp_path / "map.nc"
    first = sweep(device, **small_grid(), store=store)
    again = sweep(device, **small_grid(), store=store)
    xr.testing.assert_identical(first, again)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.nc"]


def test_an_interrupted_final_write_is_redone(device, tmp_path):
    import zarr

    store = tmp_path / "map.zarr"
    reference = sweep(device, **small_grid(), store=store)
    # As if killed while the labelled dataset was being written: stage "ready" in the marker
    # and a half-written variable. The next run must not trust it.
    marker = store / "checkpoint" / "giantatoms-store.json"
    marker.write_text(marker.read_text().replace('"complete"', '"ready"'))
    group = zarr.open_group(str(store), mode="a")
    group["bell_fidelity"][:] = np.nan
    redone = sweep(device, **small_grid(), store=store)
    xr.testing.assert_identical(reference, redone)
    xr.testing.assert_identical(reference, xr.open_zarr(store, consolidated=False).load())


def test_a_resumable_noise_sweep_needs_a_seed(device, tmp_path):
    with pytest.raises(ValueError, match="explicit seed"):
        sweep(
            device,
            {"noise.frequency_noise": [0.0, "0.1MHz"]},
            fixed={
                "drive.power_dbm": -131,
                "drive.detuning": "1MHz",
                "protocol.t_drive": "1us",
                "protocol.ramp_time": "10ns",
                "protocol.t_store": "0.1us",
            },
            quantities=["protocol"],
            noise_samples=3,
            store=tmp_path / "noise.zarr",
            progress=False,
        )


def test_distance_sweep_moves_the_entangling_point_with_the_geometry(device):
    # Atom B moved as a whole (both points): the distance D changes, so does the
    # perfect-correlation frequency ω₀; each point uses its own ω₀ (found per geometry).
    shifts = np.array([0.0, 2.0, 4.0]) * 1e-3  # m: ω₀ stays within ±5 % of 4.6 GHz
    b_points = np.asarray(device.atoms[1].points)
    ds = sweep(
        device,
        [
            Axis("atoms.B.points[0]", list(b_points[0] + shifts), dim="shift"),
            Axis("atoms.B.points[1]", list(b_points[1] + shifts), dim="shift"),
        ],
        fixed={"drive.power_dbm": -131.0, "drive.detuning": "1MHz"},
        quantities=["steady"],
        progress=False,
    )
    assert not ds.failed.any()
    for k, shift in enumerate(shifts):
        chip = dataclasses.replace(
            device, atoms=[device.atoms[0], device.atoms[1].replace(points=b_points + shift)]
        )
        centre = float(np.mean(chip.frequencies))
        candidates = ga.perfect_correlation_frequencies(
            chip, (0, 1), (0.95 * centre, 1.05 * centre)
        )
        w0 = candidates[np.argmin(np.abs(candidates - centre))]
        op = ga.entangling_operating_point(chip, 1 * MHz, correlation_frequency=w0)
        me = ga.master_equation(chip, op.drive(-131.0), frequencies=op.frequencies)
        rho = ga.steady_state(me).rho
        assert float(ds.correlation_frequency[k]) == pytest.approx(w0 / (2e9 * np.pi), rel=1e-12)
        expected = ga.bell_fidelity(rho, op.dark_state, optimize_phases=True)
        assert float(ds.bell_fidelity[k]) == pytest.approx(float(expected), abs=1e-10)
    assert np.ptp(ds.correlation_frequency.values) > 0.01  # GHz: ω₀ really moved
    # Further away no branch kD = nπ lies within ±5 %: recorded as a failed point, not a crash.
    far = sweep(
        device,
        [
            Axis("atoms.B.points[0]", [b_points[0] + 0.006], dim="shift"),
            Axis("atoms.B.points[1]", [b_points[1] + 0.006], dim="shift"),
        ],
        fixed={"drive.power_dbm": -131.0, "drive.detuning": "1MHz"},
        progress=False,
    )
    assert bool(far.failed[0]) and "no perfect-correlation frequency" in str(far.error.values[0])
