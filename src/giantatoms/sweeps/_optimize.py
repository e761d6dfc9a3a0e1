"""Optimisation on top of sweeps: maximise (or minimise) a metric over bounded parameters.

Every evaluation is a sweep whose points are the candidates (one zipped dimension), so a
population method evaluates its whole population in one batched call and any executor of
:func:`giantatoms.sweep` can spread large populations. Local methods of
:func:`scipy.optimize.minimize` evaluate one candidate per call. Parameters are optimised in
coordinates scaled to [0, 1] by their bounds, so rates in rad/s and powers in dBm are equally
well conditioned. Points that fail (no unique steady state, solver error) count as the worst
possible value, never as an optimum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.optimize as so
from numpy.typing import NDArray

from giantatoms.model.device import Device
from giantatoms.sweeps._evaluate import variables
from giantatoms.sweeps._paths import Parameter, resolve_path
from giantatoms.sweeps._spec import Axis, SweepSpec

__all__ = ["OptimizationResult", "optimize"]

POPULATION_METHODS = ("differential_evolution",)
LOCAL_METHODS = ("nelder-mead", "powell", "l-bfgs-b", "tnc", "slsqp", "trust-constr", "cobyla")
_QUANTITY_OF = {
    "gap": "gap",
    "stabilisation_time": "gap",
    "s21_real": "spectrum",
    "s21_imag": "spectrum",
    "s11_real": "spectrum",
    "s11_imag": "spectrum",
}


@dataclass(frozen=True, eq=False)
class OptimizationResult:
    """Outcome of :func:`optimize`.

    Attributes
    ----------
    x : dict of str to float
        Best parameter values by path, internal units (rad/s, s, dBm, ...).
    x_display : dict of str to (float, str)
        The same in display units, with the unit (``(-131.7, "dBm")``).
    value : float
        The objective at ``x`` (the metric itself, not negated).
    success : bool
        The optimiser's own convergence flag and a finite ``value``.
    message : str
    method : str
    evaluations : int
        Points evaluated.
    batches : int
        Batched calls (sweeps) made.
    history : ndarray, shape (batches,)
        Best value found after each batch.
    dataset : xarray.Dataset
        Every variable of the sweep at the optimum (dimension ``candidate`` of length 1).
    scipy_result : scipy.optimize.OptimizeResult
    """

    x: dict[str, float]
    x_display: dict[str, tuple[float, str]]
    value: float
    success: bool
    message: str
    method: str
    evaluations: int
    batches: int
    history: NDArray[np.float64]
    dataset: Any
    scipy_result: Any = field(repr=False)

    def __repr__(self) -> str:
        shown = ", ".join(f"{p} = {v:.6g} {u}" for p, (v, u) in self.x_display.items())
        return (
            f"OptimizationResult(value={self.value:.6g}, {shown}, success={self.success}, "
            f"method={self.method!r}, evaluations={self.evaluations}, batches={self.batches})"
        )


def _quantities_for(objective: str) -> list[str]:
    if objective.startswith("protocol_"):
        return ["protocol"]
    return [_QUANTITY_OF.get(objective, "steady")]


def optimize(
    device: Device | str,
    parameters: Mapping[str, tuple[Any, Any]],
    objective: str = "bell_fidelity",
    *,
    maximize: bool = True,
    fixed: Mapping[str, Any] | None = None,
    time: str | float | None = None,
    method: str = "differential_evolution",
    x0: Mapping[str, Any] | None = None,
    popsize: int = 15,
    maxiter: int = 100,
    tol: float = 1e-6,
    seed: int | None = None,
    polish: bool = True,
    executor: Any = "serial",
    workers: int | None = None,
    **options: Any,
) -> OptimizationResult:
    """Maximise (or minimise) a sweep metric over bounded parameters.

    Parameters
    ----------
    device : Device or str
        Chip or preset name.
    parameters : mapping path → (low, high)
        Parameters to optimise with their bounds (numbers in internal units or unit strings,
        e.g. ``{"drive.power_dbm": ("-140dBm", "-115dBm"), "drive.detuning": ("0.2MHz",
        "5MHz")}``).
    objective : str
        A scalar variable of :func:`giantatoms.sweep`'s dataset: ``"bell_fidelity"``,
        ``"concurrence"``, ``"purity"``, ``"gap"``, ``"stabilisation_time"``,
        ``"protocol_bell_fidelity_optimized"`` (with ``time``), ...
    maximize : bool
        Maximise (default) or minimise.
    fixed : mapping path → value, optional
        Held values, as in :func:`giantatoms.sweep`.
    time : str or float, optional
        Save instant of a ``protocol_*`` objective (default ``"end"``).
    method : str
        ``"differential_evolution"`` (population method, one batched call per generation) or a
        :func:`scipy.optimize.minimize` method (``"Nelder-Mead"``, ``"Powell"``, ``"L-BFGS-B"``,
        ...; one point per call).
    x0 : mapping path → value, optional
        Start of a local method (default: the centre of the bounds); ignored by population
        methods.
    popsize, maxiter, tol :
        Population size multiplier, iterations and relative tolerance (as in SciPy).
    seed : int, optional
        Seed of the population method.
    polish : bool
        Refine the population method's best point with Nelder–Mead (bounded).
    executor, workers :
        Where the batched evaluations run (as in :func:`giantatoms.sweep`).
    **options :
        Further sweep options (``operating_point``, ``pair``, ``target``, ``port``,
        ``after_drive``, ``ramp_shape``, ``rtol``, ``atol``, ``noise_samples``, ``seed`` of the
        noise is ``noise_seed`` here, ...).

    Returns
    -------
    OptimizationResult

    Raises
    ------
    ValueError
        Unknown path, empty or inverted bounds, unknown objective or method — before any
        evaluation.
    """
    if isinstance(device, str):
        from giantatoms.model import presets

        device = presets.load(device)
    if not isinstance(parameters, Mapping) or not parameters:
        raise ValueError("parameters must map at least one path to its (low, high) bounds")
    params: list[Parameter] = []
    lows, highs = [], []
    for path, bounds in parameters.items():
        p = resolve_path(device, path)
        if not (isinstance(bounds, tuple | list) and len(bounds) == 2):
            raise ValueError(f"{path}: bounds must be (low, high), got {bounds!r}")
        low, high = p.parse(bounds[0]), p.parse(bounds[1])
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise ValueError(f"{path}: bounds must be finite with low < high, got {bounds!r}")
        params.append(p)
        lows.append(low)
        highs.append(high)
    lo, hi = np.array(lows), np.array(highs)
    method_key = method.lower() if isinstance(method, str) else method
    if method_key not in POPULATION_METHODS + LOCAL_METHODS:
        raise ValueError(
            f"method must be one of {list(POPULATION_METHODS + LOCAL_METHODS)}, got {method!r}"
        )
    noise_seed = options.pop("noise_seed", None)
    quantities = _quantities_for(objective)
    sweep_options = dict(options, quantities=quantities, fixed=fixed, seed=noise_seed)
    if time is not None:
        sweep_options["times"] = (time,)
    elif quantities == ["protocol"]:
        sweep_options["times"] = ("end",)
    # Validate the whole declaration (and the objective) on the centre before any work.
    centre = 0.5 * (lo + hi)
    template = _spec(device, params, centre[:, None], sweep_options)
    sweep_options["correlation_frequency"] = template.correlation_frequency
    names = {v.name: v for v in variables(template)}
    if objective not in names or objective in ("failed", "error", "converged"):
        scalar = [n for n, v in names.items() if v.dims in ((), ("time",)) and v.dtype == "f8"]
        raise ValueError(f"objective must be one of {scalar}, got {objective!r}")
    if names[objective].dims not in ((), ("time",)):
        raise ValueError(f"objective {objective!r} is not a scalar per point")
    sign = -1.0 if maximize else 1.0
    state: dict[str, Any] = {"evaluations": 0, "batches": 0, "best": np.inf, "history": []}
    best_point: dict[str, Any] = {"u": None}

    def evaluate(u: NDArray[np.float64]) -> NDArray[np.float64]:
        """Objective (to minimise) for candidates u of shape (k, S) in [0, 1] coordinates."""
        u = np.clip(np.atleast_2d(np.asarray(u, dtype=float)), 0.0, 1.0)
        x = lo[:, None] + u * (hi - lo)[:, None]
        ds = _run(device, params, x, sweep_options, executor, workers)
        values = np.asarray(ds[objective].values, dtype=float).reshape(x.shape[1], -1)[:, 0]
        failed = np.asarray(ds["failed"].values).reshape(-1)
        cost = sign * values
        cost[failed | ~np.isfinite(cost)] = np.inf
        state["evaluations"] += x.shape[1]
        state["batches"] += 1
        k = int(np.argmin(cost))
        if cost[k] < state["best"]:
            state["best"] = float(cost[k])
            best_point["u"] = u[:, k].copy()
        state["history"].append(sign * state["best"])
        return cost

    n = len(params)
    if method_key == "differential_evolution":
        result = so.differential_evolution(
            evaluate,
            bounds=[(0.0, 1.0)] * n,
            popsize=popsize,
            maxiter=maxiter,
            tol=tol,
            seed=seed,
            polish=False,
            vectorized=True,
            updating="deferred",
        )
        if polish and best_point["u"] is not None:
            local = so.minimize(
                lambda v: float(evaluate(v[:, None])[0]),
                best_point["u"],
                method="Nelder-Mead",
                bounds=[(0.0, 1.0)] * n,
                options={"xatol": 1e-7, "fatol": tol * 1e-3, "maxfev": 200 * n},
            )
            result.message = f"{result.message}; polished: {local.message}"
    else:
        start = centre.copy()
        for path, value in (x0 or {}).items():
            p = resolve_path(device, path)
            if p.path not in [q.path for q in params]:
                raise ValueError(f"x0 names {path!r}, which is not among the parameters")
            start[[q.path for q in params].index(p.path)] = p.parse(value)
        u0 = (start - lo) / (hi - lo)
        result = so.minimize(
            lambda v: float(evaluate(np.asarray(v)[:, None])[0]),
            u0,
            method=method,
            bounds=[(0.0, 1.0)] * n,
            tol=tol,
            options={"maxiter": maxiter},
        )
    if best_point["u"] is None:
        raise RuntimeError("every evaluated point failed; see the sweep's error messages")
    x_best = lo + best_point["u"] * (hi - lo)
    dataset = _run(device, params, x_best[:, None], sweep_options, "serial", None)
    value = float(np.asarray(dataset[objective].values, dtype=float).reshape(-1)[0])
    return OptimizationResult(
        x={p.path: float(v) for p, v in zip(params, x_best, strict=True)},
        x_display={
            p.path: (float(p.display(np.asarray(v))), p.unit)
            for p, v in zip(params, x_best, strict=True)
        },
        value=value,
        success=bool(getattr(result, "success", True)) and np.isfinite(value),
        message=str(result.message),
        method=method,
        evaluations=state["evaluations"],
        batches=state["batches"],
        history=np.asarray(state["history"]),
        dataset=dataset,
        scipy_result=result,
    )


def _spec(
    device: Device, params: list[Parameter], x: NDArray, options: dict[str, Any]
) -> SweepSpec:
    axes = [Axis(p.path, list(x[i]), dim="candidate") for i, p in enumerate(params)]
    return SweepSpec.create(device, axes, **options)


def _run(
    device: Device,
    params: list[Parameter],
    x: NDArray,
    options: dict[str, Any],
    executor: Any,
    workers: int | None,
) -> Any:
    from giantatoms.sweeps import run_sweep

    spec = _spec(device, params, x, options)
    return run_sweep(spec, executor=executor, workers=workers, progress=False)
