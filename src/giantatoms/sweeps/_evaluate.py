"""Compute one chunk of a sweep as batched calls of the lower layers.

A chunk is a contiguous range of flat grid points. Its parameter values become array fields of
one :class:`~giantatoms.model.device.Device` and one :class:`~giantatoms.model.device.Drive`
(batch axis = the chunk's points), so the master equations, steady states, gaps and spectra of
the whole chunk are each one vectorised call. Protocol runs are grouped by their segment
durations (one batched ``run_protocol`` call per distinct set). If a batched call raises, the
chunk is evaluated point by point and the points that still raise are recorded as failed with
the error message: a failure never takes the chunk's other points with it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from giantatoms.measure.metrics import (
    RHO_ATOL,
    bell_fidelity,
    concurrence,
    excited_population,
    purity,
)
from giantatoms.model.couplings import entangling_operating_point
from giantatoms.model.device import Device, Drive, Waveguide
from giantatoms.model.lindblad import master_equation
from giantatoms.solvers.gap import liouvillian_gap
from giantatoms.solvers.steady_state import steady_state

if TYPE_CHECKING:
    from giantatoms.sweeps._spec import SweepSpec

__all__ = ["Variable", "check_device_values", "evaluate_chunk", "extra_coordinates", "variables"]

#: Longest error message kept per failed point (characters).
ERROR_WIDTH = 200
_PER_POINT_FIELDS = ("points", "point_rates", "right_fraction")
_PROTOCOL_METRICS = (
    ("bell_fidelity", "Bell fidelity to the target in the drive frame"),
    ("bell_fidelity_optimized", "Bell fidelity maximised over local Z phases"),
    ("concurrence", "concurrence of the pair"),
    ("leakage", "population outside the pair's qubit subspace"),
)


@dataclass(frozen=True)
class Variable:
    """One result variable: name, extra dimensions after the point axis, dtype, attributes."""

    name: str
    dims: tuple[str, ...]
    dtype: str
    units: str
    long_name: str

    @property
    def fill(self) -> Any:
        """Value of points not (yet) computed."""
        return {"bool": False, "f8": np.nan}.get(self.dtype, "")


def _f(name: str, units: str, long_name: str, dims: tuple[str, ...] = ()) -> Variable:
    return Variable(name, dims, "f8", units, long_name)


def variables(spec: SweepSpec) -> list[Variable]:
    """The result variables of a spec, in a fixed order (the dataset's schema)."""
    out: list[Variable] = [
        _f("atom_frequency", "GHz", "bare atom frequency f = ω/2π used at the point", ("atom",))
    ]
    if spec.operating_point == "entangling":
        out.append(
            _f("correlation_frequency", "GHz", "perfect-correlation frequency ω₀/2π of the pair")
        )
    q = spec.quantities
    if {"steady", "gap"} & set(q):
        out.append(_f("drive_frequency", "GHz", "drive frequency f_d = ω_d/2π"))
    if "steady" in q:
        out += [
            _f("bell_fidelity", "1", "steady-state Bell fidelity, maximised over local Z phases"),
            _f("bell_fidelity_frame", "1", "steady-state Bell fidelity in the drive frame"),
            _f("concurrence", "1", "steady-state concurrence of the pair"),
            _f("purity", "1", "steady-state purity tr ρ²"),
            _f("excited_population", "1", "steady-state excited population", ("atom",)),
            _f("residual", "1/s", "‖L vec ρ‖₂ of the steady state"),
            _f("relative_residual", "1", "residual / ‖L‖_F"),
            _f("trace_error", "1", "|tr ρ − 1|"),
            _f("min_eigenvalue", "1", "smallest eigenvalue of ρ"),
            _f("condition_estimate", "1", "condition estimate of the steady-state system"),
            Variable("converged", (), "bool", "1", "steady state converged and unique"),
            Variable(
                "near_degenerate",
                (),
                "bool",
                "1",
                "nearly degenerate unique steady state (reached only after relaxation_time)",
            ),
            _f("relaxation_time", "us", "1/gap where the steady state looked doubtful (else NaN)"),
        ]
    if "gap" in q:
        out += [
            _f("gap", "1/us", "Liouvillian gap (slowest decay rate)"),
            _f("stabilisation_time", "us", "1/gap"),
        ]
    if "protocol" in q:
        out.append(_f("protocol_time", "us", "save time from the protocol start", ("time",)))
        for name, text in _PROTOCOL_METRICS:
            mean = " of the shot-averaged state" if spec.noise_samples else ""
            out.append(_f(f"protocol_{name}", "1", text + mean, ("time",)))
            if spec.noise_samples:
                out.append(
                    _f(
                        f"protocol_{name}_sem",
                        "1",
                        f"jackknife standard error of protocol_{name} over the noise samples",
                        ("time",),
                    )
                )
        if spec.noise_samples:
            out.append(
                _f(
                    "protocol_bell_fidelity_optimized_per_shot",
                    "1",
                    "mean over noise samples of each shot's own phase-optimised fidelity (an "
                    "upper bound: as if every shot's random phase were known)",
                    ("time",),
                )
            )
        out += [
            _f("protocol_error_estimate", "1", "accumulated Magnus error estimate", ("time",)),
            _f("protocol_trace_error", "1", "|tr ρ − 1| during the protocol", ("time",)),
            _f("protocol_min_eigenvalue", "1", "smallest eigenvalue of ρ", ("time",)),
        ]
    if "spectrum" in q:
        for trace in ("s21", "s11"):
            for part in ("real", "imag"):
                out.append(
                    _f(
                        f"{trace}_{part}",
                        "1",
                        f"{part} part of {trace.upper()} (physics sign "
                        "convention, see docs/conventions.md)",
                        ("probe_frequency",),
                    )
                )
    out += [
        Variable("failed", (), "bool", "1", "the point failed (see error)"),
        Variable("error", (), f"<U{ERROR_WIDTH}", "", "why the point failed ('' if it did not)"),
    ]
    return out


_RESERVED = {
    "atom_frequency", "drive_frequency", "correlation_frequency", "bell_fidelity",
    "bell_fidelity_frame", "concurrence", "purity", "excited_population", "residual",
    "relative_residual", "trace_error", "min_eigenvalue", "condition_estimate", "converged",
    "near_degenerate", "relaxation_time",
    "gap", "stabilisation_time", "failed", "error", "atom", "time", "probe_frequency",
}  # fmt: skip


def is_reserved(name: str) -> bool:
    """Whether ``name`` is (or may be) a result variable or a non-swept dimension."""
    return name in _RESERVED or name.startswith(("protocol_", "s21_", "s11_"))


def extra_coordinates(spec: SweepSpec) -> dict[str, tuple[Any, dict[str, str]]]:
    """Coordinates of the non-swept dimensions: atom names, save instants, probe frequencies."""
    out: dict[str, tuple[Any, dict[str, str]]] = {
        "atom": (np.array(spec.device.atom_names), {"long_name": "atom"})
    }
    if "protocol" in spec.quantities:
        labels = [t if isinstance(t, str) else f"{t * 1e6:.6g} us" for t in spec.times]
        out["time"] = (np.array(labels), {"long_name": "protocol save instant"})
    if "spectrum" in spec.quantities:
        out["probe_frequency"] = (
            np.asarray(spec.probe_frequencies) / (2e9 * np.pi),
            {"units": "GHz", "long_name": "probe frequency f = ω/2π"},
        )
    return out


def _extra_sizes(spec: SweepSpec) -> dict[str, int]:
    return {
        "atom": spec.device.n_atoms,
        "time": len(spec.times),
        "probe_frequency": len(spec.probe_frequencies),
    }


def allocate(spec: SweepSpec, n: int) -> dict[str, NDArray]:
    """Arrays of the fill values for ``n`` points."""
    sizes = _extra_sizes(spec)
    return {
        v.name: np.full((n, *(sizes[d] for d in v.dims)), v.fill, dtype=v.dtype)
        for v in variables(spec)
    }


# ------------------------------------------------------------------------------------------
# Building the batched model of a chunk


def build_device(spec: SweepSpec, values: dict[str, NDArray], lead: tuple[int, ...]) -> Device:
    """The spec's device with the device paths' values as array fields of shape ``lead``."""
    device = spec.device
    changes: list[dict[str, Any]] = [{} for _ in device.atoms]
    waveguide = device.waveguide
    for path, parameter in spec.parameters.items():
        if parameter.group != "device":
            continue
        v = np.asarray(values[path], dtype=float).reshape(lead)
        if parameter.field == "phase_velocity":
            waveguide = Waveguide(phase_velocity=v)
            continue
        for a in parameter.atoms:
            atom, change = device.atoms[a], changes[a]
            name = parameter.field
            if name in _PER_POINT_FIELDS:
                current = np.asarray(change.get(name, getattr(atom, name)), dtype=float)
                if parameter.index is None:
                    change[name] = v[..., None]
                else:
                    full = np.broadcast_to(
                        current, np.broadcast_shapes(current.shape, (*lead, atom.n_points))
                    ).copy()
                    full[..., parameter.index] = v
                    change[name] = full
            else:
                change[name] = v
                if name == "t2":
                    change["t_phi"] = None
                elif name == "t_phi":
                    change["t2"] = None
    atoms = [a.replace(**c) if c else a for a, c in zip(device.atoms, changes, strict=True)]
    return dataclasses.replace(device, waveguide=waveguide, atoms=atoms)


def check_device_values(spec: SweepSpec) -> None:
    """Build the device from the fixed values alone, before any work.

    A fixed value that makes every point invalid (e.g. T2 > 2·T1) is a declaration error.
    Invalid *combinations* of swept values are recorded per point as failures instead.
    """
    swept = {r.parameter.path for r in spec.axes}
    values = {p: v for p, v in spec.point_values(0, 1).items() if p not in swept}
    build_device(dataclasses.replace(spec, axes=()), values, (1,))


def _value(values: dict[str, NDArray], path: str, lead: tuple[int, ...], default: float) -> Any:
    if path in values:
        return np.asarray(values[path], dtype=float).reshape(lead)
    return default


def _correlation_frequencies(spec: SweepSpec, values: dict[str, NDArray]) -> NDArray:
    """ω₀ per point (rad/s, flat), searched once per distinct geometry of the chunk.

    The perfect-correlation frequency nearest the pair's mean bare frequency (±5 %).
    """
    from giantatoms.model.couplings import perfect_correlation_frequencies

    geometry = [p.path for p in spec.parameters.values() if p.field in ("points", "phase_velocity")]
    keys = np.stack([np.asarray(values[p], dtype=float).ravel() for p in geometry], axis=-1)
    unique, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    i, j = spec.pair
    found = np.empty(len(unique))
    for k, row in enumerate(first):
        device = build_device(spec, {p: v[row : row + 1] for p, v in values.items()}, ())
        centre = 0.5 * float(device.atoms[i].frequency + device.atoms[j].frequency)
        band = (0.95 * centre, 1.05 * centre)
        candidates = perfect_correlation_frequencies(device, spec.pair, band)
        if candidates.size == 0:
            raise ValueError(
                f"no perfect-correlation frequency of the pair within ±5 % of "
                f"{centre / (2e9 * np.pi):.4f} GHz for this geometry"
            )
        found[k] = candidates[np.argmin(np.abs(candidates - centre))]
    return found[inverse.ravel()]


def _operating_point(
    spec: SweepSpec, values: dict[str, NDArray], device: Device, lead: tuple[int, ...]
) -> tuple[Drive | None, NDArray[np.float64], Any]:
    """Drive, bare atom frequencies (lead…, n_atoms) and operating point of a chunk.

    The drive is None in device mode without ``drive.frequency`` (spectra only); the
    :class:`~giantatoms.model.couplings.OperatingPoint` is None in device mode.
    """
    power = _value(values, "drive.power_dbm", lead, -np.inf)
    offset = _value(values, "drive.offset", lead, 0.0)
    phase = _value(values, "drive.phase", lead, 0.0)
    if spec.operating_point == "entangling":
        delta = _value(values, "drive.detuning", lead, 0.0)
        w0 = spec.correlation_frequency
        if w0 is None:  # the geometry is swept or fixed: ω₀ per point
            w0 = _correlation_frequencies(spec, values).reshape(lead)
        op = entangling_operating_point(device, delta, pair=spec.pair, correlation_frequency=w0)
        op = dataclasses.replace(op, drive_frequency=op.drive_frequency + offset)
        drive = Drive(frequency=op.drive_frequency, power_dbm=power, port=spec.port, phase=phase)
        return drive, op.frequencies, op
    frequencies = np.stack([np.broadcast_to(a.frequency, lead) for a in device.atoms], axis=-1)
    if "drive.frequency" not in values:
        return None, frequencies, None
    frequency = _value(values, "drive.frequency", lead, 0.0) + offset
    drive = Drive(frequency=frequency, power_dbm=power, port=spec.port, phase=phase)
    return drive, frequencies, None


def _target(spec: SweepSpec, op: Any) -> NDArray | str:
    """Bell-state name per point (an array of names where the dark state changes)."""
    if spec.target != "auto":
        return spec.target
    if op is None:
        return "psi-"
    return np.where(np.cos(op.theta) > 0, "psi-", "psi+")


def _fidelity(rho: NDArray, target: NDArray | str, spec: SweepSpec, optimize: bool) -> NDArray:
    if isinstance(target, str):
        return bell_fidelity(
            rho, target, optimize_phases=optimize, atoms=spec.pair, dims=spec.device.dims
        )
    names = np.broadcast_to(target, rho.shape[:-2])
    out = np.full(rho.shape[:-2], np.nan)
    for name in np.unique(names):
        mask = names == name
        out[mask] = bell_fidelity(
            rho[mask], str(name), optimize_phases=optimize, atoms=spec.pair, dims=spec.device.dims
        )
    return out


# ------------------------------------------------------------------------------------------
# Quantities


def _steady(spec: SweepSpec, me: Any, target: Any, out: dict[str, NDArray]) -> None:
    ss = steady_state(me, on_failure="flag")
    rho = ss.rho
    # Metrics only of states that are density matrices (the metrics refuse others); an
    # unconverged point keeps its diagnostics and reason, with NaN metrics.
    finite = np.isfinite(rho).all(axis=(-2, -1))
    with np.errstate(invalid="ignore"):
        finite &= (np.asarray(ss.trace_error) < RHO_ATOL) & (
            np.asarray(ss.min_eigenvalue) > -RHO_ATOL
        )
    d = rho.shape[-1]
    safe = np.where(finite[..., None, None], rho, np.eye(d) / d)
    pair_ok = spec.device.n_atoms >= 2
    if pair_ok:
        out["bell_fidelity"][:] = _fidelity(safe, target, spec, True)
        out["bell_fidelity_frame"][:] = _fidelity(safe, target, spec, False)
        out["concurrence"][:] = concurrence(safe, atoms=spec.pair, dims=spec.device.dims)
    out["purity"][:] = purity(safe)
    out["excited_population"][:] = np.stack(
        [
            excited_population(safe, atom=k, dims=spec.device.dims)
            for k in range(spec.device.n_atoms)
        ],
        axis=-1,
    )
    for name in ("bell_fidelity", "bell_fidelity_frame", "concurrence", "purity"):
        out[name][~finite] = np.nan
    out["excited_population"][~finite] = np.nan
    for name in ("residual", "relative_residual", "trace_error", "min_eigenvalue"):
        out[name][:] = getattr(ss, name)
    out["condition_estimate"][:] = ss.condition_estimate
    out["converged"][:] = ss.converged
    out["near_degenerate"][:] = ss.near_degenerate
    out["relaxation_time"][:] = ss.relaxation_time / 1e-6
    bad = ~ss.converged
    out["failed"][bad] = True
    for k in np.flatnonzero(bad):
        reason = (
            f"no unique steady state (condition estimate {ss.condition_estimate[k]:.2e})"
            if not ss.unique[k]
            else f"steady state did not converge (relative residual {ss.relative_residual[k]:.2e})"
        )
        out["error"][k] = reason


def _spectrum(
    spec: SweepSpec, device: Device, frequencies: Any, values: dict, out: dict[str, NDArray]
) -> None:
    from giantatoms.measure.spectroscopy import scattering

    n = out["failed"].shape[0]
    power = _value(values, "probe.power_dbm", (n,), None) if "probe.power_dbm" in values else None
    result = scattering(
        device,
        np.asarray(spec.probe_frequencies),
        frequencies=frequencies,
        power_dbm=power,
        port=spec.port,
    )
    for trace in ("s21", "s11"):
        s = np.broadcast_to(getattr(result, trace), (n, len(spec.probe_frequencies)))
        out[f"{trace}_real"][:] = s.real
        out[f"{trace}_imag"][:] = s.imag


def _instants(spec: SweepSpec, t_drive: float, ramp: float, store: float) -> NDArray:
    ends = {
        "start": 0.0,
        "end_drive": spec.drive_rise_time + t_drive,
        "end_ramp": spec.drive_rise_time + t_drive + ramp,
        "end": spec.drive_rise_time + t_drive + ramp + store,
    }
    return np.array([ends[t] if isinstance(t, str) else t for t in spec.times])


def _noise_draws(spec: SweepSpec) -> NDArray[np.float64]:
    """Standard normals (samples, n_atoms + 2), shared by every point of the sweep."""
    rng = np.random.default_rng(spec.seed)
    return rng.standard_normal((spec.noise_samples, spec.device.n_atoms + 2))


def _protocol(spec: SweepSpec, values: dict[str, NDArray], out: dict) -> None:
    """Protocol metrics, one batched run per distinct set of segment durations."""
    from giantatoms.protocols import driven_dissipative, run_protocol, shot_average

    durations = np.stack(
        [values[f"protocol.{f}"] for f in ("t_drive", "ramp_time", "t_store")], axis=-1
    )
    unique, inverse = np.unique(durations, axis=0, return_inverse=True)
    noisy = spec.noise_samples > 0
    z = _noise_draws(spec) if noisy else None
    for g, (t_drive, ramp, store) in enumerate(unique):
        idx = np.flatnonzero(inverse.ravel() == g)
        sub = {p: v[idx] for p, v in values.items()}
        lead = (idx.size, 1) if noisy else (idx.size,)
        device = build_device(spec, sub, lead)
        drive, _, op = _operating_point(spec, sub, device, lead)
        protocol = driven_dissipative(
            device,
            power_dbm=drive.power_dbm,
            detuning=op.detuning,
            t_drive=t_drive,
            ramp_time=ramp,
            t_store=store,
            ramp_shape=spec.ramp_shape,
            after_drive=spec.after_drive,
            pair=spec.pair,
            operating_point=op,
            port=spec.port,
            drive_rise_time=spec.drive_rise_time,
        )
        if spec.target != "auto":
            protocol = dataclasses.replace(protocol, target=spec.target)
        if noisy:
            sf = _value(sub, "noise.frequency_noise", lead, 0.0)
            sa = _value(sub, "noise.amplitude_noise", lead, 0.0)
            sp = _value(sub, "noise.phase_noise", lead, 0.0)
            n_atoms = spec.device.n_atoms
            protocol = protocol.perturbed(
                frequency_offset=np.asarray(sf)[..., None] * z[None, :, :n_atoms],
                amplitude_scale=1.0 + np.asarray(sa) * z[None, :, n_atoms],
                phase_offset=np.asarray(sp) * z[None, :, n_atoms + 1],
            )
        instants = _instants(spec, t_drive, ramp, store)
        save, where = np.unique(instants, return_inverse=True)
        result = run_protocol(device, protocol, save, rtol=spec.rtol, atol=spec.atol)
        out["protocol_time"][idx] = instants / 1e-6
        if noisy:
            # What a shot-averaged measurement sees: metrics of the mean state over the
            # samples (axis 1), in the drive frame fixed by the nominal drive, with jackknife
            # errors; the per-shot optimised fidelity is kept under its own name.
            _, averaged, errors = shot_average(
                result.rho[:, :, where], result.dims, protocol, axis=1
            )
            for name, _ in _PROTOCOL_METRICS:
                out[f"protocol_{name}"][idx] = averaged[name]
                out[f"protocol_{name}_sem"][idx] = errors[name]
            per_shot = np.asarray(result.bell_fidelity_optimized)[..., where]
            out["protocol_bell_fidelity_optimized_per_shot"][idx] = per_shot.mean(axis=1)
        else:
            for name, _ in _PROTOCOL_METRICS:
                out[f"protocol_{name}"][idx] = np.asarray(getattr(result, name))[..., where]
        for name in ("error_estimate", "trace_error"):
            metric = np.asarray(getattr(result, name))[..., where]
            out[f"protocol_{name}"][idx] = metric.max(axis=1) if noisy else metric
        low = np.asarray(result.min_eigenvalue)[..., where]
        out["protocol_min_eigenvalue"][idx] = low.min(axis=1) if noisy else low
    bad = ~np.isfinite(out["protocol_bell_fidelity_optimized"]).all(axis=-1)
    out["failed"][bad] = True
    for k in np.flatnonzero(bad):
        if not out["error"][k]:
            out["error"][k] = "protocol produced non-finite states"


def _evaluate(spec: SweepSpec, values: dict[str, NDArray], n: int) -> dict[str, NDArray]:
    """All quantities for ``n`` points, batched; raises if any batched call raises."""
    out = allocate(spec, n)
    lead = (n,)
    device = build_device(spec, values, lead)
    drive, frequencies, op = _operating_point(spec, values, device, lead)
    if op is not None:
        out["correlation_frequency"][:] = np.broadcast_to(op.correlation_frequency, lead) / (
            2e9 * np.pi
        )
    out["atom_frequency"][:] = np.broadcast_to(frequencies, (n, spec.device.n_atoms)) / (
        2e9 * np.pi
    )
    if {"steady", "gap"} & set(spec.quantities):
        out["drive_frequency"][:] = np.broadcast_to(drive.frequency, lead) / (2e9 * np.pi)
        me = master_equation(device, drive, frequencies=frequencies, check_delays=False)
        if "steady" in spec.quantities:
            _steady(spec, me, _target(spec, op), out)
        if "gap" in spec.quantities:
            gap = np.asarray(liouvillian_gap(me).gap)
            out["gap"][:] = gap * 1e-6
            out["stabilisation_time"][:] = 1.0 / gap / 1e-6
    if "protocol" in spec.quantities:
        _protocol(spec, values, out)
    if "spectrum" in spec.quantities:
        _spectrum(spec, device, frequencies, values, out)
    return out


def _message(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text[: ERROR_WIDTH - 1] + "…" if len(text) > ERROR_WIDTH else text


def _evaluate_robust(
    spec: SweepSpec, values: dict[str, NDArray], n: int, out: dict[str, NDArray], offset: int
) -> None:
    """Evaluate points ``offset:offset + n`` into ``out``; on an exception, bisect.

    A batched call that raises is split in halves until the raising points are isolated, so
    k bad points among n cost O(k log n) smaller batched calls, not n single-point ones.
    """
    try:
        result = _evaluate(spec, values, n)
    except Exception as exc:  # a failed point is data, not a crash
        if n == 1:
            out["failed"][offset] = True
            out["error"][offset] = _message(exc)
            return
        half = n // 2
        for lo, hi in ((0, half), (half, n)):
            part = {p: v[lo:hi] for p, v in values.items()}
            _evaluate_robust(spec, part, hi - lo, out, offset + lo)
        return
    for name, arr in result.items():
        out[name][offset : offset + n] = arr


def evaluate_chunk(spec: SweepSpec, chunk: int) -> dict[str, NDArray]:
    """Results of chunk ``chunk`` (flat points ``spec.chunk_bounds(chunk)``).

    Runs the whole chunk batched; if that raises, bisects until the raising points are
    isolated and records them as failed with their error message. Deterministic: the same spec
    and chunk give bit-identical arrays in any process.
    """
    from giantatoms.solvers.liouvillian import _blas_single_thread

    start, stop = spec.chunk_bounds(chunk)
    values = spec.point_values(start, stop)
    n = stop - start
    out = allocate(spec, n)
    with _blas_single_thread():
        _evaluate_robust(spec, values, n, out, 0)
    return out
