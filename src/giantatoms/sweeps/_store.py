"""Where finished chunks go: memory, or a Zarr store that survives any interruption.

Layout of a store ``sweep.zarr`` (Zarr format 2, readable by xarray, Dask, zarr-python 2/3)::

    sweep.zarr/checkpoint/giantatoms-store.json
                                         what this directory is and how far it got: written
                                         first, replaced atomically at every stage (inside the
                                         checkpoint group, where readers of the dataset never
                                         list it)
    sweep.zarr/checkpoint/<variable>     flat arrays (point, extra dims…), one Zarr chunk per
                                         sweep chunk
    sweep.zarr/checkpoint/chunk_done     bool per sweep chunk, set after its data is written
    sweep.zarr/<variable>, coords        the labelled N-D dataset, written when all chunks are done
    sweep.zarr.lock                      held by the one process driving the sweep

The marker ``giantatoms-store.json`` records the sweep's fingerprint and a stage:
``"creating"`` (the checkpoint arrays are being laid out: nothing is computed yet, so a
store found in this stage is simply laid out again), ``"ready"`` (chunks are being written)
and ``"complete"`` (the labelled dataset is written). Zarr writes every file atomically
(temporary file + rename), and ``chunk_done[c]`` is written only after every variable of chunk
``c``: a process killed at any instant leaves either a finished chunk or one that is
recomputed on resume — never a half-finished one that is believed done. A kill during the
final labelled write leaves stage ``"ready"``: the leftovers of that write are removed and it
is written again. Resuming with a different spec is refused.

**Safety.** Only a directory that is recognisably a store of this package (its marker, or the
``.zgroup`` + ``checkpoint`` layout of earlier versions) is ever reused or removed, and only
the entries a store consists of are deleted; a path that is a file, or a non-empty directory
holding anything else, is refused with or without ``overwrite``. An existing NetCDF file is
replaced only if it is a sweep result of this package.

**One driver.** ``<store>.lock`` is created next to the store and held with an exclusive
``flock`` while the sweep runs; it records pid, host, start time and command. A second driver
on the same store is refused with a message naming the first. A lock whose process died is
recovered with a warning (on the same host the ``flock`` proves it; a lock left by another
host is reported, to be removed by hand once that run is known to be gone).

A ``.nc`` store checkpoints into ``<name>.nc.partial.zarr`` and writes the NetCDF file
(atomically) at the end, then removes the checkpoint; its lock is ``<name>.nc.lock``.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import glob
import json
import os
import shutil
import socket
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from giantatoms.sweeps._evaluate import Variable, _extra_sizes, allocate, variables

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: O_EXCL lock files with a pid check
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import xarray as xr

    from giantatoms.sweeps._spec import SweepSpec

__all__ = ["MemoryStore", "StoreError", "StoreLock", "StoreLockedError", "ZarrStore", "open_store"]

#: The marker file that makes a directory recognisably a sweep store of this package.
MARKER = "giantatoms-store.json"
_FORMAT = "giantatoms sweep store"
#: Stages recorded in the marker (see the module docstring).
STAGES = ("creating", "ready", "complete")
#: Zarr format-2 metadata files a store's root may hold.
_ZARR_META = (".zgroup", ".zattrs", ".zmetadata", "zarr.json")


class StoreError(ValueError):
    """A store path that must not be used: not a store of this package, or another sweep."""


class StoreLockedError(RuntimeError):
    """Another process is driving a sweep on the same store."""


# --------------------------------------------------------------------------------------------
# Recognising stores
# --------------------------------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None if it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _marker_file(path: Path) -> Path:
    return path / "checkpoint" / MARKER


def _marker(path: Path) -> dict[str, Any] | None:
    data = _read_json(_marker_file(path))
    return data if data is not None and data.get("format") == _FORMAT else None


def _legacy_store(path: Path) -> bool:
    """A store written before the marker existed: a Zarr group with a ``checkpoint`` group."""
    return (path / ".zgroup").is_file() and (path / "checkpoint" / ".zgroup").is_file()


def _is_store_entry(entry: Path) -> bool:
    """Whether ``entry`` (a child of a store's root) is something a store consists of."""
    name = entry.name
    if name in ("checkpoint", *_ZARR_META):
        return True
    if name.endswith(".partial") and entry.is_file():  # Zarr's atomic-write temporaries
        return True
    # A variable or coordinate of the labelled dataset: a Zarr array or group directory.
    return entry.is_dir() and any((entry / m).is_file() for m in (*_ZARR_META, ".zarray"))


def _foreign_entries(path: Path) -> list[str]:
    return sorted(e.name for e in path.iterdir() if not _is_store_entry(e))


def _check_store_directory(path: Path, overwrite: bool) -> None:
    """Refuse ``path`` unless it is absent, an empty directory or a store of this package."""
    if not path.exists():
        return
    if not path.is_dir():
        raise StoreError(
            f"store {str(path)!r} is a file, not a sweep store: choose a new path (a Zarr "
            "directory, or a name ending in .nc)"
        )
    if not any(path.iterdir()):
        return
    action = "overwrite" if overwrite else "write into"
    if _marker(path) is None and not _legacy_store(path):
        sample = ", ".join(repr(n) for n in sorted(p.name for p in path.iterdir())[:3])
        raise StoreError(
            f"refusing to {action} {str(path)!r}: it is a directory that is not a giantatoms "
            f"sweep store (it holds {sample}…); choose a new path for the store"
        )
    foreign = _foreign_entries(path)
    if foreign:
        raise StoreError(
            f"refusing to {action} store {str(path)!r}: it also holds files that are not part "
            f"of a sweep store ({', '.join(repr(n) for n in foreign[:3])}); move them away or "
            "choose a new path"
        )


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry)
    else:
        entry.unlink(missing_ok=True)


