"""Sweeps: labelled N-D parameter studies, batched, parallel, resumable.

:func:`sweep` evaluates steady-state metrics, Liouvillian gaps, protocol metrics and spectra on
a grid of any device, drive, protocol, noise or probe parameters (addressed by paths such as
``"atoms.A.t1"`` or ``"drive.power_dbm"``) and returns an :class:`xarray.Dataset` with one
dimension per swept axis. Points are cut into chunks, each chunk is one batched call of the
lower layers, and chunks run serially, on local processes, on a Dask cluster or on any
``concurrent.futures`` executor — with identical results. With a ``store`` every finished chunk
is on disk at once and a killed sweep resumes where it stopped. :func:`optimize` maximises a
metric over bounded parameters with batched evaluations.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from giantatoms.model.delays import warn_if_non_markovian
from giantatoms.model.device import Device
from giantatoms.sweeps._evaluate import extra_coordinates, variables
from giantatoms.sweeps._execute import ProcessExecutor, Progress, run_chunks
from giantatoms.sweeps._optimize import OptimizationResult, optimize
from giantatoms.sweeps._paths import Parameter, parameter_paths, resolve_path
from giantatoms.sweeps._spec import QUANTITIES, Axis, SweepSpec, linspace, logspace
from giantatoms.sweeps._store import StoreError, StoreLockedError, open_store

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "QUANTITIES",
    "Axis",
    "OptimizationResult",
    "Parameter",
    "ProcessExecutor",
    "StoreError",
    "StoreLockedError",
    "SweepSpec",
    "linspace",
    "logspace",
    "optimize",
    "parameter_paths",
    "resolve_path",
    "run_sweep",
    "sweep",
    "to_dataset",
]


def _xarray() -> Any:
    try:
        import xarray
    except ImportError as exc:  # pragma: no cover - xarray is a core dependency
        raise ImportError("sweeps return xarray Datasets: pip install xarray") from exc
    return xarray


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("giantatoms", "numpy", "scipy", "xarray"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            out[name] = "unknown"
    return out


def to_dataset(spec: SweepSpec, flat: Mapping[str, np.ndarray]) -> xr.Dataset:
    """Label flat per-point arrays as an N-D dataset (dims = the spec's axes).

    Parameters
    ----------
    spec : SweepSpec
    flat : mapping name → ndarray, shape (n_points, extra…)

    Returns
    -------
    xarray.Dataset
        Dimensions ``spec.dims`` (+ ``atom``, ``time``, ``probe_frequency``); coordinates in
        display units (``units`` attribute); attributes recording the full input.
    """
    xr = _xarray()
    shape, dims = spec.shape, spec.dims
    data_vars = {}
    for v in variables(spec):
        arr = np.asarray(flat[v.name])
        data_vars[v.name] = (
            (*dims, *v.dims),
            arr.reshape(*shape, *arr.shape[1:]),
            {"units": v.units, "long_name": v.long_name},
        )
    coords: dict[str, Any] = {}
    for r in spec.axes:
        attrs = {
            "units": r.parameter.unit,
            "long_name": r.parameter.long_name(),
            "path": r.parameter.path,
        }
        shared = sum(1 for other in spec.axes if other.dim == r.dim) > 1
        name = r.parameter.path if shared else r.dim
        coords[name] = (r.dim, r.parameter.display(np.asarray(r.values)), attrs)
    for dim, (values, attrs) in extra_coordinates(spec).items():
        coords[dim] = (dim, values, attrs)
    fixed = {p.path: f"{p.display(np.asarray(v)).item():.12g} {p.unit}" for p, v in spec.fixed}
    attrs = {
        "title": "giantatoms sweep",
        "quantities": ", ".join(spec.quantities),
        "operating_point": spec.operating_point,
        "fixed": json.dumps(fixed, ensure_ascii=False),
        "device": spec.device.name,
        "device_toml": spec.device.to_toml(),
        "sweep_spec": json.dumps(spec.to_dict(), ensure_ascii=False),
        "sweep_input": json.dumps(spec.source, ensure_ascii=False),
        "sweep_fingerprint": spec.fingerprint(),
        "seed": -1 if spec.seed is None else int(spec.seed),
        "chunk_size": spec.chunk_size,
        "versions": json.dumps(_versions()),
        "conventions": "frequencies f = ω/2π; rates and gaps as stated in each variable's units; "
        "see docs/conventions.md",
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def run_sweep(
    spec: SweepSpec,
    *,
    executor: Any = "serial",
    workers: int | None = None,
    store: str | os.PathLike | None = None,
    overwrite: bool = False,
    retries: int = 2,
    progress: bool | None = None,
) -> xr.Dataset:
    """Run a validated :class:`SweepSpec` (see :func:`sweep` for the options)."""
    if not isinstance(spec, SweepSpec):
        raise TypeError(f"spec must be a SweepSpec, got {type(spec).__name__}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be an integer ≥ 0, got {retries!r}")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if (
        isinstance(executor, str)
        and executor not in ("serial", "processes", "dask")
        and ("://" not in executor)
    ):
        raise ValueError(
            "executor must be 'serial', 'processes', 'dask', a scheduler address "
            f"('tcp://host:8786'), a distributed.Client or an Executor; got {executor!r}"
        )
    if store is not None and spec.source.get("seed_drawn"):
        raise ValueError(
            "a noise-averaged sweep written to a store needs an explicit seed: a resumed run "
            "must draw the same noise (pass seed=...)"
        )
    with open_store(spec, store, overwrite) as checkpoint:
        finished = checkpoint.final()
        if finished is not None:
            return finished
        done = checkpoint.completed()
        todo = [c for c in range(spec.n_chunks) if c not in done]
        already = sum(np.subtract(*spec.chunk_bounds(c)[::-1]) for c in done)
        bar = Progress(spec.n_points, int(already), progress)

        def on_result(chunk: int, arrays: dict[str, np.ndarray]) -> None:
            checkpoint.write(chunk, arrays)
            start, stop = spec.chunk_bounds(chunk)
            bar.update(stop - start)

        try:
            run_chunks(
                spec, todo, executor=executor, workers=workers, retries=retries, on_result=on_result
            )
        finally:
            bar.close()
        return checkpoint.finish(to_dataset(spec, checkpoint.read()))


def sweep(
    device: Device | str | SweepSpec,
    axes: Mapping[str, Any] | Sequence[Axis] | None = None,
    *,
    fixed: Mapping[str, Any] | None = None,
    quantities: Sequence[str] | str = ("steady",),
    operating_point: str = "entangling",
    pair: tuple[str | int, str | int] = (0, 1),
    target: str = "auto",
    port: str = "left",
    times: Sequence[str | float] = ("end_drive", "end_ramp", "end"),
    after_drive: str = "move_to_df",
    ramp_shape: str = "cosine",
    drive_rise_time: str | float = 0.0,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    noise_samples: int = 0,
    seed: int | None = None,
    probe_frequencies: Any = None,
    chunk_size: int | None = None,
    correlation_frequency: str | float | None = None,
    executor: Any = "serial",
    workers: int | None = None,
    store: str | os.PathLike | None = None,
    overwrite: bool = False,
    retries: int = 2,
    progress: bool | None = None,
) -> xr.Dataset:
    """Evaluate quantities on an N-D grid of model parameters.

    Parameters
    ----------
    device : Device, str or SweepSpec
        The chip (one parameter set), a preset name, or a ready :class:`SweepSpec` (then
        ``axes`` and the model options must be omitted).
    axes : mapping path → values, or sequence of Axis
        What to sweep. Values are numbers in internal units (rad/s, s, m, dBm) or unit strings
        (``"30us"``, ``"2 MHz"``), or ranges ``{"start", "stop", "num"}`` (see :class:`Axis`;
        :func:`linspace`, :func:`logspace`). Each path is one result dimension (axes with the
        same ``Axis.dim`` are zipped). Paths: :func:`resolve_path`.
    fixed : mapping path → value, optional
        Values held at every point (e.g. ``{"drive.detuning": "1MHz"}``).
    quantities : sequence of {"steady", "gap", "protocol", "spectrum"}
        ``"steady"``: steady-state Bell fidelity (optimised over local Z phases and in the
        drive frame), concurrence, purity, excited populations and the solver diagnostics.
        ``"gap"``: Liouvillian gap and 1/gap. ``"protocol"``: the driven-dissipative protocol
        (:func:`giantatoms.protocols.driven_dissipative`) with metrics at ``times``.
        ``"spectrum"``: S21 and S11 at ``probe_frequencies``.
    operating_point : {"entangling", "device"}
        ``"entangling"`` (default): the pair at its entangling point for δ =
        ``drive.detuning`` with the drive at the dressed centre (+ ``drive.offset``).
        ``"device"``: atoms at their own (or swept) frequencies, drive at ``drive.frequency``.
    pair : (str or int, str or int)
    target : str
        Bell state of the fidelities; ``"auto"``: the operating point's dark state.
    port : {"left", "right"}
        Drive (and probe) port.
    times : sequence
        Protocol save instants: ``"start"``, ``"end_drive"``, ``"end_ramp"``, ``"end"`` or
        times from the start (s or unit strings).
    after_drive, ramp_shape, drive_rise_time :
        Protocol options (:func:`giantatoms.protocols.driven_dissipative`).
    rtol, atol : float
        Protocol integration tolerances.
    noise_samples : int
        Quasi-static noise samples per point (0: none); the ``noise.*`` paths set the spreads.
    seed : int, optional
        Seed of the noise draws (drawn and recorded when omitted; required with a ``store``,
        so that a resumed run draws the same noise). Every point uses the same standard-normal
        draws, so results do not depend on chunking or executor.
    probe_frequencies : sequence or range, rad/s or unit strings
        For ``"spectrum"``.
    chunk_size : int, optional
        Points per batched call (default: 2048 for steady states and gaps, 128 / noise_samples
        for protocols, 200 000 / len(probe_frequencies) for spectra). Part of the sweep's
        identity: resuming needs the same value.
    correlation_frequency : float or str, rad/s, optional
        ω₀ of the entangling point (default: the perfect-correlation frequency nearest the
        pair's mean frequency, found once).
    executor : "serial", "processes", "dask", address, distributed.Client or Cluster,
        ProcessExecutor or concurrent.futures.Executor
        Where chunks run. ``"dask"`` starts a LocalCluster of ``workers`` processes; an address
        (``"tcp://scheduler:8786"``) or a Client uses an existing cluster (dask-jobqueue,
        SLURM, SSH: see docs/sweeps.md).
    workers : int, optional
        Processes for ``"processes"`` and ``"dask"`` (default: the CPU count).
    store : path, optional
        Zarr directory (``"sweep.zarr"``) or NetCDF file (``"sweep.nc"``). Finished chunks are
        written as they arrive; running again with the same store resumes, and returns the
        stored dataset when it is complete. Only an absent path, an empty directory or a store
        of this package is used (a file or a directory of other files raises
        :class:`StoreError`); ``<store>.lock`` keeps a second driver out
        (:class:`StoreLockedError`).
    overwrite : bool
        Discard an existing store of this package instead of resuming (never anything else).
    retries : int
        Resubmissions of a chunk whose worker died or whose task raised.
    progress : bool, optional
        Progress bar on stderr (default: when stderr is a terminal).

    Returns
    -------
    xarray.Dataset
        One dimension per swept axis, coordinates in lab units (``units`` attributes), one
        variable per metric and diagnostic, ``failed`` / ``error`` per point, and attributes
        with the full input (``sweep_spec``, ``device_toml``), ``versions`` and ``seed``.

    Raises
    ------
    ValueError, TypeError
        For a bad declaration (unknown path, unit of the wrong kind, empty range, a quantity
        missing its inputs, ...), before any point is computed.
    StoreError
        A ``store`` that is not a store of this package, or holds a different sweep.
    StoreLockedError
        Another process is driving a sweep on the same ``store``.
    """
    if isinstance(device, SweepSpec):
        if axes is not None:
            raise ValueError("give either a SweepSpec or device and axes, not both")
        spec = device
    else:
        if isinstance(device, str):
            from giantatoms.model import presets

            device = presets.load(device)
        if axes is None:
            raise ValueError("axes is required: a mapping path → values")
        spec = SweepSpec.create(
            device,
            axes,
            fixed=fixed,
            quantities=quantities,
            operating_point=operating_point,
            pair=pair,
            target=target,
            port=port,
            times=times,
            after_drive=after_drive,
            ramp_shape=ramp_shape,
            drive_rise_time=drive_rise_time,
            rtol=rtol,
            atol=atol,
            noise_samples=noise_samples,
            seed=seed,
            probe_frequencies=probe_frequencies,
            chunk_size=chunk_size,
            correlation_frequency=correlation_frequency,
        )
    # The evaluations skip the delay check of master_equation; the sweep's device is checked
    # here, once (a NonMarkovianWarning at the caller's line).
    warn_if_non_markovian(spec.device, stacklevel=3)
    return run_sweep(
        spec,
        executor=executor,
        workers=workers,
        store=store,
        overwrite=overwrite,
        retries=retries,
        progress=progress,
    )
