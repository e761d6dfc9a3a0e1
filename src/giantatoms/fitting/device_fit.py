"""Fits of the full device model: :func:`fit_device`.

The named quantities of a :class:`~giantatoms.model.device.Device` (atom frequencies,
per-point rates, point spacing or phase, intrinsic loss, dephasing, chirality, phase velocity)
float, and :func:`giantatoms.scattering` (linear response) is evaluated for all of them at once,
batched over the Jacobian's displacements.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from giantatoms._validation import choice
from giantatoms.fitting._problem import (
    _apply_overrides,
    _background_names,
    _initial_background,
    _Problem,
    _require_feature,
    _vary_set,
)
from giantatoms.fitting.background import (
    _BACKGROUND_FIELDS,
    _DEFAULT_VARY,
    Background,
    _background_values,
    _backgrounds_per_trace,
)
from giantatoms.fitting.data import _TRACES, SpectroscopyData
from giantatoms.fitting.result import FitResult, _least_squares
from giantatoms.measure.spectroscopy import scattering
from giantatoms.model.device import Device

__all__ = ["fit_device"]


# Atom quantities that may float, and the group each belongs to: per atom and group, either one
# whole-atom parameter or any number of distinct indexed ones.
_ATOM_FIELDS = {
    "frequency": "frequency",
    "point_rates": "rates",
    "points": "geometry",
    "spacing": "geometry",
    "phase": "geometry",
    "right_fraction": "chirality",
    "intrinsic_decay_rate": "loss",
    "t1": "loss",
    "dephasing_rate": "dephasing",
    "t_phi": "dephasing",
}
_INDEXED = ("point_rates", "points", "right_fraction")
_ATOM_PARAMETER = re.compile(r"^atoms\.(?P<atom>.+)\.(?P<field>\w+?)(?:\[(?P<index>-?\d+)\])?$")
_PARAMETER_HELP = (
    "device parameters are 'atoms.<name>.<field>' (name '*' ties the value across all atoms), "
    f"field one of {sorted(_ATOM_FIELDS)} (point_rates[i], points[i], right_fraction[i] for "
    "one point), or 'waveguide.phase_velocity'"
)


@dataclass(frozen=True)
class _DeviceParameter:
    name: str
    field: str
    atoms: tuple[int, ...] = ()
    index: int | None = None


def _parse_parameters(device: Device, parameters: Sequence[str]) -> list[_DeviceParameter]:
    if isinstance(parameters, str):
        parameters = [parameters]
    specs: list[_DeviceParameter] = []
    for name in parameters:
        if not isinstance(name, str):
            raise TypeError(f"parameters must be strings, got {name!r}")
        if name == "waveguide.phase_velocity":
            specs.append(_DeviceParameter(name, "phase_velocity"))
            continue
        match = _ATOM_PARAMETER.match(name)
        if match is None or match["field"] not in _ATOM_FIELDS:
            raise ValueError(f"unknown parameter {name!r}; {_PARAMETER_HELP}")
        leaf = match["field"]
        atoms = (
            tuple(range(device.n_atoms)) if match["atom"] == "*" else (device.index(match["atom"]),)
        )
        index = None
        if match["index"] is not None:
            if leaf not in _INDEXED:
                raise ValueError(f"parameter {name!r}: {leaf} takes no point index")
            index = int(match["index"])
            for a in atoms:
                n = device.atoms[a].n_points
                if not -n <= index < n:
                    raise ValueError(
                        f"parameter {name!r}: atom {device.atoms[a].name!r} has {n} points"
                    )
                index %= n
        elif leaf == "points":
            raise ValueError(f"parameter {name!r}: give a point index, e.g. '{name}[0]'")
        if leaf in ("spacing", "phase"):
            for a in atoms:
                if device.atoms[a].n_points < 2:
                    raise ValueError(
                        f"parameter {name!r}: atom {device.atoms[a].name!r} has a single point"
                    )
        specs.append(_DeviceParameter(name, leaf, atoms, index))
    if not specs:
        raise ValueError(f"parameters is empty; {_PARAMETER_HELP}")
    names = [s.name for s in specs]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"parameters listed twice: {duplicated}")
    groups: dict[tuple[int, str], list[_DeviceParameter]] = {}
    for spec in specs:
        for a in spec.atoms:
            groups.setdefault((a, _ATOM_FIELDS[spec.field]), []).append(spec)
    for (a, group), members in groups.items():
        indices = [m.index for m in members]
        if len(members) > 1 and (None in indices or len(set(indices)) < len(indices)):
            raise ValueError(
                f"parameters {[m.name for m in members]} all set the {group} of atom "
                f"{device.atoms[a].name!r}; float only one of them"
            )
    return specs


def _starting_value(device: Device, spec: _DeviceParameter) -> float:
    if spec.field == "phase_velocity":
        return device.waveguide.phase_velocity
    values = []
    for a in spec.atoms:
        atom = device.atoms[a]
        leaf, i = spec.field, spec.index
        if leaf == "frequency":
            value = atom.frequency
        elif leaf in ("point_rates", "right_fraction"):
            per_point = (
                atom.rates_per_point if leaf == "point_rates" else atom.right_fraction_per_point
            )
            value = np.mean(per_point) if i is None else per_point[i]
        elif leaf == "points":
            value = atom.points[i]
        elif leaf == "spacing":
            value = np.ptp(atom.points)
        elif leaf == "phase":
            value = atom.frequency * np.ptp(atom.points) / device.waveguide.phase_velocity
        elif leaf == "intrinsic_decay_rate":
            value = atom.intrinsic_decay_rate
        elif leaf == "dephasing_rate":
            value = atom.dephasing_rate
        elif leaf == "t1":
            if atom.t1 is None or not np.isfinite(atom.t1):
                raise ValueError(
                    f"parameter {spec.name!r}: atom {atom.name!r} has no finite t1; "
                    "float its intrinsic_decay_rate instead"
                )
            value = atom.t1
        else:  # t_phi
            if not atom.dephasing_rate > 0:
                raise ValueError(
                    f"parameter {spec.name!r}: atom {atom.name!r} has no dephasing; "
                    "float its dephasing_rate instead"
                )
            value = 1.0 / atom.dephasing_rate
        values.append(float(value))
    return float(np.mean(values))


def _build_device(
    base: Device, specs: Sequence[_DeviceParameter], values: NDArray[np.float64]
) -> Device:
    """``base`` with the parameters set to ``values`` (shape (..., k)): a batched device."""
    batch = values.shape[:-1]
    v0 = base.waveguide.phase_velocity
    velocity = None
    per_atom: list[list[tuple[_DeviceParameter, NDArray]]] = [[] for _ in base.atoms]
    for j, spec in enumerate(specs):
        if spec.field == "phase_velocity":
            velocity = values[..., j]
        for a in spec.atoms:
            per_atom[a].append((spec, values[..., j]))
    atoms = list(base.atoms)
    for a, atom in enumerate(base.atoms):
        items = per_atom[a]
        if not items and velocity is None:
            continue
        n = atom.n_points
        changes: dict[str, Any] = {}
        frequency = next((v for s, v in items if s.field == "frequency"), None)
        if frequency is not None:
            changes["frequency"] = frequency
        else:
            frequency = np.asarray(atom.frequency)
        points = rates = fraction = None
        for spec, value in items:
            leaf, i = spec.field, spec.index
            if leaf == "point_rates":
                if rates is None:
                    rates = np.array(np.broadcast_to(atom.rates_per_point, (*batch, n)))
                _set_points(rates, i, value)
            elif leaf == "right_fraction":
                if fraction is None:
                    fraction = np.array(np.broadcast_to(atom.right_fraction_per_point, (*batch, n)))
                _set_points(fraction, i, value)
            elif leaf == "points":
                if points is None:
                    points = np.array(np.broadcast_to(atom.points, (*batch, n)))
                points[..., i] = value
            elif leaf in ("spacing", "phase"):
                span = (
                    value
                    if leaf == "spacing"
                    else value * (v0 if velocity is None else velocity) / frequency
                )
                x = np.asarray(atom.points)
                centre = x.mean()
                points = centre + (x - centre) * (np.asarray(span) / np.ptp(x))[..., None]
            elif leaf in ("intrinsic_decay_rate", "dephasing_rate"):
                with np.errstate(divide="ignore"):
                    time = 1.0 / value
                changes["t1" if leaf == "intrinsic_decay_rate" else "t_phi"] = time
            elif leaf in ("t1", "t_phi"):
                changes[leaf] = value
        if velocity is not None:
            # Positions only enter through k·x = ωx/v: a phase velocity v is the chip with every
            # position scaled by v0/v.
            x = np.asarray(atom.points) if points is None else points
            points = x * (v0 / velocity)[..., None]
        arrays = {"points": points, "point_rates": rates, "right_fraction": fraction}
        changes.update({key: array for key, array in arrays.items() if array is not None})
        atoms[a] = atom.replace(**changes)
    return replace(base, atoms=tuple(atoms))


def _parameter_scale(leaf: str, value: float, linewidth: float, metres_per_radian: float) -> float:
    """A change of a device parameter the data notice: one unit of the scaled fit variable."""
    if leaf == "frequency":
        return linewidth
    if leaf in ("points", "spacing"):
        return 0.1 * metres_per_radian
    if leaf == "phase":
        return 0.1
    if leaf == "right_fraction":
        return 0.05
    if leaf in ("t1", "t_phi"):
        return 0.1 * abs(value)
    if leaf == "phase_velocity":
        return 1e-3 * abs(value)
    return max(abs(value), 0.1 * linewidth)  # rates


def _set_points(per_point: NDArray, index: int | None, value: NDArray) -> None:
    """Set one point (``index``) or all points (``None``) of a (..., n_points) array."""
    if index is None:
        per_point[...] = value[..., None]
    else:
        per_point[..., index] = value


def _prepare_device(device: Device, specs: Sequence[_DeviceParameter]) -> Device:
    """Hold γ_φ fixed where intrinsic loss or dephasing floats on an atom given by t2."""
    for spec in specs:
        if _ATOM_FIELDS.get(spec.field) in ("loss", "dephasing"):
            for a in spec.atoms:
                atom = device.atoms[a]
                if atom.t2 is not None:
                    rate = float(atom.dephasing_rate)
                    device = device.replace_atom(
                        a, t2=None, t_phi=1.0 / rate if rate > 0 else np.inf
                    )
    return device


def fit_device(
    data: SpectroscopyData,
    device: Device,
    parameters: Sequence[str],
    *,
    traces: Sequence[str] | None = None,
    background: Background | Mapping[str, Background] | None = None,
    vary_background: Sequence[str] | str = _DEFAULT_VARY,
    initial: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    couplings_at: str = "probe",
    max_evaluations: int | None = None,
) -> FitResult:
    """Fit the device's linear-response S21 / S11 (:func:`giantatoms.scattering`) to data.

    Each trace is modelled as B_trace(ω)·S(ω; device) (engineering convention; conjugated
    for physics-convention data), with the named device quantities floating and everything
    else held at ``device``'s values. The model is evaluated for all Jacobian displacements
    in one batched call.

    Parameters
    ----------
    data : SpectroscopyData
    device : Device
        The starting point (one parameter set: no array/batch parameters). Its values should
        be close, e.g. frequencies from :func:`fit_lorentzian`.
    parameters : sequence of str
        Device quantities that float (SI units):

        ``atoms.<name>.frequency``
            bare frequency ω (rad/s; the fit sees ω plus the Lamb shift).
        ``atoms.<name>.point_rates`` / ``atoms.<name>.point_rates[i]``
            one rate for all points, or one point's γ (rad/s).
        ``atoms.<name>.spacing`` / ``atoms.<name>.phase`` / ``atoms.<name>.points[i]``
            span of the points (m, centre held fixed), the same as the phase φ = ω·span/v at
            the atom's frequency (rad), or one point's position (m).
        ``atoms.<name>.intrinsic_decay_rate`` / ``atoms.<name>.t1``
            intrinsic loss γ_nr = 1/T1 (rad/s, or s).
        ``atoms.<name>.dephasing_rate`` / ``atoms.<name>.t_phi``
            pure dephasing γ_φ (rad/s, or s). Linear response only sees γ_nr(1+2n_th) + 2γ_φ:
            float one of loss and dephasing. An atom given by ``t2`` is converted to ``t_phi``
            at its starting γ_φ when either floats.
        ``atoms.<name>.right_fraction`` / ``[i]``
            chirality of the points.
        ``atoms.*.<field>``
            one value shared by every atom (starting value: the mean).
        ``waveguide.phase_velocity``
            v (m/s).
    traces : sequence of {"s21", "s11"}, optional
        Traces to fit; default all in ``data``. Each has its own background.
    background : Background or mapping trace → Background, optional
        Starting (or fixed) backgrounds; default estimated against the starting model.
    vary_background : sequence of str
        Components that float, for every trace (``"amplitude"``, ``"phase"``, ``"delay"``,
        ``"slope"``) or one (``"s11.delay"``).
    initial : mapping, optional
        Starting values by parameter name (device or background, e.g. ``"s21.delay"``).
    bounds : mapping name → (low, high), optional
        Overrides the default bounds (rates, loss ≥ 0; frequency, spacing, times > 0;
        right_fraction in [0, 1]).
    couplings_at : {"probe", "atoms"}
        As for :func:`giantatoms.scattering`.
    max_evaluations : int, optional

    Returns
    -------
    FitResult
        With ``device`` the fitted device and ``backgrounds`` the fitted backgrounds.
    """
    if not isinstance(data, SpectroscopyData):
        raise TypeError(f"data must be a SpectroscopyData, got {type(data).__name__}")
    if not isinstance(device, Device):
        raise TypeError(f"device must be a Device, got {type(device).__name__}")
    if traces is None:
        traces = data.traces
    traces = tuple(dict.fromkeys(choice(t, "traces", _TRACES) for t in traces))
    missing = [t for t in traces if t not in data.traces]
    if not traces or missing:
        raise ValueError(f"traces {list(traces)} must be among the data's {list(data.traces)}")
    couplings_at = choice(couplings_at, "couplings_at", ("probe", "atoms"))
    specs = _parse_parameters(device, parameters)
    w = data.frequencies
    batch = np.shape(scattering(device, w[:1]).s21)[:-1]
    if batch:
        raise ValueError(
            f"device must be one parameter set, but its array parameters give a batch of shape "
            f"{batch}; pick one element"
        )
    base = _prepare_device(device, specs)
    vary = _vary_set(vary_background, traces)
    n_obs, n_free = 2 * data.n_points * len(traces), len(specs) + len(vary)
    if n_obs <= n_free:
        raise ValueError(
            f"not enough data: {n_obs} real residuals ({data.n_points} points × {len(traces)} "
            f"trace(s) × re/im) for {n_free} free parameters"
        )
    for t in traces:
        _require_feature(data, t, "fit_device")
    per_trace = _backgrounds_per_trace(background, traces)
    reference = 0.5 * (w[0] + w[-1])
    span = max(w[-1] - w[0], 1e-9 * reference)
    start = scattering(base, w, couplings_at=couplings_at)
    backgrounds = {
        t: (
            per_trace[t].at_reference(reference)
            if per_trace[t] is not None
            else _initial_background(data, t, reference, np.conj(getattr(start, t)))
        )
        for t in traces
    }
    k = len(specs)
    background_names = _background_names(traces)
    names = tuple([s.name for s in specs] + background_names)
    values = np.array(
        [_starting_value(base, s) for s in specs]
        + [getattr(backgrounds[t], f) for t in traces for f in _BACKGROUND_FIELDS]
    )
    free = np.array([True] * k + [n in vary for n in background_names])
    lower = np.array(
        [-np.inf if s.field == "points" else 0.0 for s in specs]
        + [0.0, -np.inf, -np.inf, -np.inf] * len(traces)
    )
    upper = np.array(
        [1.0 if s.field == "right_fraction" else np.inf for s in specs]
        + [np.inf] * len(background_names)
    )
    _apply_overrides(names, values, free, lower, upper, initial, bounds)
    linewidth = max(float(np.max([np.sum(a.rates_per_point) for a in base.atoms])), span / 20)
    metres_per_radian = base.waveguide.phase_velocity / reference
    scale = [
        _parameter_scale(s.field, values[i], linewidth, metres_per_radian)
        for i, s in enumerate(specs)
    ]
    for j in range(len(traces)):
        scale += [0.1 * values[k + 4 * j], 0.1, 0.1 / span, 0.1 / span]
    scale = np.array(scale)

    def model(p: NDArray[np.float64], frequencies: NDArray[np.float64]) -> dict[str, NDArray]:
        trial = _build_device(base, specs, p[..., :k])
        result = scattering(trial, frequencies, couplings_at=couplings_at)
        out = {}
        for j, t in enumerate(traces):
            components = (p[..., k + 4 * j + i] for i in range(4))
            b = _background_values(*components, reference, frequencies)
            out[t] = b * np.conj(getattr(result, t))
        return out

    def fitted_device(p: NDArray[np.float64]) -> Device:
        return _build_device(base, specs, p[:k])

    problem = _Problem(
        kind="device",
        traces=traces,
        names=names,
        values=values,
        free=free,
        lower=lower,
        upper=upper,
        scale=scale,
        model=model,
        device=fitted_device,
        reference_frequency=reference,
    )
    return _least_squares(problem, data, max_evaluations)