def _clear_store(path: Path, *, keep: tuple[str, ...] = ()) -> None:
    """Delete what a store consists of inside ``path`` (never anything else), but the marker.

    Root entries named in ``keep`` stay; the ``checkpoint`` group is emptied except for its
    marker unless ``"checkpoint"`` is kept.
    """
    if not path.is_dir():
        return
    for entry in path.iterdir():
        if entry.name in keep or entry.name == "checkpoint" or not _is_store_entry(entry):
            continue
        _remove(entry)
    checkpoint = path / "checkpoint"
    if "checkpoint" not in keep and checkpoint.is_dir():
        for entry in checkpoint.iterdir():
            if entry.name != MARKER:
                _remove(entry)


def _remove_store(path: Path) -> None:
    """Delete a whole store directory, its marker last (what is foreign stays, with the dir)."""
    if not path.is_dir():
        return
    _clear_store(path)
    _marker_file(path).unlink(missing_ok=True)
    for directory in (path / "checkpoint", path):
        with contextlib.suppress(OSError):  # not empty: something foreign appeared meanwhile
            directory.rmdir()


def _check_netcdf_result(path: Path) -> dict[str, Any]:
    """The attributes of an existing NetCDF sweep result; refuse any other file."""
    import xarray as xr

    if path.is_dir():
        raise StoreError(f"store {str(path)!r} is a directory, but a name ending in .nc is a file")
    try:
        with xr.open_dataset(path) as ds:
            attrs = dict(ds.attrs)
    except Exception as exc:  # any reader error means: not our file
        raise StoreError(
            f"refusing to use {str(path)!r}: it exists and is not a NetCDF sweep result "
            f"({type(exc).__name__}); choose a new path"
        ) from None
    if attrs.get("title") != "giantatoms sweep" or "sweep_fingerprint" not in attrs:
        raise StoreError(
            f"refusing to use {str(path)!r}: it is a NetCDF file but not a giantatoms sweep "
            "result; choose a new path"
        )
    return attrs


