"""Sweep stores: only stores of this package are reused or removed, real kills at every stage
resume to the uninterrupted dataset, and one driver per store (lock with stale recovery)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import xarray as xr

import giantatoms as ga
from giantatoms.sweeps import sweep
from giantatoms.sweeps._store import MARKER, StoreError, StoreLockedError

from tests.sweeps.test_sweeps import small_grid

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'src'}")


@pytest.fixture(scope="module")
def device():
    return ga.presets.load("sequential_pair")


@pytest.fixture(scope="module")
def reference(device):
    """The uninterrupted sweep every resumed run must equal."""
    return sweep(device, **small_grid(chunk_size=2))


def _precious(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    thesis = directory / "thesis.tex"
    thesis.write_text("\\chapter{Results}\n")
    return thesis


# ---------------------------------------------------------------------------------------------
# Only stores of this package are ever reused or removed


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_directory_that_is_not_a_store_is_refused_and_survives(device, tmp_path, overwrite):
    thesis = _precious(tmp_path / "precious")
    with pytest.raises(StoreError, match="not a giantatoms sweep store"):
        sweep(device, **small_grid(), store=tmp_path / "precious", overwrite=overwrite)
    assert thesis.read_text() == "\\chapter{Results}\n"
    assert sorted(p.name for p in (tmp_path / "precious").iterdir()) == ["thesis.tex"]
    assert not (tmp_path / "precious.lock").exists()


def test_the_working_directory_is_never_emptied(device, tmp_path, monkeypatch):
    thesis = _precious(tmp_path / "work")
    monkeypatch.chdir(tmp_path / "work")
    for store in (".", "./", ""):
        with pytest.raises(ValueError, match=r"not a giantatoms sweep store|non-empty path"):
            sweep(device, **small_grid(), store=store, overwrite=True)
    assert thesis.exists() and sorted(os.listdir(".")) == ["thesis.tex"]


def test_a_file_or_a_foreign_netcdf_is_refused(device, tmp_path):
    plain = tmp_path / "notes.txt"
    plain.write_text("keep me")
    with pytest.raises(StoreError, match="is a file"):
        sweep(device, **small_grid(), store=plain, overwrite=True)
    fake = tmp_path / "data.nc"
    fake.write_text("not netcdf at all")
    with pytest.raises(StoreError, match="not a NetCDF sweep result"):
        sweep(device, **small_grid(), store=fake, overwrite=True)
    other = tmp_path / "other.nc"
    xr.Dataset({"x": ("t", [1.0, 2.0])}, attrs={"title": "my measurement"}).to_netcdf(other)
    with pytest.raises(StoreError, match="not a giantatoms sweep"):
        sweep(device, **small_grid(), store=other, overwrite=True)
    assert plain.read_text() == "keep me" and fake.read_text() == "not netcdf at all"
    assert xr.load_dataset(other).attrs["title"] == "my measurement"


def test_a_store_with_foreign_files_inside_is_not_overwritten(device, tmp_path, reference):
    store = tmp_path / "map.zarr"
    sweep(device, **small_grid(chunk_size=2), store=store)
    thesis = _precious(store)
    with pytest.raises(StoreError, match=r"thesis\.tex"):
        sweep(device, **small_grid(chunk_size=2), store=store, overwrite=True)
    assert thesis.exists()
    thesis.unlink()
    xr.testing.assert_identical(
        reference, sweep(device, **small_grid(chunk_size=2), store=store, overwrite=True)
    )


def test_stores_of_this_package_are_reused_and_overwritten(device, tmp_path, reference):
    for name in ("map.zarr", "map.nc"):
        store = tmp_path / name
        first = sweep(device, **small_grid(chunk_size=2), store=store)
        again = sweep(device, **small_grid(chunk_size=2), store=store)
        fresh = sweep(device, **small_grid(chunk_size=2), store=store, overwrite=True)
        for ds in (first, again, fresh):
            xr.testing.assert_identical(reference, ds)
        assert not store.with_name(name + ".lock").exists()  # released and removed
    assert not (tmp_path / "map.nc.partial.zarr").exists()
    # An empty directory made in advance is fine too.
    (tmp_path / "empty.zarr").mkdir()
    xr.testing.assert_identical(
        reference, sweep(device, **small_grid(chunk_size=2), store=tmp_path / "empty.zarr")
    )


def test_cli_overwrite_of_a_plain_directory_is_a_one_line_refusal(tmp_path, capsys):
    from giantatoms.cli import main

    thesis = _precious(tmp_path / "precious")
    study = tmp_path / "study.toml"
    study.write_text(
        'device = "sequential_pair"\n[axes]\n"drive.detuning" = ["1MHz", "2MHz"]\n'
        '[fixed]\n"drive.power_dbm" = "-130dBm"\n'
    )
    code = main(["sweep", str(study), "--store", str(tmp_path / "precious"), "--overwrite"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "not a giantatoms sweep store" in err
    assert thesis.exists()


# ---------------------------------------------------------------------------------------------
# Real SIGKILLs at every stage of a store's life

CREATION_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import zarr
    import giantatoms as ga
    from giantatoms.sweeps import sweep
    from tests.sweeps.test_sweeps import small_grid

    real = zarr.Group.create_array
    def slow(self, *args, **kwargs):  # lay out the checkpoint slowly: the kill lands inside
        out = real(self, *args, **kwargs)
        time.sleep(0.2)
        return out
    zarr.Group.create_array = slow
    sweep(ga.presets.load("sequential_pair"), **small_grid(chunk_size=2), store=sys.argv[1])
    """
)

