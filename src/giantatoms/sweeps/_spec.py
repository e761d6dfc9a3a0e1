"""The declaration of a sweep: axes, fixed values, quantities, settings — validated up front.

Everything here is checked before any point is computed: unknown paths, unit strings of the
wrong kind, empty or non-finite ranges, duplicate dimensions, quantities that need a value
nobody gave, settings out of range. A :class:`SweepSpec` is a frozen, picklable description;
the same spec always cuts the same chunks, which is what makes serial, process, Dask and resumed
runs give bit-identical datasets.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from giantatoms._validation import choice
from giantatoms.measure.metrics import _normalise_bell_name
from giantatoms.model.device import Device
from giantatoms.sweeps._paths import _PARSE_KIND, Parameter, resolve_path
from giantatoms.units import parse_quantity

__all__ = ["QUANTITIES", "Axis", "SweepSpec", "linspace", "logspace"]

#: What a sweep can compute at every point.
QUANTITIES = ("steady", "gap", "protocol", "spectrum")
OPERATING_POINTS = ("entangling", "device")
AFTER_DRIVE = ("move_to_df", "stay", "resonant")
NAMED_TIMES = ("start", "end_drive", "end_ramp", "end")
_GEOMETRY_FIELDS = ("points", "phase_velocity")
_PER_POINT = ("points", "point_rates", "right_fraction")

#: Revision of what the result variables mean, part of every fingerprint. 2: noise-averaged
#: protocol metrics are those of the shot-averaged state (before: means of per-shot metrics).
#: 3: steady-state sweeps also hold ``near_degenerate`` and ``relaxation_time``.
RESULTS_REVISION = 3


def linspace(start: str | float, stop: str | float, num: int) -> dict[str, Any]:
    """An evenly spaced range for :class:`Axis` (unit strings allowed), ``num`` ≥ 1 points."""
    return {"start": start, "stop": stop, "num": num}


def logspace(start: str | float, stop: str | float, num: int) -> dict[str, Any]:
    """A logarithmically spaced range from ``start`` to ``stop`` (both > 0), ``num`` points."""
    return {"start": start, "stop": stop, "num": num, "scale": "log"}


@dataclass(frozen=True)
class Axis:
    """One swept parameter.

    Parameters
    ----------
    path : str
        Parameter path (see :func:`giantatoms.sweeps.resolve_path`), e.g. ``"atoms.A.t1"``.
    values : sequence or mapping
        The values: a sequence of numbers (internal units: rad/s, s, m, dBm) or unit strings
        (``"30us"``), or a range ``{"start", "stop", "num"}`` (``"scale": "log"`` for a
        logarithmic one) or ``{"start", "stop", "step"}`` (stop included when it falls on the
        grid).
    dim : str, optional
        Dimension name in the result; axes with the same ``dim`` are swept together (zipped,
        equal lengths). Default: from the path (``"A_t1"``, ``"t1"`` for ``atoms.*.t1``,
        ``"power_dbm"``, ``"detuning"``, ...).
    """

    path: str
    values: Any
    dim: str | None = None


@dataclass(frozen=True)
class _Resolved:
    """An axis after validation: its parameter, internal values and dimension."""

    parameter: Parameter
    values: tuple[float, ...]
    dim: str
    explicit_dim: bool = False


def _range_values(parameter: Parameter, spec: Mapping[str, Any]) -> list[float]:
    keys = set(spec)
    allowed = {"start", "stop", "num", "step", "scale", "values"}
    if keys - allowed:
        raise ValueError(f"{parameter.path}: unknown range keys {sorted(keys - allowed)}")
    if "values" in spec:
        if keys != {"values"}:
            raise ValueError(f"{parameter.path}: give either 'values' or a range, not both")
        return [parameter.parse(v) for v in _as_list(parameter, spec["values"])]
    if not {"start", "stop"} <= keys or ("num" in keys) == ("step" in keys):
        raise ValueError(
            f"{parameter.path}: a range needs 'start', 'stop' and one of 'num' or 'step'"
        )
    start, stop = parameter.parse(spec["start"]), parameter.parse(spec["stop"])
    scale = spec.get("scale", "linear")
    if scale not in ("linear", "log"):
        raise ValueError(f"{parameter.path}: scale must be 'linear' or 'log', got {scale!r}")
    if "num" in keys:
        num = spec["num"]
        if isinstance(num, bool) or not isinstance(num, int | np.integer) or num < 1:
            raise ValueError(f"{parameter.path}: num must be an integer ≥ 1, got {num!r}")
        if scale == "log":
            if start <= 0 or stop <= 0:
                raise ValueError(f"{parameter.path}: a log range needs start and stop > 0")
            return list(np.geomspace(start, stop, int(num)))
        return list(np.linspace(start, stop, int(num)))
    if scale == "log":
        raise ValueError(f"{parameter.path}: a log range takes 'num', not 'step'")
    step = spec["step"]
    if isinstance(step, str):
        kind = _PARSE_KIND[parameter.kind]
        try:
            step = parse_quantity(step, kind) if kind is not None else float(step)
        except ValueError as exc:
            raise ValueError(f"{parameter.path}: step: {exc}") from None
    if isinstance(step, bool) or not (
        isinstance(step, int | float) and math.isfinite(step) and step != 0
    ):
        raise ValueError(f"{parameter.path}: step must be a finite non-zero number")
    count = math.floor((stop - start) / step * (1 + 1e-12)) + 1
    if count < 1:
        raise ValueError(
            f"{parameter.path}: empty range (start {spec['start']!r}, stop {spec['stop']!r}, "
            f"step {spec['step']!r})"
        )
    return [parameter.parse(start + k * step) for k in range(count)]


def _as_list(parameter: Parameter, values: Any) -> list[Any]:
    if isinstance(values, str) or np.ndim(values) == 0:
        return [values]
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise ValueError(f"{parameter.path}: values must be one-dimensional, got shape {arr.shape}")
    return [v.item() if isinstance(v, np.generic) else v for v in arr]


def _resolve_axis(device: Device, axis: Axis) -> _Resolved:
    if not isinstance(axis, Axis):
        raise TypeError(f"axes must be Axis objects or path → values, got {type(axis).__name__}")
    parameter = resolve_path(device, axis.path)
    if isinstance(axis.values, Mapping):
        values = _range_values(parameter, axis.values)
    else:
        values = [parameter.parse(v) for v in _as_list(parameter, axis.values)]
    if not values:
        raise ValueError(f"{axis.path}: empty list of values")
    dim = axis.dim if axis.dim is not None else parameter.dim
    if not isinstance(dim, str) or not dim.isidentifier():
        raise ValueError(f"{axis.path}: dim must be an identifier-like string, got {dim!r}")
    return _Resolved(parameter, tuple(float(v) for v in values), dim, axis.dim is not None)


def _parse_time(value: Any, where: str) -> float:
    try:
        t = parse_quantity(value, "time")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    if not (math.isfinite(t) and t >= 0):
        raise ValueError(f"{where}: times must be finite and ≥ 0 s, got {value!r}")
    return t


@dataclass(frozen=True, eq=False)
class SweepSpec:
    """A validated sweep: everything needed to compute any point, and nothing about how.

    Build it with :meth:`create` (or :meth:`from_toml`); :func:`giantatoms.sweep` does that for
    you. All values are stored in internal units.

    Attributes
    ----------
    device : Device
        The chip, one parameter set (no array parameters).
    axes : tuple
        Resolved axes (parameter, values, dim), in declaration order.
    fixed : tuple of (Parameter, float)
        Values that override the device / set the drive, protocol, noise or probe at every point.
    quantities : tuple of str
        Subset of ``("steady", "gap", "protocol", "spectrum")``.
    operating_point : {"entangling", "device"}
        ``"entangling"``: the pair sits at the entangling point for detuning δ
        (``drive.detuning``), the drive at the dressed centre (+ ``drive.offset``).
        ``"device"``: atoms at their own frequencies, the drive at ``drive.frequency``.
    pair : (int, int)
    target : str
        Bell state for the fidelities (``"auto"``: the operating point's dark state).
    port : str
    times : tuple
        Protocol save instants: names (``"end_drive"``, ...) or times (s) from the start.
    after_drive, ramp_shape : str
        Protocol options (see :func:`giantatoms.protocols.driven_dissipative`).
    drive_rise_time : float, s
    rtol, atol : float
        Protocol integration tolerances.
    noise_samples : int
        Quasi-static noise samples per point (0: no averaging).
    seed : int or None
        Seed of the noise draws (the same standard-normal draws are shared by every point, so
        results do not depend on chunking).
    probe_frequencies : tuple of float, rad/s
        Spectrum probe frequencies.
    chunk_size : int
        Points per batched call.
    correlation_frequency : float or None, rad/s
        ω₀ of the entangling operating point (perfect correlation), found once from the device.
    """

    device: Device
    axes: tuple[_Resolved, ...]
    fixed: tuple[tuple[Parameter, float], ...]
    quantities: tuple[str, ...]
    operating_point: str
    pair: tuple[int, int]
    target: str
    port: str
    times: tuple[str | float, ...]
    after_drive: str
    ramp_shape: str
    drive_rise_time: float
    rtol: float
    atol: float
    noise_samples: int
    seed: int | None
    probe_frequencies: tuple[float, ...]
    chunk_size: int
    correlation_frequency: float | None = None
    source: dict[str, Any] = field(default_factory=dict, compare=False)

    # ------------------------------------------------------------------ construction

    @classmethod
    def create(
        cls,
        device: Device,
        axes: Mapping[str, Any] | Sequence[Axis],
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
    ) -> SweepSpec:
        """Validate a sweep declaration (arguments as in :func:`giantatoms.sweep`)."""
        if not isinstance(device, Device):
            raise TypeError(f"device must be a Device, got {type(device).__name__}")
        _check_single_device(device)
        source = {
            "axes": _jsonable(axes),
            "fixed": _jsonable(fixed or {}),
            "quantities": _jsonable(quantities),
        }
        if isinstance(axes, Mapping):
            axes = [Axis(path, values) for path, values in axes.items()]
        resolved = tuple(_resolve_axis(device, a) for a in axes)
        if not resolved:
            raise ValueError("a sweep needs at least one axis (path → values)")
        paths = [r.parameter.path for r in resolved]
        repeated = sorted({p for p in paths if paths.count(p) > 1})
        if repeated:
            raise ValueError(f"parameter paths swept twice: {repeated}")
        sizes: dict[str, int] = {}
        for r in resolved:
            sharing = [o for o in resolved if o.dim == r.dim]
            if len(sharing) > 1 and not all(o.explicit_dim for o in sharing):
                raise ValueError(
                    f"axes {[o.parameter.path for o in sharing]} both default to the dimension "
                    f"{r.dim!r}: name them with Axis(path, values, dim=...) (axes given the same "
                    "dim are swept together)"
                )
            if sizes.setdefault(r.dim, len(r.values)) != len(r.values):
                raise ValueError(
                    f"axes sharing dim {r.dim!r} must have equal lengths "
                    f"({sizes[r.dim]} vs {len(r.values)} for {r.parameter.path})"
                )
        from giantatoms.sweeps._evaluate import is_reserved

        clash = sorted({r.dim for r in resolved if is_reserved(r.dim)})
        if clash:
            raise ValueError(
                f"dimension names {clash} are taken by result variables or dimensions; give "
                "the axes another dim"
            )
        fixed_params = []
        for path, value in (fixed or {}).items():
            parameter = resolve_path(device, path)
            if parameter.path in paths:
                raise ValueError(f"{path} is both swept and fixed")
            fixed_params.append((parameter, parameter.parse(value)))
        if isinstance(quantities, str):
            quantities = (quantities,)
        quantities = tuple(dict.fromkeys(choice(q, "quantities", QUANTITIES) for q in quantities))
        if not quantities:
            raise ValueError(f"quantities must name at least one of {list(QUANTITIES)}")
        operating_point = choice(operating_point, "operating_point", OPERATING_POINTS)
        i, j = (device.index(p) for p in pair)
        if i == j and device.n_atoms > 1:
            raise ValueError("pair must name two different atoms")
        target = "auto" if target == "auto" else _normalise_bell_name(target)
        port = choice(port, "port", ("left", "right"))
        after_drive = choice(after_drive, "after_drive", AFTER_DRIVE)
        ramp_shape = choice(ramp_shape, "ramp_shape", ("cosine", "linear"))
        rise = _parse_time(drive_rise_time, "drive_rise_time")
        for name, tol in (("rtol", rtol), ("atol", atol)):
            if not (isinstance(tol, int | float) and tol > 0):
                raise ValueError(f"{name} must be a positive number, got {tol!r}")
        if (
            isinstance(noise_samples, bool)
            or not isinstance(noise_samples, int)
            or (noise_samples < 0 or noise_samples == 1)
        ):
            raise ValueError(
                f"noise_samples must be 0 (off) or an integer ≥ 2, got {noise_samples!r}"
            )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        if noise_samples and seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**63)
            source["seed_drawn"] = True
        parsed_times = []
        for t in times:
            if isinstance(t, str) and t in NAMED_TIMES:
                parsed_times.append(t)
            else:
                parsed_times.append(_parse_time(t, f"times ({', '.join(NAMED_TIMES)} or a time)"))
        if not parsed_times:
            raise ValueError("times must list at least one instant")
        probes: tuple[float, ...] = ()
        if probe_frequencies is not None:
            if isinstance(probe_frequencies, Mapping):
                probe_parameter = resolve_path(device, "drive.frequency")
                probes = tuple(_range_values(probe_parameter, probe_frequencies))
            else:
                probe_parameter = resolve_path(device, "drive.frequency")
                probes = tuple(
                    probe_parameter.parse(v) for v in _as_list(probe_parameter, probe_frequencies)
                )
        spec = cls(
            device=device,
            axes=resolved,
            fixed=tuple(fixed_params),
            quantities=quantities,
            operating_point=operating_point,
            pair=(i, j),
            target=target,
            port=port,
            times=tuple(parsed_times),
            after_drive=after_drive,
            ramp_shape=ramp_shape,
            drive_rise_time=rise,
            rtol=float(rtol),
            atol=float(atol),
            noise_samples=int(noise_samples),
            seed=seed,
            probe_frequencies=probes,
            chunk_size=1,
            correlation_frequency=_correlation_frequency(
                device,
                (i, j),
                operating_point,
                correlation_frequency,
                per_point=any(
                    p.field in _GEOMETRY_FIELDS
                    for p in [r.parameter for r in resolved] + [p for p, _ in fixed_params]
                ),
            ),
            source=source,
        )
        spec._check_consistency()
        size = _default_chunk(spec) if chunk_size is None else chunk_size
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        object.__setattr__(spec, "chunk_size", int(size))
        return spec

    @classmethod
    def from_toml(cls, source: str | Path) -> tuple[SweepSpec, dict[str, Any]]:
        """Read a sweep file; returns the spec and the ``[run]`` table (executor, store, ...).

        Format::

            device = "sequential_pair"       # a preset name or a device file (relative paths
                                             # are relative to this file)
            quantities = ["steady", "gap"]
            operating_point = "entangling"   # other top-level keys: the options of sweep()

            [axes]
            "drive.power_dbm" = {start = "-140dBm", stop = "-115dBm", num = 25}
            "drive.detuning" = ["0.5MHz", "1MHz", "2MHz"]

            [fixed]
            "atoms.*.t1" = "30us"

            [run]
            executor = "processes"           # serial | processes | dask | tcp://scheduler:8786
            workers = 2
            store = "sweep.zarr"

        Axes swept together (one dimension) are written as an array of tables instead::

            [[axes]]
            path = "atoms.A.t1"
            values = ["10us", "50us"]
            dim = "quality"

            [[axes]]
            path = "atoms.B.t1"
            values = ["50us", "10us"]
            dim = "quality"
        """
        from giantatoms.model import presets

        path = Path(source)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"sweep file {str(path)!r} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML: {exc}") from None
        data = dict(data)
        run = dict(data.pop("run", {}))
        if "device" not in data:
            raise ValueError(f"{path}: the key 'device' (preset name or device file) is required")
        device_ref = data.pop("device")
        if not isinstance(device_ref, str):
            raise ValueError(f"{path}: device must be a preset name or a file path")
        candidate = (
            (path.parent / device_ref) if not Path(device_ref).is_absolute() else Path(device_ref)
        )
        if candidate.suffix == ".toml" or candidate.exists():
            device = Device.from_toml(candidate)
        else:
            try:
                device = presets.load(device_ref)
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{path}: device {device_ref!r}: {exc}") from None
        axes = data.pop("axes", None)
        if isinstance(axes, list) and axes and all(isinstance(a, Mapping) for a in axes):
            tables = []
            for a in axes:
                extra = sorted(set(a) - {"path", "values", "dim"})
                if "path" not in a or "values" not in a or extra:
                    raise ValueError(
                        f"{path}: each [[axes]] table needs 'path' and 'values' (and optionally "
                        f"'dim'); got keys {sorted(a)}"
                    )
                tables.append(Axis(a["path"], a["values"], a.get("dim")))
            axes = tables
        elif not isinstance(axes, Mapping) or not axes:
            raise ValueError(
                f"{path}: an [axes] table (path = values) or [[axes]] tables with at least one "
                "path are required"
            )
        else:
            axes = dict(axes)
        # The options of create(), so the file format cannot drift from the Python API.
        allowed = set(inspect.signature(cls.create).parameters) - {"device", "axes"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValueError(f"{path}: unknown keys {unknown}")
        if "pair" in data:
            data["pair"] = tuple(data["pair"])
        spec = cls.create(device, axes, **data)
        spec.source["device_ref"] = device_ref
        return spec, run

    # ------------------------------------------------------------------ checks

    def _value_paths(self) -> set[str]:
        return {r.parameter.path for r in self.axes} | {p.path for p, _ in self.fixed}

    def _has(self, group: str, fieldname: str) -> bool:
        return any(
            p.group == group and p.field == fieldname
            for p in [r.parameter for r in self.axes] + [p for p, _ in self.fixed]
        )

    def _check_consistency(self) -> None:
        """Quantities need their inputs; options must fit the operating point."""
        given = [r.parameter for r in self.axes] + [p for p, _ in self.fixed]
        for k, name in enumerate(self.device.atom_names):
            mine = [p for p in given if p.group == "device" and k in p.atoms]
            fields = {p.field for p in mine}
            if {"t2", "t_phi"} <= fields:
                raise ValueError(
                    f"atom {name!r}: give either t2 or t_phi (both were swept or fixed)"
                )
            for f in _PER_POINT:
                forms = {p.index is None for p in mine if p.field == f}
                if len(forms) > 1:
                    raise ValueError(
                        f"atom {name!r}: {f} is given both for all points and for one point "
                        f"({f}[i]); use one form"
                    )
        unused = []
        if "protocol" not in self.quantities:
            unused += [p.path for p in given if p.group == "protocol"]
        if not {"steady", "gap", "protocol"} & set(self.quantities):
            unused += [p.path for p in given if p.path in ("drive.power_dbm", "drive.phase")]
        if unused:
            raise ValueError(
                f"{unused} are not used by quantities {list(self.quantities)}: remove them or add "
                "the quantity that uses them"
            )
        needs_pair = self.device.n_atoms >= 2
        if self.operating_point == "entangling":
            if not needs_pair:
                raise ValueError(
                    "operating_point='entangling' needs two atoms; use operating_point='device'"
                )
            pair_names = {self.device.atom_names[k] for k in self.pair}
            for parameter in [r.parameter for r in self.axes] + [p for p, _ in self.fixed]:
                if parameter.field in _GEOMETRY_FIELDS and "protocol" in self.quantities:
                    raise ValueError(
                        f"{parameter.path}: the protocol with a swept geometry is not supported "
                        "(the DF points move with it); sweep the geometry for steady states, "
                        "gaps and spectra, or use one device per geometry"
                    )
                if (
                    parameter.group == "device"
                    and parameter.field == "frequency"
                    and (pair_names & {self.device.atom_names[a] for a in parameter.atoms})
                ):
                    raise ValueError(
                        f"{parameter.path}: the pair's frequencies are set by the entangling "
                        "operating point (sweep drive.detuning / drive.offset, or use "
                        "operating_point='device')"
                    )
                if parameter.path == "drive.frequency":
                    raise ValueError(
                        "drive.frequency is set by the entangling operating point; sweep "
                        "drive.offset (relative to it) or use operating_point='device'"
                    )
        else:
            for parameter in [r.parameter for r in self.axes] + [p for p, _ in self.fixed]:
                if parameter.path == "drive.detuning" or parameter.group == "protocol":
                    raise ValueError(
                        f"{parameter.path} belongs to the entangling protocol; it needs "
                        "operating_point='entangling'"
                    )
        driven = {"steady", "gap"} & set(self.quantities)
        if driven or "protocol" in self.quantities:
            if not self._has("drive", "power_dbm"):
                raise ValueError(
                    f"quantities {list(self.quantities)} need drive.power_dbm: sweep it or fix it"
                )
            if self.operating_point == "entangling" and not self._has("drive", "detuning"):
                raise ValueError(
                    "operating_point='entangling' needs drive.detuning (δ): sweep it or fix it"
                )
            if self.operating_point == "device" and not self._has("drive", "frequency"):
                raise ValueError(
                    "operating_point='device' needs drive.frequency: sweep it or fix it"
                )
        if "protocol" in self.quantities:
            if self.operating_point != "entangling":
                raise ValueError(
                    "quantity 'protocol' runs the entangling protocol: it needs "
                    "operating_point='entangling'"
                )
            missing = [
                f"protocol.{f}"
                for f in ("t_drive", "ramp_time", "t_store")
                if not self._has("protocol", f)
            ]
            if missing:
                raise ValueError(f"quantity 'protocol' needs {missing}: sweep them or fix them")
        elif self.noise_samples:
            raise ValueError("noise_samples averages the protocol: add quantity 'protocol'")
        noise = [
            p.path
            for p in [r.parameter for r in self.axes] + [p for p, _ in self.fixed]
            if p.group == "noise"
        ]
        if noise and not self.noise_samples:
            raise ValueError(f"{noise} need noise_samples ≥ 2 (quasi-static averaging)")
        if "spectrum" in self.quantities and not self.probe_frequencies:
            raise ValueError("quantity 'spectrum' needs probe_frequencies (e.g. a range in GHz)")
        if "spectrum" not in self.quantities and self._has("probe", "power_dbm"):
            raise ValueError("probe.power_dbm is only used by quantity 'spectrum'")
        # Fixed values must give a valid model: build it now, not in a worker later.
        from giantatoms.sweeps._evaluate import check_device_values

        check_device_values(self)

    # ------------------------------------------------------------------ geometry of the grid

    @property
    def dims(self) -> tuple[str, ...]:
        """Result dimensions of the swept axes, in declaration order."""
        return tuple(dict.fromkeys(r.dim for r in self.axes))

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape (one entry per dim)."""
        sizes = {r.dim: len(r.values) for r in self.axes}
        return tuple(sizes[d] for d in self.dims)

    @property
    def n_points(self) -> int:
        """Total number of points."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def n_chunks(self) -> int:
        """Number of batched calls."""
        return -(-self.n_points // self.chunk_size)

    def chunk_bounds(self, chunk: int) -> tuple[int, int]:
        """Flat point range [start, stop) of a chunk (C order over :attr:`dims`)."""
        start = chunk * self.chunk_size
        return start, min(start + self.chunk_size, self.n_points)

    def point_values(self, start: int, stop: int) -> dict[str, NDArray[np.float64]]:
        """Internal values of every swept and fixed path at flat points ``start:stop``."""
        index = np.unravel_index(np.arange(start, stop), self.shape)
        where = dict(zip(self.dims, index, strict=True))
        out = {r.parameter.path: np.asarray(r.values)[where[r.dim]] for r in self.axes}
        for parameter, value in self.fixed:
            out[parameter.path] = np.full(stop - start, value)
        return out

    @property
    def parameters(self) -> dict[str, Parameter]:
        """Every swept or fixed parameter by path."""
        out = {r.parameter.path: r.parameter for r in self.axes}
        out.update({p.path: p for p, _ in self.fixed})
        return out

    # ------------------------------------------------------------------ identity

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (internal units), enough to rebuild the spec."""
        return {
            "device_toml": self.device.to_toml(),
            "axes": [
                {"path": r.parameter.path, "dim": r.dim, "values": list(r.values)}
                for r in self.axes
            ],
            "fixed": {p.path: v for p, v in self.fixed},
            "quantities": list(self.quantities),
            "operating_point": self.operating_point,
            "pair": list(self.pair),
            "target": self.target,
            "port": self.port,
            "times": list(self.times),
            "after_drive": self.after_drive,
            "ramp_shape": self.ramp_shape,
            "drive_rise_time": self.drive_rise_time,
            "rtol": self.rtol,
            "atol": self.atol,
            "noise_samples": self.noise_samples,
            "seed": self.seed,
            "probe_frequencies": list(self.probe_frequencies),
            "chunk_size": self.chunk_size,
            "correlation_frequency": self.correlation_frequency,
        }

    def fingerprint(self) -> str:
        """SHA-256 of :meth:`to_dict`, the package version and :data:`RESULTS_REVISION`.

        Equal fingerprints ⇔ same points and the same numbers: a store written before a
        change of what a variable means is refused, never silently mixed with new chunks.
        """
        from giantatoms._version import __version__

        text = json.dumps(
            {"spec": self.to_dict(), "version": __version__, "results": RESULTS_REVISION},
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()


def _correlation_frequency(
    device: Device,
    pair: tuple[int, int],
    operating_point: str,
    given: str | float | None,
    *,
    per_point: bool = False,
) -> float | None:
    """ω₀ of the entangling point: given (rad/s or a unit string) or the nearest to the pair.

    None when it is found per point (``per_point``: the geometry is swept or fixed, so ω₀
    moves with it), or when it does not apply.
    """
    if operating_point != "entangling":
        if given is not None:
            raise ValueError("correlation_frequency only applies to operating_point='entangling'")
        return None
    if device.n_atoms < 2:
        return None
    if given is not None:
        try:
            w0 = parse_quantity(given, "frequency")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"correlation_frequency: {exc}") from None
        if not (math.isfinite(w0) and w0 > 0):
            raise ValueError(f"correlation_frequency must be > 0 rad/s, got {given!r}")
        return float(w0)
    if per_point:
        return None
    from giantatoms.model.couplings import entangling_operating_point

    return float(entangling_operating_point(device, 0.0, pair=pair).correlation_frequency)


def _check_single_device(device: Device) -> None:
    """The base device must be one parameter set: arrays come from the sweep's axes."""
    per_point = ("points", "point_rates", "right_fraction")
    for a in device.atoms:
        for name in ("frequency", "anharmonicity", "t1", "t2", "t_phi", "n_thermal", *per_point):
            value = getattr(a, name)
            if value is not None and np.ndim(value) > (1 if name in per_point else 0):
                raise ValueError(
                    f"device must be one parameter set; atom {a.name!r} has an array {name} "
                    f"of shape {np.shape(value)}: sweep it with an axis instead"
                )
    if np.ndim(device.waveguide.phase_velocity):
        raise ValueError("device must be one parameter set; sweep waveguide.phase_velocity")


def _default_chunk(spec: SweepSpec) -> int:
    """Points per batched call: big enough to amortise Python, small enough to checkpoint."""
    if "protocol" in spec.quantities:
        return max(1, 128 // max(1, spec.noise_samples))
    if "spectrum" in spec.quantities:
        return max(1, 200_000 // len(spec.probe_frequencies))
    return 2048


def _jsonable(value: Any) -> Any:
    """A JSON-safe copy of user input (for the record in the result's attributes)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, Axis):
        return {"path": value.path, "values": _jsonable(value.values), "dim": value.dim}
    if isinstance(value, str | bool | int | float) or value is None:
        return value
    if isinstance(value, np.ndarray | list | tuple):
        return [_jsonable(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)