# --------------------------------------------------------------------------------------------
# One driver per store
# --------------------------------------------------------------------------------------------


def _lock_info() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv)[:500],
    }


def _describe(info: dict[str, Any] | None) -> str:
    if not info:
        return "another process"
    return (
        f"pid {info.get('pid', '?')} on {info.get('host', '?')} since {info.get('started', '?')}"
        + (f" ({info['command']})" if info.get("command") else "")
    )


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StoreLock:
    """An exclusive lock on a store, held by the process that drives the sweep.

    The lock file records pid, host, start time and command. On POSIX it is held with
    ``flock``, which the kernel releases when the process dies, so a lock left by a dead
    process on this host is recognised and recovered (with a warning). A lock file written
    on another host is refused with instructions (its process cannot be checked from here).

    Parameters
    ----------
    path : Path
        The lock file (``<store>.lock``).
    store : Path
        The store it protects (for messages).
    """

    def __init__(self, path: Path, store: Path) -> None:
        self.path, self.store = path, store
        self._fd: int | None = None
        self.recovered: dict[str, Any] | None = None

    def _refuse(self, info: dict[str, Any] | None) -> StoreLockedError:
        return StoreLockedError(
            f"store {str(self.store)!r} is in use by another sweep: {_describe(info)}; wait "
            f"for it to finish, or delete {str(self.path)!r} if that run is gone"
        )

    def acquire(self) -> StoreLock:
        """Take the lock or raise :class:`StoreLockedError` naming its holder."""
        if fcntl is None:  # pragma: no cover - Windows
            return self._acquire_exclusive_create()
        for _ in range(20):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                raise self._refuse(_read_json(self.path)) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # the holder released (and removed) it meanwhile: try again
                os.close(fd)
                continue
            previous = _read_json(self.path)
            if previous and previous.get("host") != socket.gethostname():
                os.close(fd)
                raise self._refuse(previous)
            self._write(fd)
            self._fd = fd
            if previous:
                self.recovered = previous
                warnings.warn(
                    f"recovered the stale lock {str(self.path)!r} of a sweep that is gone "
                    f"({_describe(previous)})",
                    RuntimeWarning,
                    stacklevel=3,
                )
            return self
        raise self._refuse(_read_json(self.path))  # pragma: no cover - a pathological race

    def _acquire_exclusive_create(self) -> StoreLock:  # pragma: no cover - Windows
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                info = _read_json(self.path)
                if (
                    info
                    and info.get("host") == socket.gethostname()
                    and not _pid_alive(info.get("pid"))
                ):
                    self.recovered = info
                    self.path.unlink(missing_ok=True)
                    continue
                raise self._refuse(info) from None
            self._write(fd)
            self._fd = fd
            return self
        raise self._refuse(_read_json(self.path))

    @staticmethod
    def _write(fd: int) -> None:
        data = json.dumps(_lock_info(), indent=1).encode()
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, data)
        os.fsync(fd)

    def release(self) -> None:
        """Remove the lock file, then let go of it (waiters then see a new file)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> StoreLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class MemoryStore:
    """Chunks kept in memory (no ``store`` given): nothing survives the process."""

    def __init__(self, spec: SweepSpec) -> None:
        self.spec = spec
        self.arrays = allocate(spec, spec.n_points)
        self.done: set[int] = set()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def completed(self) -> set[int]:
        """Chunks already finished."""
        return set(self.done)

    def write(self, chunk: int, arrays: dict[str, NDArray]) -> None:
        """Store one chunk's arrays."""
        start, stop = self.spec.chunk_bounds(chunk)
        for name, arr in arrays.items():
            self.arrays[name][start:stop] = arr
        self.done.add(chunk)

    def read(self) -> dict[str, NDArray]:
        """Flat arrays of every variable."""
        return self.arrays

    def final(self) -> xr.Dataset | None:
        """A previously completed dataset (never, in memory)."""
        return None

    def finish(self, dataset: xr.Dataset) -> xr.Dataset:
        """Nothing to write; the dataset is the result."""
        return dataset


