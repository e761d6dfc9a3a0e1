"""Where finished chunks go: memory, or a Zarr store that survives any interruption.

Layout of a store ``sweep.zarr`` (Zarr format 2, readable by xarray, Dask, zarr-python 2/3)::

    sweep.zarr/checkpoint/<variable>     flat arrays (point, extra dims…), one Zarr chunk per
                                         sweep chunk
    sweep.zarr/checkpoint/chunk_done     bool per sweep chunk, set after its data is written
    sweep.zarr/<variable>, coords        the labelled N-D dataset, written when all chunks are done;
                                         ``checkpoint`` then gets the attribute ``complete``

Each Zarr chunk file is written atomically (temporary file + rename), and ``chunk_done[c]`` is
written only after every variable of chunk ``c``: a process killed at any instant leaves either
a finished chunk or one that is recomputed on resume — never a half-finished one that is
believed done. The checkpoint's attributes carry the spec's fingerprint; resuming with a
different spec is refused. Only the driving process writes; workers return arrays.

A ``.nc`` store checkpoints into ``<name>.nc.partial.zarr`` and writes the NetCDF file
(atomically) at the end, then removes the checkpoint.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from giantatoms.sweeps._evaluate import Variable, _extra_sizes, allocate, variables

if TYPE_CHECKING:
    import xarray as xr

    from giantatoms.sweeps._spec import SweepSpec

__all__ = ["MemoryStore", "ZarrStore", "open_store"]


class MemoryStore:
    """Chunks kept in memory (no ``store`` given): nothing survives the process."""

    def __init__(self, spec: SweepSpec) -> None:
        self.spec = spec
        self.arrays = allocate(spec, spec.n_points)
        self.done: set[int] = set()

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
    """A resumable checkpoint store (see the module docstring)."""

    def __init__(
        self, spec: SweepSpec, path: Path, *, overwrite: bool, netcdf: Path | None
    ) -> None:
        zarr = _zarr()
        self.spec, self.path, self.netcdf = spec, path, netcdf
        self.fingerprint = spec.fingerprint()
        if overwrite:
            if netcdf is not None and netcdf.exists():
                netcdf.unlink()
            if path.exists():
                shutil.rmtree(path)
        self.variables: list[Variable] = variables(spec)
        if netcdf is not None and netcdf.exists():
            self.group = None  # finished earlier: final() returns it, nothing to create
            return
        root = zarr.open_group(str(path), mode="a", zarr_format=2)
        if "checkpoint" in root:
            group = root["checkpoint"]
            found = group.attrs.get("fingerprint")
            if found != self.fingerprint:
                raise ValueError(
                    f"store {str(path)!r} holds a different sweep (fingerprint {str(found)[:12]}…, "
                    f"this sweep {self.fingerprint[:12]}…): use another store or overwrite=True"
                )
        else:
            group = root.create_group("checkpoint")
            sizes = _extra_sizes(spec)
            for v in variables(spec):
                extra = tuple(sizes[d] for d in v.dims)
                group.create_array(
                    v.name,
                    shape=(spec.n_points, *extra),
                    chunks=(spec.chunk_size, *extra),
                    dtype=v.dtype,
                    fill_value=v.fill,
                )
            group.create_array(
                "chunk_done", shape=(spec.n_chunks,), chunks=(1,), dtype="bool", fill_value=False
            )
            # Written last: a checkpoint without its fingerprint is recreated, never trusted.
            group.attrs.update(
                {
                    "fingerprint": self.fingerprint,
                    "n_points": spec.n_points,
                    "chunk_size": spec.chunk_size,
                }
            )
        self.group = group

    def completed(self) -> set[int]:
        """Chunks whose data are completely on disk."""
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

    def final(self) -> xr.Dataset | None:
        """The finished dataset of an earlier run of the same sweep, if any."""
        import xarray as xr

        if self.netcdf is not None:
            if not self.netcdf.exists():
                return None
            ds = xr.load_dataset(self.netcdf)
        else:
            # The labelled dataset counts only once its writing finished (marker written last):
            # a kill during the final write leaves a checkpoint that is simply finished again.
            if not self.group.attrs.get("complete", False):
                return None
            ds = xr.open_zarr(str(self.path), consolidated=False).load()
        if ds.attrs.get("sweep_fingerprint") != self.fingerprint:
            raise ValueError(
                f"{str(self.netcdf or self.path)!r} holds the result of a different sweep: "
                "use another store or overwrite=True"
            )
        return ds

    def finish(self, dataset: xr.Dataset) -> xr.Dataset:
        """Write the labelled dataset next to the checkpoint (NetCDF: atomically, then clean)."""
        if self.netcdf is not None:
            tmp = self.netcdf.with_name(self.netcdf.name + ".tmp")
            dataset.to_netcdf(tmp)
            os.replace(tmp, self.netcdf)
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            dataset.to_zarr(str(self.path), mode="a", zarr_format=2, consolidated=False)
            self.group.attrs["complete"] = True
        return dataset


def open_store(spec: SweepSpec, store: str | os.PathLike | None, overwrite: bool) -> Any:
    """A :class:`MemoryStore` for ``None``, else a resumable :class:`ZarrStore`."""
    if store is None:
        return MemoryStore(spec)
    if not isinstance(store, str | os.PathLike):
        raise TypeError(f"store must be a path (str or Path) or None, got {type(store).__name__}")
    path = Path(store)
    if path.suffix in (".nc", ".nc4", ".netcdf"):
        return ZarrStore(
            spec, path.with_name(path.name + ".partial.zarr"), overwrite=overwrite, netcdf=path
        )
    return ZarrStore(spec, path, overwrite=overwrite, netcdf=None)