FINAL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import xarray as xr
    import giantatoms as ga
    from giantatoms.sweeps import sweep
    from tests.sweeps.test_sweeps import small_grid

    real_zarr, real_netcdf = xr.Dataset.to_zarr, xr.Dataset.to_netcdf

    def slow_zarr(self, store, **kwargs):  # the labelled dataset, one real variable at a time
        for name in self.data_vars:
            real_zarr(self[[name]], store, **kwargs)
            time.sleep(0.2)
        raise SystemExit("not reached: killed during the final write")

    def slow_netcdf(self, path, **kwargs):  # half a real NetCDF file, then stuck
        names = list(self.data_vars)
        real_netcdf(self[names[: len(names) // 2]], path, **kwargs)
        time.sleep(60)

    xr.Dataset.to_zarr = slow_zarr
    xr.Dataset.to_netcdf = slow_netcdf
    sweep(ga.presets.load("sequential_pair"), **small_grid(chunk_size=2), store=sys.argv[1])
    """
)


def _kill_when(script: str, store: Path, ready, tmp_path: Path, timeout: float = 60.0) -> None:
    """Run ``script`` on ``store`` and SIGKILL it as soon as ``ready()`` is true."""
    path = tmp_path / "child.py"
    path.write_text(script)
    proc = subprocess.Popen([sys.executable, str(path), str(store)], env=ENV, cwd=ROOT)
    hit = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                hit = bool(ready())
            except (OSError, ValueError, KeyError):
                hit = False
            if hit:
                break
            time.sleep(0.005)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert hit and proc.returncode == -signal.SIGKILL, "the kill missed its window"


def _stage(directory: Path) -> str | None:
    data = json.loads((directory / "checkpoint" / MARKER).read_text())
    return data["stage"]


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_a_kill_while_the_store_is_laid_out_is_redone(device, tmp_path, reference, suffix):
    store = tmp_path / f"run{suffix}"
    checkpoint = store if suffix == ".zarr" else tmp_path / f"run{suffix}.partial.zarr"

    def inside_creation() -> bool:
        arrays = [p for p in (checkpoint / "checkpoint").iterdir() if (p / ".zarray").exists()]
        return _stage(checkpoint) == "creating" and len(arrays) >= 3

    _kill_when(CREATION_SCRIPT, store, inside_creation, tmp_path)
    assert _stage(checkpoint) == "creating"  # killed mid-layout, lock file left behind
    assert store.with_name(store.name + ".lock").exists()
    with pytest.warns(RuntimeWarning, match="stale lock"):
        resumed = sweep(device, **small_grid(chunk_size=2), store=store)
    xr.testing.assert_identical(reference, resumed)
    xr.testing.assert_identical(reference, sweep(device, **small_grid(chunk_size=2), store=store))


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_a_kill_during_the_final_write_is_redone(device, tmp_path, reference, suffix):
    store = tmp_path / f"run{suffix}"
    if suffix == ".zarr":

        def inside_final_write() -> bool:
            return (store / "bell_fidelity" / ".zarray").exists() and _stage(store) == "ready"
    else:

        def inside_final_write() -> bool:
            return any(p.name.endswith(".tmp") for p in tmp_path.glob("run.nc.*"))

    _kill_when(FINAL_SCRIPT, store, inside_final_write, tmp_path)
    with pytest.warns(RuntimeWarning, match="stale lock"):
        resumed = sweep(device, **small_grid(chunk_size=2), store=store)
    xr.testing.assert_identical(reference, resumed)
    on_disk = (
        xr.open_zarr(store, consolidated=False) if suffix == ".zarr" else xr.open_dataset(store)
    )
    xr.testing.assert_identical(reference, on_disk.load())
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith("run")]
    assert sorted(leftovers) == [store.name]  # no lock, no partial checkpoint, no temporary


# ---------------------------------------------------------------------------------------------
# One driver per store

SLOW_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import giantatoms as ga
    from giantatoms.sweeps import _execute, sweep
    from tests.sweeps.test_sweeps import small_grid

    real = _execute.evaluate_chunk
    def slow(spec, chunk):
        time.sleep(0.3)
        return real(spec, chunk)
    _execute.evaluate_chunk = slow
    sweep(ga.presets.load("sequential_pair"), **small_grid(chunk_size=2), store=sys.argv[1])
    """
)


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_a_second_driver_is_refused_and_a_stale_lock_recovered(device, tmp_path, reference, suffix):
    store = tmp_path / f"run{suffix}"
    lock = store.with_name(store.name + ".lock")
    path = tmp_path / "child.py"
    path.write_text(SLOW_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(path), str(store)], env=ENV, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if json.loads(lock.read_text()).get("pid") == proc.pid:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.01)
        assert proc.poll() is None, "the first driver ended before the test could race it"
        with pytest.raises(StoreLockedError, match=f"pid {proc.pid} on {socket.gethostname()}"):
            sweep(device, **small_grid(chunk_size=2), store=store)
        with pytest.raises(StoreLockedError, match="in use"):
            sweep(device, **small_grid(chunk_size=2), store=store, overwrite=True)
        assert proc.poll() is None  # the running sweep was not disturbed
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert lock.exists()  # left behind by the killed driver
    with pytest.warns(RuntimeWarning, match=f"stale lock .*pid {proc.pid}"):
        resumed = sweep(device, **small_grid(chunk_size=2), store=store)
    xr.testing.assert_identical(reference, resumed)
    assert not lock.exists()


def test_a_lock_from_another_host_is_reported_not_broken(device, tmp_path):
    store = tmp_path / "map.zarr"
    lock = tmp_path / "map.zarr.lock"
    info = {"pid": 4242, "host": "node-17.cluster", "started": "2026-12-01T10:00:00+00:00"}
    lock.write_text(json.dumps(info))
    with pytest.raises(StoreLockedError, match=r"node-17\.cluster.*delete"):
        sweep(device, **small_grid(), store=store)
    assert json.loads(lock.read_text()) == info