def _zarr() -> Any:
    try:
        import zarr
    except ImportError as exc:  # pragma: no cover - zarr is a dependency of the sweeps extra
        raise ImportError(
            "resumable sweep stores need zarr: pip install 'giantatoms[sweeps]'"
        ) from exc
    return zarr


class ZarrStore:
    """A resumable checkpoint store (see the module docstring); a context manager.

    Construction only checks the path (nothing is written); entering takes the lock, then
    discards (``overwrite``), lays out, repairs or reopens the store; leaving releases the lock.
    """

    def __init__(
        self, spec: SweepSpec, path: Path, *, overwrite: bool, netcdf: Path | None
    ) -> None:
        self.spec, self.path, self.netcdf, self.overwrite = spec, path, netcdf, overwrite
        self.fingerprint = spec.fingerprint()
        self.variables: list[Variable] = variables(spec)
        self.group: Any = None
        target = netcdf if netcdf is not None else path
        if netcdf is not None and netcdf.exists():
            _check_netcdf_result(netcdf)
        _check_store_directory(path, overwrite)
        self.lock = StoreLock(target.with_name(target.name + ".lock"), target)

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> ZarrStore:
        self.lock.acquire()
        try:
            self._open()
        except BaseException:
            self.lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()

    def _set_stage(self, stage: str) -> None:
        _write_json_atomic(
            _marker_file(self.path),
            {
                "format": _FORMAT,
                "fingerprint": self.fingerprint,
                "stage": stage,
                "n_points": self.spec.n_points,
                "chunk_size": self.spec.chunk_size,
            },
        )

    def _open(self) -> None:
        # Checked again under the lock: another driver may have changed things meanwhile.
        _check_store_directory(self.path, self.overwrite)
        if self.overwrite:
            if self.netcdf is not None and self.netcdf.exists():
                _check_netcdf_result(self.netcdf)
                self.netcdf.unlink()
            _remove_store(self.path)
        if self.netcdf is not None and self.netcdf.exists():
            return  # finished earlier: final() returns it, nothing to lay out
        marker = _marker(self.path) if self.path.is_dir() else None
        if marker is None and self.path.is_dir() and _legacy_store(self.path):
            zattrs = _read_json(self.path / "checkpoint" / ".zattrs") or {}
            if zattrs.get("fingerprint") is not None:
                marker = {"fingerprint": zattrs["fingerprint"], "stage": "ready"}
            # else: an earlier version was killed while laying it out: lay it out again
        if marker is not None and marker.get("stage") != "creating":
            if marker.get("fingerprint") != self.fingerprint:
                raise StoreError(
                    f"store {str(self.path)!r} holds a different sweep (fingerprint "
                    f"{str(marker.get('fingerprint'))[:12]}…, this sweep "
                    f"{self.fingerprint[:12]}…): use another store or overwrite=True"
                )
            self.group = _zarr().open_group(str(self.path), mode="r+", zarr_format=2)["checkpoint"]
            return
        self._create()

    def _create(self) -> None:
        """Lay out the checkpoint; a kill before the stage becomes ``ready`` redoes this."""
        zarr = _zarr()
        _marker_file(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._set_stage("creating")
        _clear_store(self.path)  # the remains of an interrupted earlier layout
        root = zarr.open_group(str(self.path), mode="a", zarr_format=2)
        group = root.create_group("checkpoint")
        sizes = _extra_sizes(self.spec)
        for v in self.variables:
            extra = tuple(sizes[d] for d in v.dims)
            group.create_array(
                v.name,
                shape=(self.spec.n_points, *extra),
                chunks=(self.spec.chunk_size, *extra),
                dtype=v.dtype,
                fill_value=v.fill,
            )
        group.create_array(
            "chunk_done", shape=(self.spec.n_chunks,), chunks=(1,), dtype="bool", fill_value=False
        )
        group.attrs.update(
            {
                "fingerprint": self.fingerprint,
                "n_points": self.spec.n_points,
                "chunk_size": self.spec.chunk_size,
            }
        )
        self._set_stage("ready")
        self.group = group

    # -- chunks ----------------------------------------------------------------------------

    def completed(self) -> set[int]:
        """Chunks whose data are completely on disk."""
        if self.group is None:
            return set()
        return {int(c) for c in np.flatnonzero(self.group["chunk_done"][:])}

    def write(self, chunk: int, arrays: dict[str, NDArray]) -> None:
        """Write a chunk's data, then mark it done (in that order)."""
        start, stop = self.spec.chunk_bounds(chunk)
        for v in self.variables:
            self.group[v.name][start:stop] = arrays[v.name]
        self.group["chunk_done"][chunk] = True

    def read(self) -> dict[str, NDArray]:
        """Flat arrays of every variable."""
        return {v.name: self.group[v.name][:] for v in self.variables}

    # -- the labelled result ---------------------------------------------------------------

    def final(self) -> xr.Dataset | None:
        """The finished dataset of an earlier run of the same sweep, if any."""
        import xarray as xr

        if self.netcdf is not None:
            if not self.netcdf.exists():
                return None
            ds = xr.load_dataset(self.netcdf)
        else:
            # The labelled dataset counts only once its writing finished (stage written last):
            # a kill during the final write leaves stage "ready", and it is written again.
            marker = _marker(self.path) or {}
            if marker.get("stage") != "complete":
                return None
            ds = xr.open_zarr(str(self.path), consolidated=False).load()
        if ds.attrs.get("sweep_fingerprint") != self.fingerprint:
            raise StoreError(
                f"{str(self.netcdf or self.path)!r} holds the result of a different sweep: "
                "use another store or overwrite=True"
            )
        return ds

    def finish(self, dataset: xr.Dataset) -> xr.Dataset:
        """Write the labelled dataset next to the checkpoint (NetCDF: atomically, then clean)."""
        if self.netcdf is not None:
            tmp = self.netcdf.with_name(f"{self.netcdf.name}.{os.getpid()}.tmp")
            try:
                dataset.to_netcdf(tmp)
                os.replace(tmp, self.netcdf)
            finally:
                tmp.unlink(missing_ok=True)
            # Temporaries of drivers killed while writing (we hold the lock: they are gone).
            for left in self.netcdf.parent.glob(f"{glob.escape(self.netcdf.name)}.*.tmp"):
                if left.name[len(self.netcdf.name) + 1 : -4].isdigit():
                    left.unlink(missing_ok=True)
            _remove_store(self.path)
            return dataset
        # Leftovers of an interrupted final write (arrays and root attributes) go first.
        _clear_store(self.path, keep=("checkpoint", ".zgroup"))
        dataset.to_zarr(str(self.path), mode="a", zarr_format=2, consolidated=False)
        self._set_stage("complete")
        return dataset


def open_store(
    spec: SweepSpec, store: str | os.PathLike | None, overwrite: bool
) -> MemoryStore | ZarrStore:
    """A :class:`MemoryStore` for ``None``, else a resumable :class:`ZarrStore`.

    The path is checked here (before any work); use the result as a context manager, which
    takes the store's lock and opens it.
    """
    if store is None:
        return MemoryStore(spec)
    if not isinstance(store, str | os.PathLike):
        raise TypeError(f"store must be a path (str or Path) or None, got {type(store).__name__}")
    if str(store).strip() == "":
        raise ValueError("store must be a non-empty path")
    path = Path(store).expanduser().absolute()
    if path.suffix in (".nc", ".nc4", ".netcdf"):
        return ZarrStore(
            spec, path.with_name(path.name + ".partial.zarr"), overwrite=overwrite, netcdf=path
        )
    return ZarrStore(spec, path, overwrite=overwrite, netcdf=None)
