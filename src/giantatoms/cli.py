"""The ``giantatoms`` command line.

Subcommands: ``reproduce`` (the experiment's analysis as far as the package implements it),
``sweep`` (a parameter sweep declared in a TOML file, see docs/sweeps.md), ``presets``
(list / show / export the packaged devices), ``couplings`` (a device's rates against
frequency), ``steady`` (steady state and metrics at an operating point), ``protocol`` (the
driven-dissipative protocol declared in a TOML file) and ``spectrum`` (simulate or fit
waveguide spectroscopy). Quantities are given with their units (``4.6GHz``, ``2 MHz``,
``30us``, ``-130dBm``); human output uses GHz for frequencies, MHz for rates (γ/2π), µs for
times and dBm; ``--json`` prints only machine-readable JSON with the unit in each key name.

Errors are one line on stderr, ``giantatoms: error: COMMAND: message``, and nothing on stdout
beyond what was printed before the failure. Exit status: 0 success; 2 bad input (a usage
error, a value the package rejects, a missing or unreadable input file, an input path that is
a directory or a file where the other is expected); 1 any other failure (out of memory, an
I/O or permission error, a failure inside a solver or a third-party loader, a bug); 130
interrupted (Ctrl-C). Warnings issued before a failure are folded into that line.
``--debug`` (before or after the command) or the environment variable ``GIANTATOMS_DEBUG=1``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main"]


class _Progress:
    """Step progress on stderr, silent when stderr is not a terminal or with --quiet."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.done = total, 0
        self.enabled = not quiet and sys.stderr.isatty()
        self.start = time.perf_counter()

    def step(self, label: str) -> None:
        self.done += 1
        if self.enabled:
            elapsed = time.perf_counter() - self.start
            sys.stderr.write(f"\r[{self.done}/{self.total}] {label:<60s} {elapsed:6.1f} s")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _load_device(args: argparse.Namespace) -> Any:
    from giantatoms.model import presets
    from giantatoms.model.device import Device

    if args.device is not None:
        return Device.from_toml(Path(args.device))
    return presets.load(args.preset)


def _reproduce(args: argparse.Namespace) -> int:
    from giantatoms.experiments.reproduce import reproduce

    device = _load_device(args)
    figures = not args.no_figures
    progress = _Progress(total=6 if figures else 5, quiet=args.quiet or args.json)
    start = time.perf_counter()
    try:
        result = reproduce(
            device,
            pair=tuple(args.pair) if args.pair else (0, 1),
            fast=args.fast,
            figures=figures,
            assumptions=_assumption_overrides(args.set),
            progress=progress.step,
        )
    finally:
        progress.close()
    written = result.write(args.out)
    elapsed = time.perf_counter() - start
    if args.json:
        payload = {"table": result.table, **result.summary, "timings_s": result.timings}
        payload["written"] = [str(p) for p in written]
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    rows = result.table
    width = max(len(r["quantity"]) for r in rows)
    sim = max(16, *(len(r["simulation"]) for r in rows))
    print(f"{'quantity':<{width}} | {'paper':>12} | {'this simulation':>{sim}} | note")
    print("-" * (width + sim + 40))
    for r in rows:
        print(
            f"{r['quantity']:<{width}} | {r['paper']:>12} | {r['simulation']:>{sim}} | {r['note']}"
        )
    print("\n[R]: depends on reconstructed parameters (see the preset's assumptions and ")
    print("giantatoms.experiments.reproduce.ASSUMPTIONS).")
    print(f"\nwritten to {args.out}: " + ", ".join(p.name for p in written))
    print(f"total {elapsed:.1f} s")
    return 0


def _assumption_overrides(items: Sequence[str] | None) -> dict[str, float]:
    """``KEY=VALUE`` strings of ``reproduce --set`` → a mapping of numbers."""
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set takes KEY=VALUE (e.g. readout_fidelity_e=0.9), got {item!r}")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--set {key.strip()}: {value!r} is not a number") from None
    return out


def _readout_model(args: argparse.Namespace) -> Any:
    """The readout model of the ``tomography`` command, or None."""
    from giantatoms.measure.tomography import ReadoutModel

    if args.readout and args.confusion:
        raise ValueError("give either --readout or --confusion, not both")
    if args.confusion:
        path = Path(args.confusion)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # loadtxt's "input contained no data"
                matrix = np.loadtxt(path, delimiter=",", comments="#", ndmin=2)
        except UnicodeDecodeError as exc:
            raise _not_text(path, "confusion-matrix CSV", exc) from None
        except ValueError as exc:
            raise ValueError(f"--confusion {path}: {_one_line(exc)}") from None
        if matrix.size == 0:
            raise ValueError(f"--confusion {path}: no numbers (expected a 4×4 CSV matrix)")
        return ReadoutModel.from_confusion(matrix, rows=args.confusion_rows)
    if args.readout:
        try:
            values = [float(v) for v in args.readout.split(",")]
        except ValueError:
            raise ValueError(
                f"--readout takes 'Fg,Fe' or 'FgA,FeA,FgB,FeB' (probabilities), got "
                f"{args.readout!r}"
            ) from None
        if len(values) == 2:
            return ReadoutModel.from_fidelities(values[0], values[1])
        if len(values) == 4:
            return ReadoutModel.from_fidelities(values[0::2], values[1::2])
        raise ValueError(f"--readout takes 2 or 4 numbers, got {len(values)}")
    return None


def _tomography(args: argparse.Namespace) -> int:
    from giantatoms.measure.tomography import (
        OUTCOMES,
        TomographyData,
        bell_fidelity_with_errors,
    )

    readout = _readout_model(args)
    try:
        data = TomographyData.from_csv(args.file, readout=readout)
    except UnicodeDecodeError as exc:
        raise _not_text(args.file, "counts CSV", exc) from None
    phases = None
    if args.phases:
        try:
            phases = [float(v) for v in args.phases.split(",")]
        except ValueError:
            raise ValueError(f"--phases takes 'phiA,phiB' in rad, got {args.phases!r}") from None
        if len(phases) != 2:
            raise ValueError(f"--phases takes two numbers (rad), got {len(phases)}")
    estimate = bell_fidelity_with_errors(
        data,
        state=args.state,
        method=args.method,
        mitigate=not args.no_mitigation,
        bootstrap=args.bootstrap,
        seed=args.seed,
        confidence=args.confidence,
        optimize_phases=args.optimize_phases,
        local_phases=phases,
    )
    result = estimate.result
    if args.out:
        import xarray as xr

        labels = list(OUTCOMES)
        xr.Dataset(
            {
                "rho_real": (("row", "column"), result.rho.real),
                "rho_imag": (("row", "column"), result.rho.imag),
                "bootstrap_fidelity": (("sample",), np.asarray(estimate.samples)),
            },
            coords={"row": labels, "column": labels},
            attrs={
                "fidelity": estimate.value,
                "std": estimate.std,
                "state": estimate.state,
                "method": result.method,
                "source": str(args.file),
            },
        ).to_netcdf(args.out)
    summary = {
        "file": str(args.file),
        "settings": len(data.settings),
        "shots_per_setting": np.asarray(data.shots).tolist(),
        "method": result.method,
        "mitigated": bool(result.mitigated),
        "state": estimate.state,
        "fidelity": estimate.value,
        "std": estimate.std,
        "interval": [float(v) for v in estimate.interval],
        "confidence": args.confidence,
        "bootstrap": args.bootstrap,
        "seed": estimate.seed,
        "rho_real": np.round(result.rho.real, 12).tolist(),
        "rho_imag": np.round(result.rho.imag, 12).tolist(),
        "min_eigenvalue": float(result.min_eigenvalue),
        "converged": bool(result.converged),
        "iterations": int(result.iterations),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(
        f"{len(data.settings)} settings, shots per setting {summary['shots_per_setting']}; "
        f"{result.method}, readout {'mitigated' if result.mitigated else 'not mitigated'}"
    )
    print("Re ρ (gg, ge, eg, ee):")
    for row in result.rho.real:
        print("  " + " ".join(f"{v:+.4f}" for v in row))
    print("Im ρ:")
    for row in result.rho.imag:
        print("  " + " ".join(f"{v:+.4f}" for v in row))
    low, high = estimate.interval
    print(
        f"Bell fidelity to {estimate.state}: {estimate.format()} "
        f"({100 * args.confidence:.0f} % interval {low:.4f}–{high:.4f}, "
        f"{args.bootstrap} parametric bootstrap samples, seed {estimate.seed})"
    )
    print(
        f"min eigenvalue {result.min_eigenvalue:.2e}, converged {bool(result.converged)}, "
        f"{int(result.iterations)} iterations"
    )
    if args.out:
        print(f"written: {args.out}")
    return 0


def _presets(args: argparse.Namespace) -> int:
    from giantatoms.model import presets

    if args.action == "list":
        if args.json:
            listing = [
                {"name": name, "description": presets.describe(name).splitlines()[0]}
                for name in presets.names()
            ]
            print(json.dumps(listing, indent=2, ensure_ascii=False))
            return 0
        for name in presets.names():
            print(f"{name:<28s} {presets.describe(name).splitlines()[0]}")
    elif args.action == "show":
        if args.json:
            device = presets.load(args.name)
            print(
                json.dumps(
                    {
                        "name": device.name,
                        "atoms": list(device.atom_names),
                        "assumptions": list(device.assumptions),
                        "toml": presets.text(args.name),
                    },
                    indent=2,
                    ensure_ascii=False,
                )
            )
            return 0
        print(presets.text(args.name), end="")
    else:
        target = Path(args.to or f"{args.name}.toml")
        target.write_text(presets.text(args.name))
        print(json.dumps({"written": str(target)}) if args.json else f"written: {target}")
    return 0


_HEADLINE = ("bell_fidelity", "protocol_bell_fidelity_optimized", "concurrence")
_ALSO = ("concurrence", "purity", "stabilisation_time", "protocol_bell_fidelity_optimized")


def _best(ds: Any) -> dict[str, Any] | None:
    """The point of highest fidelity (last save instant for protocols) and its other metrics."""
    name = next((n for n in _HEADLINE if n in ds), None)
    if name is None:
        return None

    def last(var: Any) -> Any:
        return var.isel(time=-1) if "time" in var.dims else var

    values = last(ds[name]).where(~ds["failed"])
    if not np.isfinite(values.values).any():
        return None
    where = np.unravel_index(int(np.nanargmax(values.values)), values.shape)
    index = dict(zip(values.dims, where, strict=True))
    at = {
        dim: {"value": float(ds[dim].values[i]), "units": ds[dim].attrs.get("units", "")}
        if dim in ds.coords
        else {"value": int(i), "units": "index"}
        for dim, i in index.items()
    }
    metrics = {
        n: {"value": float(last(ds[n]).isel(index).values), "units": ds[n].attrs.get("units", "")}
        for n in (name, *_ALSO)
        if n in ds
    }
    return {"variable": name, "at": at, "metrics": metrics}


def _with_unit(value: float, units: str) -> str:
    return f"{value:.6g}" if units in ("", "1") else f"{value:.6g} {units}"


def _sweep(args: argparse.Namespace) -> int:
    from giantatoms.sweeps import SweepSpec, run_sweep

    try:
        spec, run = SweepSpec.from_toml(args.file)
    except UnicodeDecodeError as exc:
        raise _not_text(args.file, "sweep TOML", exc) from None
    allowed = {"executor", "workers", "store", "retries", "overwrite"}
    unknown = sorted(set(run) - allowed)
    if unknown:
        raise ValueError(
            f"{args.file}: unknown keys in [run]: {unknown} (allowed: {sorted(allowed)})"
        )
    executor = args.executor or run.get("executor", "serial")
    workers = args.workers if args.workers is not None else run.get("workers")
    store = args.store or run.get("store")
    if store is None:
        store = Path(args.file).with_suffix(".zarr").name
    elif args.store is None and not Path(store).is_absolute():
        store = str(Path(args.file).parent / store)
    start = time.perf_counter()
    ds = run_sweep(
        spec,
        executor=executor,
        workers=workers,
        store=store,
        overwrite=args.overwrite or bool(run.get("overwrite", False)),
        retries=int(run.get("retries", 2)),
        progress=False if (args.quiet or args.json) else None,
    )
    elapsed = time.perf_counter() - start
    failed = int(ds["failed"].sum())
    summary = {
        "file": str(args.file),
        "store": str(store),
        "dims": {d: int(n) for d, n in zip(spec.dims, spec.shape, strict=True)},
        "points": spec.n_points,
        "failed": failed,
        "quantities": list(spec.quantities),
        "seconds": round(elapsed, 3),
        "best": _best(ds),
    }
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return 0
    shape = " × ".join(f"{d} {n}" for d, n in summary["dims"].items())
    print(f"sweep: {spec.n_points} points ({shape}), {failed} failed, {elapsed:.1f} s")
    best = summary["best"]
    if best is not None:
        at = ", ".join(f"{d} = {_with_unit(c['value'], c['units'])}" for d, c in best["at"].items())
        print(f"  best {best['variable']} at {at}:")
        for n, m in best["metrics"].items():
            print(f"    {n} = {_with_unit(m['value'], m['units'])}")
    if failed:
        errors = sorted({str(e) for e in np.asarray(ds["error"].values).ravel() if e})
        print(f"  failures: {'; '.join(errors[:3])}{' …' if len(errors) > 3 else ''}")
    print(f"written: {store}")
    return 0


# --------------------------------------------------------------------------------------------
# Shared helpers of the physics subcommands (couplings, steady, protocol, spectrum)
# --------------------------------------------------------------------------------------------


class _UsageError(Exception):
    """A command-line usage error, reported by :func:`main` as one line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and whose values may be negative quantities.

    argparse takes any argument that starts with ``-`` and is not a plain negative number for an
    option, so ``--power -130dBm`` would fail with "expected one argument"; negative numbers
    followed by a unit are accepted as values here.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(
            r"^-(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?:\s*[A-Za-zµμ/]+)?$|^-inf(?:\s*[A-Za-z]+)?$"
        )

    def error(self, message: str) -> Any:  # type: ignore[override]
        """Raise instead of printing the usage: :func:`main` prints one line and returns 2."""
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _parse_quantity(text: str | float, kind: str) -> float:
    """``parse_quantity`` whose error says so when the text is a quantity of another kind."""
    from giantatoms.units import parse_quantity

    try:
        return parse_quantity(text, kind)
    except ValueError as exc:
        for other in ("frequency", "time", "power", "length"):
            if other == kind:
                continue
            try:
                parse_quantity(text, other)
            except ValueError:
                continue
            raise ValueError(f"{exc} ({text!r} is a {other}, a {kind} is expected)") from None
        raise


def _quantity(kind: str) -> Any:
    """An argparse ``type=`` reading a unit string of ``kind`` into internal units."""

    def parse(text: str) -> float:
        try:
            return _parse_quantity(text, kind)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = kind  # argparse names the type in its messages
    return parse


def _atom_frequency(text: str) -> tuple[str, float]:
    """``NAME=4.6GHz`` → (name, rad/s), an argparse ``type=``."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(
            f"expected NAME=FREQUENCY such as 'A=4.60GHz', got {text!r}"
        )
    return name.strip(), _quantity("frequency")(value)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"need at least 2 points, got {value}")
    return value


def _add_device_options(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    source = parser.add_mutually_exclusive_group()
    if default is None:
        source.add_argument("--preset", help="packaged device name (overrides the file's device)")
        source.add_argument("--device", help="device TOML file (overrides the file's device)")
        return
    source.add_argument(
        "--preset",
        default=default,
        help=f"packaged device name (default: {default}; see 'giantatoms presets')",
    )
    source.add_argument("--device", help="device TOML file")


def _paragraphs(*texts: str) -> str:
    """Help text of several paragraphs, each filled to 88 columns (raw help formatter)."""
    import textwrap

    return "\n\n".join(textwrap.fill(" ".join(t.split()), 88) for t in texts)


def _add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print machine-readable JSON (lab units, named in the keys) and nothing else",
    )


def _atom_index(device: Any, name: str | int) -> int:
    """Index of an atom given by name, or by position when no atom has that name."""
    if isinstance(name, str) and name not in device.atom_names and re.fullmatch(r"-?\d+", name):
        return device.index(int(name))
    return device.index(name)


def _pair_indices(device: Any, pair: Sequence[str | int] | None) -> tuple[int, int] | None:
    """The pair as indices (default the first two atoms; None for a one-atom device)."""
    if pair is None:
        return (0, 1) if device.n_atoms >= 2 else None
    if len(pair) != 2:
        raise ValueError(f"pair must name two atoms, got {list(pair)}")
    i, j = (_atom_index(device, p) for p in pair)
    if i == j:
        raise ValueError(f"pair must name two different atoms, got {list(pair)}")
    return i, j


def _needs_pair(device: Any, pair: tuple[int, int] | None) -> tuple[int, int]:
    if pair is None:
        raise ValueError(
            f"device {device.name or '(unnamed)'!r} has one atom; this needs a pair of atoms"
        )
    return pair


def _frequencies_with(device: Any, overrides: Sequence[tuple[str, float]] | None) -> Any:
    """The device's bare frequencies (rad/s, one per atom) with ``NAME=FREQ`` overrides."""
    freqs = np.array(device.frequencies, dtype=float)
    if freqs.ndim != 1:
        raise ValueError("the device's atom frequencies must be single values, not arrays")
    for name, value in overrides or ():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"atom frequency of {name!r} must be > 0 Hz")
        freqs[_atom_index(device, name)] = value
    return freqs


def _device_label(device: Any) -> str:
    return device.name or "device"


def _operating_point(
    device: Any,
    detuning: float,
    pair: tuple[int, int],
    band: tuple[float, float] | None = None,
) -> Any:
    """``entangling_operating_point`` with a lab-unit message when there is none in the band.

    The perfect-correlation frequency is the one in ``band`` (default ±5 % about the pair's
    mean bare frequency, as the library's) nearest that mean frequency.
    """
    from giantatoms.model.couplings import (
        entangling_operating_point,
        perfect_correlation_frequencies,
    )
    from giantatoms.units import GHz

    i, j = pair
    centre = 0.5 * float(device.atoms[i].frequency + device.atoms[j].frequency)
    band = band if band is not None else (0.95 * centre, 1.05 * centre)
    found = perfect_correlation_frequencies(device, pair, band)
    if found.size == 0:
        names = device.atom_names
        raise ValueError(
            f"atoms {names[i]!r} and {names[j]!r} have no perfect-correlation frequency in "
            f"{band[0] / GHz:.6g}–{band[1] / GHz:.6g} GHz, so no entangling operating point"
        )
    w0 = float(found[np.argmin(np.abs(found - centre))])
    return entangling_operating_point(device, detuning, pair=pair, correlation_frequency=w0)


def _clean(value: Any) -> Any:
    """JSON-ready copy: numpy scalars and arrays to Python, NaN and ±inf to None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _print_json(payload: dict[str, Any]) -> None:
    print(json.dumps(_clean(payload), indent=2, ensure_ascii=False, allow_nan=False))


def _per_atom(names: Sequence[str], values: Any, scale: float) -> dict[str, float]:
    return {n: float(v) / scale for n, v in zip(names, np.asarray(values), strict=True)}


def _ghz_list(values: Any) -> str:
    from giantatoms.units import GHz

    values = np.atleast_1d(np.asarray(values, dtype=float))
    if values.size == 0:
        return "none"
    return ", ".join(f"{v / GHz:.6f}" for v in values) + " GHz"


# --------------------------------------------------------------------------------------------
# couplings
# --------------------------------------------------------------------------------------------


def _couplings(args: argparse.Namespace) -> int:
    from giantatoms.model.couplings import (
        decoherence_free_frequencies,
        perfect_correlation_frequencies,
    )
    from giantatoms.units import GHz, MHz

    device = _load_device(args)
    pair = _pair_indices(device, args.pair)
    shown = pair if pair is not None else (0,)
    freqs = _frequencies_with(device, None)
    centre = float(np.mean(freqs[list(shown)]))
    lo = args.start if args.start is not None else 0.9 * centre
    hi = args.stop if args.stop is not None else 1.1 * centre
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise ValueError(
            f"the band must satisfy 0 < --from < --to, got {lo / GHz:.6g}–{hi / GHz:.6g} GHz"
        )
    grid = np.linspace(lo, hi, args.points)
    c = device.couplings(frequency=grid)
    names = device.atom_names
    rates, lamb = c.decay_rates, c.lamb_shift

    payload: dict[str, Any] = {
        "device": _device_label(device),
        "atoms": list(names),
        "pair": [names[k] for k in pair] if pair is not None else None,
        "frequency_ghz": grid / GHz,
        "gamma_mhz": {n: rates[:, k] / MHz for k, n in enumerate(names)},
        "lamb_shift_mhz": {n: lamb[:, k] / MHz for k, n in enumerate(names)},
    }
    if pair is not None:
        i, j = pair
        g_ab, j_ab = c.decay_matrix[:, i, j], c.exchange[:, i, j]
        payload.update(
            {
                "gamma_a_mhz": rates[:, i] / MHz,
                "gamma_b_mhz": rates[:, j] / MHz,
                "gamma_ab_re_mhz": g_ab.real / MHz,
                "gamma_ab_im_mhz": g_ab.imag / MHz,
                "gamma_ab_abs_mhz": np.abs(g_ab) / MHz,
                "gamma_ab_phase_deg": np.degrees(np.angle(g_ab)),
                "j_re_mhz": j_ab.real / MHz,
                "j_im_mhz": j_ab.imag / MHz,
                "lamb_shift_a_mhz": lamb[:, i] / MHz,
                "lamb_shift_b_mhz": lamb[:, j] / MHz,
            }
        )
    band = (lo, hi)
    df = {names[k]: decoherence_free_frequencies(device, k, band) / GHz for k in range(len(names))}
    payload["df_frequencies_ghz"] = df
    payload["perfect_correlation_ghz"] = None
    payload["operating_point"] = op_payload = None
    op_error = None
    if pair is not None:
        payload["perfect_correlation_ghz"] = (
            perfect_correlation_frequencies(device, pair, band) / GHz
        )
        try:
            op = _operating_point(device, args.detuning, pair, band)
        except ValueError as exc:
            op_error = str(exc)
        else:
            sel = [names[k] for k in pair]
            op_payload = {
                "detuning_mhz": float(op.detuning) / MHz,
                "correlation_frequency_ghz": op.correlation_frequency / GHz,
                "drive_frequency_ghz": float(op.drive_frequency) / GHz,
                "atom_frequencies_ghz": dict(
                    zip(sel, (float(op.frequencies[k]) / GHz for k in pair), strict=True)
                ),
                "dressed_frequencies_ghz": dict(
                    zip(sel, (float(op.dressed_frequencies[k]) / GHz for k in pair), strict=True)
                ),
                "lamb_shift_mhz": dict(
                    zip(sel, (float(op.lamb_shift[k]) / MHz for k in pair), strict=True)
                ),
                "correlation": float(op.correlation),
                "theta_deg": float(np.degrees(op.theta)),
                "dark_state": op.dark_state,
            }
        payload["operating_point"] = op_payload
    if args.json:
        _print_json(payload)
        return 0

    print(
        f"{_device_label(device)}: waveguide couplings with every atom at f "
        "(rates and shifts as rate/2π)"
    )
    if pair is None:
        a = names[0]
        header = ["f (GHz)", f"Γ_{a} (MHz)", f"δω_{a} (MHz)"]
        columns = [grid / GHz, rates[:, 0] / MHz, lamb[:, 0] / MHz]
    else:
        a, b = (names[k] for k in pair)
        chiral = np.max(np.abs(payload["j_im_mhz"]), initial=0.0) > 1e-9 * max(
            1e-12, np.max(np.abs(payload["gamma_a_mhz"]), initial=0.0)
        )
        header = [
            "f (GHz)",
            f"Γ_{a} (MHz)",
            f"Γ_{b} (MHz)",
            f"|Γ_{a}{b}| (MHz)",
            f"arg Γ_{a}{b} (°)",
            "Re J (MHz)" if chiral else "J (MHz)",
            *(["Im J (MHz)"] if chiral else []),
            f"δω_{a} (MHz)",
            f"δω_{b} (MHz)",
        ]
        columns = [
            grid / GHz,
            payload["gamma_a_mhz"],
            payload["gamma_b_mhz"],
            payload["gamma_ab_abs_mhz"],
            payload["gamma_ab_phase_deg"],
            payload["j_re_mhz"],
            *([payload["j_im_mhz"]] if chiral else []),
            payload["lamb_shift_a_mhz"],
            payload["lamb_shift_b_mhz"],
        ]
    widths = [max(len(h), 11) for h in header]
    print("  ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    for row in range(grid.size):
        cells = [f"{columns[0][row]:.6f}"] + [f"{col[row]:.4f}" for col in columns[1:]]
        print("  ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True)))
    print(f"\nband {lo / GHz:.6g}–{hi / GHz:.6g} GHz:")
    if pair is not None:
        a, b = (names[k] for k in pair)
        found = _ghz_list(payload["perfect_correlation_ghz"] * GHz)
        print(f"  perfect correlation ({a}, {b}): {found}")
    for name, values in df.items():
        print(f"  decoherence-free {name}: {_ghz_list(values * GHz)}")
    if pair is not None:
        if op_payload is None:
            print(f"  entangling point: none ({op_error})")
        else:
            a, b = (names[k] for k in pair)
            atoms = op_payload["atom_frequencies_ghz"]
            dressed = op_payload["dressed_frequencies_ghz"]
            print(
                f"  entangling point (δ/2π = {op_payload['detuning_mhz']:.6g} MHz), nearest the "
                f"pair's mean frequency: f₀ = {op_payload['correlation_frequency_ghz']:.6f} GHz, "
                f"drive {op_payload['drive_frequency_ghz']:.6f} GHz"
            )
            print(
                f"    {a}: {atoms[a]:.6f} GHz (Lamb-shifted {dressed[a]:.6f} GHz), "
                f"{b}: {atoms[b]:.6f} GHz (Lamb-shifted {dressed[b]:.6f} GHz)"
            )
            print(
                f"    correlation {op_payload['correlation']:.6f}, dark state "
                f"{op_payload['dark_state']}"
            )
    return 0


# --------------------------------------------------------------------------------------------
# steady
# --------------------------------------------------------------------------------------------

_TARGETS = ("auto", "psi-", "psi+", "phi+", "phi-")


def _steady(args: argparse.Namespace) -> int:
    from giantatoms.measure.metrics import (
        bell_fidelity,
        concurrence,
        excited_population,
        populations,
        purity,
    )
    from giantatoms.model.device import Drive
    from giantatoms.model.lindblad import master_equation
    from giantatoms.solvers.gap import liouvillian_gap
    from giantatoms.solvers.steady_state import steady_state
    from giantatoms.units import GHz, MHz, us

    device = _load_device(args)
    i, j = _needs_pair(device, _pair_indices(device, args.pair))
    names = device.atom_names
    if args.drive_frequency is None:
        if args.detuning is None:
            raise ValueError(
                "give --detuning (the entangling operating point) or --drive-frequency "
                "(the device's own or --atom-frequency frequencies)"
            )
        if args.atom_frequency:
            raise ValueError(
                "--atom-frequency needs --drive-frequency (at the entangling point the pair's "
                "frequencies follow from --detuning)"
            )
        try:
            op = _operating_point(device, args.detuning, (i, j))
        except ValueError as exc:
            raise ValueError(
                f"{exc}; set the frequencies with --drive-frequency and --atom-frequency"
            ) from None
        frequencies = np.asarray(op.frequencies, dtype=float)
        drive_frequency = float(op.drive_frequency) + args.offset
        theta = float(op.theta)
        mode = "entangling"
    else:
        if args.detuning is not None:
            raise ValueError(
                "--detuning places the pair at the entangling point; with --drive-frequency set "
                "the atoms with --atom-frequency instead"
            )
        frequencies = _frequencies_with(device, args.atom_frequency)
        drive_frequency = args.drive_frequency + args.offset
        c = device.couplings(frequencies=frequencies)
        theta = float(np.angle(c.decay_matrix[i, j]))
        mode = "given"
    if not drive_frequency > 0:
        raise ValueError("the drive frequency (with --offset) must be > 0 Hz")
    target = args.target
    if target == "auto":
        target = "psi-" if np.cos(theta) > 0 else "psi+"
    drive = Drive(frequency=drive_frequency, power_dbm=args.power, port=args.port)
    me = master_equation(device, drive, frequencies=frequencies)
    ss = steady_state(me, on_failure="flag")
    if not bool(ss.converged):
        if not bool(ss.unique):
            why = (
                f"no unique steady state (condition estimate {float(ss.condition_estimate):.2e}: "
                "two or more steady states, e.g. a dark state the drive cannot reach or leave)"
            )
        else:
            why = (
                f"the steady state did not converge (relative residual "
                f"{float(ss.relative_residual):.2e})"
            )
        raise ValueError(
            f"{why} at drive {drive_frequency / GHz:.6f} GHz, {args.power:g} dBm; change the "
            "detuning, the drive frequency or the device (e.g. add intrinsic loss)"
        )
    rho = ss.rho
    dims = device.dims
    gap = liouvillian_gap(me)
    rate = float(gap.gap)
    lamb = np.asarray(me.info["lamb_shift"], dtype=float)
    dressed = frequencies + lamb
    pops = populations(rho, dims=dims, atoms=(i, j))
    payload = {
        "device": _device_label(device),
        "pair": [names[i], names[j]],
        "operating_point": mode,
        "power_dbm": float(args.power),
        "port": args.port,
        "detuning_mhz": None if args.detuning is None else args.detuning / MHz,
        "offset_mhz": args.offset / MHz,
        "drive_frequency_ghz": drive_frequency / GHz,
        "atom_frequencies_ghz": _per_atom(names, frequencies, GHz),
        "dressed_frequencies_ghz": _per_atom(names, dressed, GHz),
        "atom_detunings_mhz": _per_atom(names, dressed - drive_frequency, MHz),
        "target": target,
        "bell_fidelity": float(bell_fidelity(rho, target, dims=dims, atoms=(i, j))),
        "bell_fidelity_optimized": float(
            bell_fidelity(rho, target, optimize_phases=True, dims=dims, atoms=(i, j))
        ),
        "concurrence": float(concurrence(rho, dims=dims, atoms=(i, j))),
        "purity": float(purity(rho)),
        "excited_population": {
            n: float(excited_population(rho, k, dims=dims)) for k, n in enumerate(names)
        },
        "leakage": float(pops["leakage"]),
        "gap_mhz": rate / MHz,
        "relaxation_time_us": (1.0 / rate / us) if rate > 0 else math.inf,
        "solver": {
            "method": ss.method,
            "residual": float(ss.residual),
            "relative_residual": float(ss.relative_residual),
            "converged": bool(ss.converged),
            "unique": bool(ss.unique),
            "min_eigenvalue": float(ss.min_eigenvalue),
            "condition_estimate": float(ss.condition_estimate),
            "trace_error": float(ss.trace_error),
        },
    }
    if args.json:
        _print_json(payload)
        return 0
    where = (
        f"entangling point, δ/2π = {args.detuning / MHz:.6g} MHz"
        if mode == "entangling"
        else "given frequencies"
    )
    print(f"{_device_label(device)}: steady state at the {where}, pair {names[i]}, {names[j]}")
    print(
        f"  drive            {drive_frequency / GHz:.6f} GHz, {args.power:g} dBm from the "
        f"{args.port} port" + (f" (offset {args.offset / MHz:+.6g} MHz)" if args.offset else "")
    )
    for k, n in enumerate(names):
        print(
            f"  atom {n:<11} {frequencies[k] / GHz:.6f} GHz bare, {dressed[k] / GHz:.6f} GHz "
            f"Lamb-shifted ({(dressed[k] - drive_frequency) / MHz:+.4f} MHz from the drive)"
        )
    print(f"  Bell fidelity    {payload['bell_fidelity']:.6f} ({target}, in the drive frame)")
    print(f"                   {payload['bell_fidelity_optimized']:.6f} (optimised over local Z)")
    print(f"  concurrence      {payload['concurrence']:.6f}")
    print(f"  purity           {payload['purity']:.6f}")
    excited = ", ".join(f"{n} {v:.6f}" for n, v in payload["excited_population"].items())
    print(f"  excited pop.     {excited}")
    if any(d == 3 for d in dims):
        print(f"  leakage (f)      {payload['leakage']:.3e}")
    print(
        f"  Liouvillian gap  {payload['gap_mhz']:.6g} MHz (gap/2π), "
        f"1/gap = {payload['relaxation_time_us']:.6g} µs"
    )
    solver = payload["solver"]
    print(
        f"  solver           {solver['method']}, relative residual "
        f"{solver['relative_residual']:.1e}, converged {solver['converged']}, "
        f"min eigenvalue {solver['min_eigenvalue']:.1e}"
    )
    return 0


# --------------------------------------------------------------------------------------------
# protocol
# --------------------------------------------------------------------------------------------

_PROTOCOL_FORMAT = """\
protocol file format (TOML; quantities are unit strings such as "3us", "1MHz", "-130dBm"):

  device = "sequential_pair"   # preset name, or a device TOML file (relative to this file);
                               # default "sequential_pair"; --preset/--device override it
  pair = ["A", "B"]            # optional: the two atoms (default: the first two)
  target = "auto"              # optional: auto (the dark state) | psi- | psi+ | phi+ | phi-
  frame = "drive"              # optional: drive | atoms (frame of the non-optimised fidelity)
  initial_state = "ground"     # optional: ground | thermal
  times = ["end_drive", "end_ramp", "end"]   # optional (this is the default): instants
                               # "start", "end_drive", "end_ramp", "end" or times ("2.5us");
                               # or a range: times = {start = "0us", stop = "end", num = 41}
  rtol = 1e-8                  # optional: integration tolerances of the ramps
  atol = 1e-10

  [drive]
  power = "-130dBm"            # required: drive power at the chip
  detuning = "1MHz"            # required: δ/2π, the pair sits at ω_d ± δ (Lamb shifts included)
  offset = "0MHz"              # optional: added to the drive frequency
  port = "left"                # optional: left | right

  [protocol]
  t_drive = "8us"              # required: drive duration
  ramp_time = "10ns"           # required: flux ramp after the drive
  t_store = "1us"              # required: storage time
  after_drive = "move_to_df"   # optional: move_to_df | stay | resonant
  ramp_shape = "cosine"        # optional: cosine | linear
  drive_rise_time = "0ns"      # optional: cosine switch-on of the drive before t_drive

Unknown keys are errors. The run is giantatoms.protocols.driven_dissipative + run_protocol
from |g…g⟩; "end_drive" includes drive_rise_time.
"""

_NAMED_INSTANTS = ("start", "end_drive", "end_ramp", "end")
_PROTOCOL_TOP = ("device", "pair", "target", "frame", "initial_state", "times", "rtol", "atol")
_PROTOCOL_DRIVE = ("power", "detuning", "offset", "port")
_PROTOCOL_SEGMENTS = (
    "t_drive",
    "ramp_time",
    "t_store",
    "after_drive",
    "ramp_shape",
    "drive_rise_time",
)


def _file_quantity(value: Any, kind: str, where: str) -> float:
    """A unit string of ``kind`` from a file (bare numbers only for powers, in dBm)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{where}: expected a {kind} such as {_EXAMPLE[kind]!r}, got {value!r}")
    if not isinstance(value, str) and kind != "power":
        raise ValueError(
            f"{where}: give the unit, e.g. {_EXAMPLE[kind]!r} (got the bare number {value!r})"
        )
    try:
        result = _parse_quantity(value, kind)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if math.isnan(result):
        raise ValueError(f"{where}: not a number: {value!r}")
    return result


_EXAMPLE = {"frequency": "1MHz", "time": "1us", "power": "-130dBm", "length": "1mm"}


def _file_choice(value: Any, allowed: Sequence[str], where: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{where}: must be one of {list(allowed)}, got {value!r}")
    return value


def _check_keys(table: Any, allowed: Sequence[str], where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table, got {table!r}")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown} (allowed: {sorted(allowed)})")
    return table


def _read_protocol_file(source: str | Path) -> dict[str, Any]:
    """Read and validate a protocol file (format: ``_PROTOCOL_FORMAT``); values in SI units.

    Returns a dictionary with ``device_ref`` (None for the default), ``path``, ``pair``,
    ``target``, ``frame``, ``initial_state``, ``times`` (list of names or seconds, or a range
    dictionary), ``rtol``, ``atol``, ``drive`` (power_dbm, detuning, offset, port) and
    ``protocol`` (the keyword arguments of ``driven_dissipative``).
    """
    import tomllib

    path = Path(source)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"protocol file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"protocol file {str(path)!r} is a directory") from None
    except UnicodeDecodeError as exc:
        raise _not_text(path, "protocol TOML", exc) from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    _check_keys(data, (*_PROTOCOL_TOP, "drive", "protocol"), str(path))
    for table in ("drive", "protocol"):
        if table not in data:
            raise ValueError(f"{path}: the [{table}] table is required")
    drive = _check_keys(data["drive"], _PROTOCOL_DRIVE, f"{path}: [drive]")
    segments = _check_keys(data["protocol"], _PROTOCOL_SEGMENTS, f"{path}: [protocol]")
    for key, table, name in (
        ("power", drive, "drive"),
        ("detuning", drive, "drive"),
        ("t_drive", segments, "protocol"),
        ("ramp_time", segments, "protocol"),
        ("t_store", segments, "protocol"),
    ):
        if key not in table:
            raise ValueError(f"{path}: [{name}] {key} is required")
    out: dict[str, Any] = {"path": path, "device_ref": data.get("device")}
    if out["device_ref"] is not None and not isinstance(out["device_ref"], str):
        raise ValueError(f"{path}: device must be a preset name or a file path")
    pair = data.get("pair")
    if pair is not None and (
        not isinstance(pair, list)
        or len(pair) != 2
        or not all(isinstance(p, str | int) and not isinstance(p, bool) for p in pair)
    ):
        raise ValueError(f"{path}: pair must list two atom names, got {pair!r}")
    out["pair"] = pair
    out["target"] = _file_choice(data.get("target", "auto"), _TARGETS, f"{path}: target")
    out["frame"] = _file_choice(data.get("frame", "drive"), ("drive", "atoms"), f"{path}: frame")
    out["initial_state"] = _file_choice(
        data.get("initial_state", "ground"), ("ground", "thermal"), f"{path}: initial_state"
    )
    for key, default in (("rtol", 1e-8), ("atol", 1e-10)):
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{path}: {key} must be a positive number, got {value!r}")
        out[key] = float(value)
    out["drive"] = {
        "power_dbm": _file_quantity(drive["power"], "power", f"{path}: [drive] power"),
        "detuning": _file_quantity(drive["detuning"], "frequency", f"{path}: [drive] detuning"),
        "offset": _file_quantity(
            drive.get("offset", "0MHz"), "frequency", f"{path}: [drive] offset"
        ),
        "port": _file_choice(drive.get("port", "left"), ("left", "right"), f"{path}: [drive] port"),
    }
    if out["drive"]["power_dbm"] == math.inf:
        raise ValueError(f"{path}: [drive] power must be finite (or -inf for no drive)")
    protocol: dict[str, Any] = {}
    for key in ("t_drive", "ramp_time", "t_store", "drive_rise_time"):
        value = _file_quantity(segments.get(key, "0ns"), "time", f"{path}: [protocol] {key}")
        if key == "drive_rise_time":
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{path}: [protocol] {key} must be a finite time ≥ 0")
        elif not (math.isfinite(value) and value > 0):
            raise ValueError(f"{path}: [protocol] {key} must be a finite time > 0")
        protocol[key] = value
    protocol["after_drive"] = _file_choice(
        segments.get("after_drive", "move_to_df"),
        ("move_to_df", "stay", "resonant"),
        f"{path}: [protocol] after_drive",
    )
    protocol["ramp_shape"] = _file_choice(
        segments.get("ramp_shape", "cosine"), ("cosine", "linear"), f"{path}: [protocol] ramp_shape"
    )
    out["protocol"] = protocol
    times = data.get("times", ["end_drive", "end_ramp", "end"])
    where = f"{path}: times"
    if isinstance(times, dict):
        _check_keys(times, ("start", "stop", "num"), where)
        if set(times) != {"start", "stop", "num"}:
            raise ValueError(f"{where}: a range needs start, stop and num")
        num = times["num"]
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise ValueError(f"{where}: num must be an integer ≥ 1, got {num!r}")
        out["times"] = {
            "start": _instant(times["start"], f"{where}.start"),
            "stop": _instant(times["stop"], f"{where}.stop"),
            "num": num,
        }
    elif isinstance(times, list) and times:
        out["times"] = [_instant(t, f"{where}[{k}]") for k, t in enumerate(times)]
    else:
        raise ValueError(
            f"{where}: give a list of instants ({', '.join(_NAMED_INSTANTS)} or times such as "
            "'2us') or a range {start, stop, num}"
        )
    return out


def _instant(value: Any, where: str) -> str | float:
    if isinstance(value, str) and value.strip() in _NAMED_INSTANTS:
        return value.strip()
    t = _file_quantity(value, "time", f"{where} (one of {list(_NAMED_INSTANTS)} or a time)")
    if not (math.isfinite(t) and t >= 0):
        raise ValueError(f"{where}: times must be finite and ≥ 0 s, got {value!r}")
    return t


def _protocol_device(spec: dict[str, Any], args: argparse.Namespace) -> tuple[Any, str]:
    from giantatoms.model import presets
    from giantatoms.model.device import Device

    if args.device is not None or args.preset is not None:
        return _load_device(args), args.device or args.preset
    ref = spec["device_ref"] or presets.DEFAULT
    path = spec["path"]
    candidate = Path(ref) if Path(ref).is_absolute() else path.parent / ref
    if candidate.suffix == ".toml" or candidate.exists():
        return Device.from_toml(candidate), str(candidate)
    try:
        return presets.load(ref), ref
    except ValueError as exc:
        raise ValueError(f"{path}: device {ref!r}: {exc}") from None


def _protocol(args: argparse.Namespace) -> int:
    import dataclasses

    from giantatoms.protocols import driven_dissipative, run_protocol
    from giantatoms.units import GHz, MHz, us

    spec = _read_protocol_file(args.file)
    device, device_ref = _protocol_device(spec, args)
    pair = _needs_pair(device, _pair_indices(device, spec["pair"]))
    names = device.atom_names
    drive, seg = spec["drive"], spec["protocol"]
    try:
        op = _operating_point(device, drive["detuning"], pair)
    except ValueError as exc:
        raise ValueError(f"{args.file}: {exc}") from None
    op = dataclasses.replace(op, drive_frequency=op.drive_frequency + drive["offset"])
    if not float(op.drive_frequency) > 0:
        raise ValueError(f"{args.file}: the drive frequency (with offset) must be > 0 Hz")
    protocol = driven_dissipative(
        device,
        power_dbm=drive["power_dbm"],
        detuning=drive["detuning"],
        pair=pair,
        operating_point=op,
        port=drive["port"],
        **seg,
    )
    if spec["target"] != "auto":
        protocol = dataclasses.replace(protocol, target=spec["target"])
    rise = seg["drive_rise_time"]
    ends = {
        "start": 0.0,
        "end_drive": rise + seg["t_drive"],
        "end_ramp": rise + seg["t_drive"] + seg["ramp_time"],
        "end": rise + seg["t_drive"] + seg["ramp_time"] + seg["t_store"],
    }

    def resolve(item: str | float) -> float:
        return ends[item] if isinstance(item, str) else float(item)

    if isinstance(spec["times"], dict):
        r = spec["times"]
        instants = list(np.linspace(resolve(r["start"]), resolve(r["stop"]), r["num"]))
        labels = [""] * len(instants)
        for name, value in ends.items():  # label grid points that are named instants
            for k, t in enumerate(instants):
                if abs(t - value) <= 1e-12 * ends["end"]:
                    labels[k] = name
    else:
        instants = [resolve(t) for t in spec["times"]]
        labels = [t if isinstance(t, str) else "" for t in spec["times"]]
    late = [t for t in instants if t > ends["end"] * (1 + 1e-12)]
    if late:
        raise ValueError(
            f"{args.file}: times {[f'{t / us:.6g}us' for t in late]} are after the end of the "
            f"protocol ({ends['end'] / us:.6g} µs)"
        )
    merged: dict[float, str] = {}
    for t, label in zip(instants, labels, strict=True):
        merged[t] = merged.get(t) or label
    times = np.array(sorted(merged))
    labels = [merged[t] for t in times]
    result = run_protocol(
        device,
        protocol,
        times,
        spec["initial_state"],
        frame=spec["frame"],
        rtol=spec["rtol"],
        atol=spec["atol"],
    )
    # The segment an instant belongs to; at a boundary, the one that ends there.
    ends_of = np.asarray(protocol.boundaries(), dtype=float)[1:]
    index = np.minimum(np.searchsorted(ends_of, times * (1 - 1e-12)), len(ends_of) - 1)
    segment = [result.segment_labels[k] for k in index]
    frequencies = np.asarray(result.frequencies, dtype=float)
    payload = {
        "file": str(args.file),
        "device": device_ref,
        "pair": [names[k] for k in pair],
        "target": result.target,
        "frame": result.frame,
        "power_dbm": drive["power_dbm"],
        "detuning_mhz": drive["detuning"] / MHz,
        "drive_frequency_ghz": float(op.drive_frequency) / GHz,
        "after_drive": seg["after_drive"],
        "durations_us": {
            "drive_rise_time": rise / us,
            "t_drive": seg["t_drive"] / us,
            "ramp_time": seg["ramp_time"] / us,
            "t_store": seg["t_store"] / us,
        },
        "time_us": times / us,
        "instant": labels,
        "segment": segment,
        "bell_fidelity": result.bell_fidelity,
        "bell_fidelity_optimized": result.bell_fidelity_optimized,
        "concurrence": result.concurrence,
        "leakage": result.leakage,
        "atom_frequencies_ghz": {n: frequencies[:, k] / GHz for k, n in enumerate(names)},
        "error_estimate": result.error_estimate,
        "out": str(args.out) if args.out else None,
    }
    if args.out:
        _protocol_dataset(payload, names).to_netcdf(args.out)
    if args.json:
        _print_json(payload)
        return 0
    a, b = (names[k] for k in pair)
    print(
        f"protocol {args.file}: device {device_ref}, pair {a}, {b}, target {result.target}, "
        f"{drive['power_dbm']:g} dBm at {float(op.drive_frequency) / GHz:.6f} GHz, "
        f"δ/2π = {drive['detuning'] / MHz:.6g} MHz, then {seg['after_drive']}"
    )
    header = (
        f"{'time (µs)':>10} | {'instant':<9} | {'segment':<7} | {'F':>8} | {'F(opt)':>8} | "
        f"{'C':>8} | {'leakage':>9} | {f'f_{a} (GHz)':>11} | {f'f_{b} (GHz)':>11}"
    )
    print(header)
    print("-" * len(header))
    for k, t in enumerate(times):
        print(
            f"{t / us:>10.4f} | {labels[k]:<9} | {segment[k]:<7} | "
            f"{result.bell_fidelity[k]:>8.5f} | {result.bell_fidelity_optimized[k]:>8.5f} | "
            f"{result.concurrence[k]:>8.5f} | {result.leakage[k]:>9.2e} | "
            f"{frequencies[k, pair[0]] / GHz:>11.6f} | {frequencies[k, pair[1]] / GHz:>11.6f}"
        )
    print(
        f"F: fidelity to {result.target} in the {result.frame} frame; F(opt): maximised over "
        f"local Z phases; C: concurrence; max error estimate "
        f"{float(np.max(result.error_estimate, initial=0.0)):.1e}"
    )
    if args.out:
        print(f"written: {args.out}")
    return 0


def _protocol_dataset(payload: dict[str, Any], names: Sequence[str]) -> Any:
    """The protocol table as an xarray Dataset over time (µs), with units attributes."""
    import xarray as xr

    import giantatoms

    one = {"units": "1"}
    variables = {
        "bell_fidelity": (
            "time",
            np.asarray(payload["bell_fidelity"], float),
            {**one, "long_name": f"fidelity to {payload['target']} ({payload['frame']} frame)"},
        ),
        "bell_fidelity_optimized": (
            "time",
            np.asarray(payload["bell_fidelity_optimized"], float),
            {**one, "long_name": "Bell fidelity maximised over local Z phases"},
        ),
        "concurrence": ("time", np.asarray(payload["concurrence"], float), one),
        "leakage": (
            "time",
            np.asarray(payload["leakage"], float),
            {**one, "long_name": "population outside the pair's qubit subspace"},
        ),
        "error_estimate": (
            "time",
            np.asarray(payload["error_estimate"], float),
            {**one, "long_name": "accumulated integration error estimate (trace norm)"},
        ),
        "segment": ("time", np.array(payload["segment"], dtype=object), {}),
        "instant": ("time", np.array(payload["instant"], dtype=object), {}),
        "atom_frequency": (
            ("time", "atom"),
            np.stack([payload["atom_frequencies_ghz"][n] for n in names], axis=-1),
            {"units": "GHz", "long_name": "bare atom frequency f = ω/2π"},
        ),
    }
    ds = xr.Dataset(
        {k: xr.Variable(dims, values, attrs) for k, (dims, values, attrs) in variables.items()},
        coords={
            "time": ("time", np.asarray(payload["time_us"], float), {"units": "us"}),
            "atom": ("atom", np.array(list(names), dtype=object)),
        },
    )
    ds.attrs.update(
        {
            "source": payload["file"],
            "device": payload["device"],
            "pair": ",".join(payload["pair"]),
            "target": payload["target"],
            "frame": payload["frame"],
            "power_dbm": float(payload["power_dbm"]),
            "detuning_mhz": float(payload["detuning_mhz"]),
            "drive_frequency_ghz": float(payload["drive_frequency_ghz"]),
            "after_drive": payload["after_drive"],
            "giantatoms_version": str(getattr(giantatoms, "__version__", "")),
        }
    )
    return ds


# --------------------------------------------------------------------------------------------
# spectrum
# --------------------------------------------------------------------------------------------

_TOUCHSTONE = re.compile(r"\.s\d+p$", re.IGNORECASE)
_CSV_COLUMNS = ("frequency_ghz", "s21_re", "s21_im", "s11_re", "s11_im")


def _linewidth(w: Any, t: Any) -> tuple[float, float]:
    """Peak frequency and full width at half maximum of |1 − t|² (rad/s; NaN if not resolved)."""
    depth = np.abs(1.0 - t) ** 2
    k = int(np.argmax(depth))
    half = 0.5 * depth[k]
    left = np.flatnonzero(depth[:k] < half)
    right = np.flatnonzero(depth[k:] < half)
    if depth[k] == 0 or not left.size or not right.size:
        return float(w[k]), math.nan
    lo, hi = int(left[-1]), k + int(right[0])

    def cross(a: int, b: int) -> float:
        return float(w[a] + (half - depth[a]) * (w[b] - w[a]) / (depth[b] - depth[a]))

    return float(w[k]), cross(hi - 1, hi) - cross(lo, lo + 1)


def _display_key(name: str) -> tuple[str, float, str]:
    """JSON key (unit in the name), scale and unit label of a fit parameter."""
    from giantatoms.fitting import _display_unit

    unit, factor = _display_unit(name)
    suffix = {"µs": "us", "1/GHz": "per_ghz", "m/s": "m_per_s", "": ""}.get(unit, unit.lower())
    return (f"{name}_{suffix}" if suffix else name), factor, unit


def _spectrum(args: argparse.Namespace) -> int:
    if args.fit is not None:
        return _spectrum_fit(args)
    for option, value in (("--model", args.model), ("--convention", args.convention)):
        if value is not None:
            raise ValueError(f"{option} is for fitting; give --fit FILE")
    return _spectrum_simulate(args)


def _spectrum_simulate(args: argparse.Namespace) -> int:
    from giantatoms.measure.spectroscopy import scattering
    from giantatoms.units import GHz, MHz

    device = _load_device(args)
    frequencies = _frequencies_with(device, args.atom_frequency)
    c = device.couplings(frequencies=frequencies)
    dressed = frequencies + c.lamb_shift
    half = 4.0 * float(np.sum(c.decay_rates)) + 2.0 * MHz
    lo = args.start if args.start is not None else float(np.min(dressed)) - half
    hi = args.stop if args.stop is not None else float(np.max(dressed)) + half
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise ValueError(
            f"the probe band must satisfy 0 < --from < --to, got {lo / GHz:.6g}–{hi / GHz:.6g} GHz"
        )
    probe = np.linspace(lo, hi, args.points)
    result = scattering(
        device, probe, frequencies=frequencies, power_dbm=args.power, port=args.port
    )
    if args.port == "right":
        t, r = np.asarray(result.s12), np.asarray(result.s22)
    else:
        t, r = np.asarray(result.s21), np.asarray(result.s11)
    k = int(np.argmin(np.abs(t)))
    peak, width = _linewidth(probe, t)
    port = args.port
    summary = {
        "device": _device_label(device),
        "method": result.method,
        "power_dbm": args.power,
        "port": port,
        "atom_frequencies_ghz": _per_atom(device.atom_names, frequencies, GHz),
        "points": int(probe.size),
        "min_abs_s21": float(np.abs(t[k])),
        "min_abs_s21_frequency_ghz": float(probe[k]) / GHz,
        "resonance_frequency_ghz": peak / GHz,
        "linewidth_mhz": width / MHz,
    }
    if args.out:
        _write_spectrum_csv(Path(args.out), probe, t, r, summary)
    if args.json:
        _print_json(
            {
                **summary,
                "out": args.out,
                "frequency_ghz": probe / GHz,
                "s21_re": t.real,
                "s21_im": t.imag,
                "s11_re": r.real,
                "s11_im": r.imag,
            }
        )
        return 0
    kind = "linear response" if args.power is None else f"steady state at {args.power:g} dBm"
    names = ", ".join(f"{n} {v:.6f} GHz" for n, v in summary["atom_frequencies_ghz"].items())
    t_name, r_name = ("S21", "S11") if port == "left" else ("S12", "S22")
    print(
        f"{_device_label(device)}: {kind}, probe from the {port} port, "
        f"{lo / GHz:.6f}–{hi / GHz:.6f} GHz ({probe.size} points); atoms {names}"
    )
    print(f"  min |{t_name}|        {summary['min_abs_s21']:.6f} at {probe[k] / GHz:.6f} GHz")
    print(f"  resonance        {peak / GHz:.6f} GHz (maximum of |1 − {t_name}|)")
    if math.isfinite(width):
        print(
            f"  linewidth        {width / MHz:.6g} MHz (full width at half maximum of |1 − "
            f"{t_name}|²)"
        )
    else:
        print("  linewidth        not resolved (the line is wider than the probe band)")
    if args.out:
        print(f"written: {args.out} ({t_name} and {r_name} in the s21/s11 columns)")
    return 0


def _write_spectrum_csv(path: Path, probe: Any, t: Any, r: Any, summary: dict[str, Any]) -> None:
    from giantatoms.units import GHz

    port = summary["port"]
    lines = [
        f"# giantatoms spectrum: {summary['device']}, {summary['method']}, probe from the {port} "
        "port",
        "# convention: physics (fields ~ e^{-iwt}; network analysers show the complex conjugate)",
    ]
    if port == "right":
        lines.append("# the s21/s11 columns hold S12 and S22 (probe from the right port)")
    lines.append(",".join(_CSV_COLUMNS))
    rows = np.column_stack([probe / GHz, t.real, t.imag, r.real, r.imag])
    lines += [",".join(f"{x:.17g}" for x in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _csv_convention(path: Path) -> str | None:
    """The convention a ``# convention: …`` comment of a CSV file declares, if any."""
    try:
        with path.open(encoding="utf-8") as handle:
            for _, line in zip(range(50), handle, strict=False):
                match = re.match(r"\s*[#!]\s*convention\s*[:=]\s*(\w+)", line, re.IGNORECASE)
                if match:
                    return match.group(1).lower()
    except UnicodeDecodeError:
        return None
    return None


def _spectrum_fit(args: argparse.Namespace) -> int:
    from giantatoms.fitting import SpectroscopyData, fit_device, fit_fano, fit_lorentzian
    from giantatoms.units import GHz, MHz

    if args.out:
        raise ValueError("--out writes a simulated spectrum; it is not used with --fit")
    if args.power is not None:
        raise ValueError("--power is for simulating; the fits are linear-response models")
    path = Path(args.fit)
    if not path.is_file():
        raise ValueError(f"no data file {str(path)!r}")
    model = args.model or "lorentzian"
    if args.parameter and model != "device":
        raise ValueError("--parameter is for --model device")
    if _TOUCHSTONE.search(path.name):
        convention = args.convention or "engineering"
        trace = "s11" if path.suffix.lower() == ".s1p" else "s21"  # one port: reflection only
        data = SpectroscopyData.from_touchstone(path, parameters=trace, convention=convention)
    else:
        convention = args.convention or _csv_convention(path) or "engineering"
        if convention not in ("engineering", "physics"):
            raise ValueError(f"{path}: unknown convention {convention!r} in the file")
        data = SpectroscopyData.from_csv(
            path, unit=args.unit, layout=args.layout, convention=convention
        )
    if args.start is not None or args.stop is not None:
        data = data.crop(
            args.start if args.start is not None else 0.0,
            args.stop if args.stop is not None else math.inf,
        )
    device = None
    if model == "lorentzian":
        fit = fit_lorentzian(data)
    elif model == "fano":
        fit = fit_fano(data)
    else:
        start = _load_device(args)
        start = start.with_frequencies(_frequencies_with(start, args.atom_frequency))
        parameters = args.parameter or ["atoms.*.frequency", "atoms.*.point_rates"]
        fit = fit_device(data, start, parameters)
        device = fit.device
    params = {}
    for name, value, error in zip(fit.names, fit.values, fit.standard_errors, strict=True):
        key, factor, _ = _display_key(name)
        params[key] = {"value": float(value) / factor, "error": float(error) / factor}
    fixed = {}
    for name, value in fit.fixed.items():
        key, factor, _ = _display_key(name)
        fixed[key] = float(value) / factor
    payload: dict[str, Any] = {
        "file": str(path),
        "model": model,
        "convention": data.convention,
        "points": data.n_points,
        "parameters": params,
        "fixed": fixed,
        "chi2": fit.chi2,
        "dof": fit.dof,
        "reduced_chi2": fit.reduced_chi2,
        "noise": fit.noise,
        "noise_estimated": fit.noise_estimated,
        "success": fit.success,
        "warnings": list(fit.warnings),
    }
    if model in ("lorentzian", "fano"):
        p = fit.parameters
        payload["linewidth_mhz"] = (p["radiative_rate"] + p["nonradiative_rate"]) / MHz
    if device is not None:
        c = device.couplings()
        payload["device"] = {
            "atom_frequencies_ghz": _per_atom(device.atom_names, device.frequencies, GHz),
            "point_rates_mhz": {
                a.name: (np.asarray(a.rates_per_point, float) / MHz) for a in device.atoms
            },
            "gamma_mhz": _per_atom(device.atom_names, c.decay_rates, MHz),
            "lamb_shift_mhz": _per_atom(device.atom_names, c.lamb_shift, MHz),
            "dressed_frequencies_ghz": _per_atom(
                device.atom_names, device.frequencies + c.lamb_shift, GHz
            ),
        }
    if args.json:
        _print_json(payload)
        return 0
    print(fit.summary())
    if "linewidth_mhz" in payload:
        print(f"  linewidth (radiative + nonradiative)/2π = {payload['linewidth_mhz']:.6g} MHz")
    if device is not None:
        print("fitted device (rates as rate/2π at the fitted frequencies):")
        for k, atom in enumerate(device.atoms):
            rates = ", ".join(f"{g / MHz:.6g}" for g in np.ravel(atom.rates_per_point))
            print(
                f"  atom {atom.name}: f = {device.frequencies[k] / GHz:.6f} GHz "
                f"(Lamb-shifted {(device.frequencies[k] + c.lamb_shift[k]) / GHz:.6f} GHz), "
                f"γ per point {rates} MHz, Γ = {c.decay_rates[k] / MHz:.6g} MHz"
            )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="giantatoms",
        description="Driven-dissipative entanglement of giant atoms in waveguide QED.",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback on errors instead of one line (also: GIANTATOMS_DEBUG=1)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    rep = sub.add_parser(
        "reproduce",
        help="run the experiment end to end: table paper | simulation, figures, data",
        description="Spectroscopy of each atom, coherence at the DF point, the steady-state "
        "map and stabilisation, the protocol (transfer to the DF point, storage; staying and "
        "the resonant point for comparison) and tomography with readout errors and bootstrap "
        "error bars. Prints the comparison table and writes summary.json, NetCDF data and PNG "
        "figures to --out.",
    )
    source = rep.add_mutually_exclusive_group()
    source.add_argument("--preset", default="sequential_pair", help="packaged device name")
    source.add_argument("--device", help="device TOML file")
    rep.add_argument(
        "--pair", nargs=2, metavar=("A", "B"), help="the two atoms (default: first two)"
    )
    rep.add_argument("--out", default="giantatoms-output", help="output folder")
    rep.add_argument(
        "--fast", "--quick", dest="fast", action="store_true", help="coarse settings (seconds)"
    )
    rep.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    rep.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a reconstruction assumption [R], e.g. readout_fidelity_e=0.9 or "
        "ramp_time_ns=20 (keys: giantatoms.experiments.reproduce.ASSUMPTIONS; repeatable)",
    )
    rep.add_argument("--json", action="store_true", help="print the summary as JSON")
    rep.add_argument("--quiet", action="store_true", help="no progress display")
    rep.set_defaults(func=_reproduce)

    tom = sub.add_parser(
        "tomography",
        help="reconstruct a two-qubit state from tomography counts (CSV)",
        description="Reconstruct ρ from counts (CSV with columns setting,gg,ge,eg,ee; settings "
        "XX…ZZ or gate pairs such as X90:mY90) with readout-error mitigation, and the Bell "
        "fidelity with a parametric-bootstrap error bar.",
    )
    tom.add_argument("file", help="counts CSV (giantatoms.TomographyData.to_csv)")
    tom.add_argument(
        "--readout", help="assignment fidelities 'Fg,Fe' (both qubits) or 'FgA,FeA,FgB,FeB'"
    )
    tom.add_argument("--confusion", help="4×4 joint confusion matrix CSV (correlated readout)")
    tom.add_argument(
        "--confusion-rows",
        choices=["measured", "prepared"],
        default="measured",
        help="what the rows of --confusion index (default measured)",
    )
    tom.add_argument("--method", choices=["mle", "linear", "projected"], default="mle")
    tom.add_argument("--no-mitigation", action="store_true", help="ignore readout errors")
    tom.add_argument("--phases", help="local Z phases 'phiA,phiB' in rad to correct")
    tom.add_argument("--state", default="closest", help="Bell state or 'closest' (default)")
    tom.add_argument("--optimize-phases", action="store_true", help="maximise over local Z phases")
    tom.add_argument("--bootstrap", type=_positive_int, default=200, help="bootstrap samples")
    tom.add_argument("--confidence", type=float, default=0.68, help="interval level (0.68)")
    tom.add_argument("--seed", type=int, help="bootstrap seed (drawn and printed if omitted)")
    tom.add_argument("--out", help="NetCDF file for ρ and the bootstrap samples")
    tom.add_argument("--json", action="store_true", help="print the result as JSON")
    tom.set_defaults(func=_tomography)

    swp = sub.add_parser(
        "sweep",
        help="run a parameter sweep declared in a TOML file",
        description="Run a sweep file (format: docs/sweeps.md). The labelled dataset is "
        "written to the store (Zarr directory or .nc file); rerunning resumes.",
    )
    swp.add_argument("file", help="sweep TOML file")
    swp.add_argument(
        "--executor",
        help="serial, processes, dask, or a Dask scheduler address (default: [run] or serial)",
    )
    swp.add_argument("--workers", type=int, help="worker processes for processes/dask")
    swp.add_argument("--store", help="Zarr directory or .nc file (default: [run] or FILE.zarr)")
    swp.add_argument("--overwrite", action="store_true", help="discard an existing store")
    swp.add_argument("--json", action="store_true", help="print the summary as JSON")
    swp.add_argument("--quiet", action="store_true", help="no progress bar")
    swp.set_defaults(func=_sweep)

    pre = sub.add_parser("presets", help="list, show or export packaged devices")
    pre.add_argument("action", choices=["list", "show", "export"])
    pre.add_argument("name", nargs="?", default="sequential_pair")
    pre.add_argument("--to", help="export path (default NAME.toml)")
    pre.add_argument("--json", action="store_true", help="machine-readable output")
    pre.set_defaults(func=_presets)

    _add_physics_commands(sub)
    for command in sub.choices.values():  # --debug also after the command name
        command.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="show the traceback on errors (also: GIANTATOMS_DEBUG=1)",
        )
    return parser


def _add_physics_commands(sub: Any) -> None:
    """The ``couplings``, ``steady``, ``protocol`` and ``spectrum`` subcommands."""
    frequency, power = _quantity("frequency"), _quantity("power")
    raw = argparse.RawDescriptionHelpFormatter

    cpl = sub.add_parser(
        "couplings",
        help="a device's waveguide rates against frequency",
        formatter_class=raw,
        description=_paragraphs(
            "Waveguide couplings with every atom at each frequency of a grid: Γ of each atom of "
            "the pair, the collective Γ_AB (magnitude and phase), the exchange J and the Lamb "
            "shifts (as rate/2π in MHz); then the pair's perfect-correlation frequencies, each "
            "atom's decoherence-free frequencies in the band and the entangling operating point "
            "nearest the pair's mean frequency. --json adds every atom's Γ and Lamb shift."
        ),
        epilog="example: giantatoms couplings --from 4GHz --to 5.2GHz --points 25 --pair A B",
    )
    _add_device_options(cpl, "sequential_pair")
    cpl.add_argument(
        "--from", dest="start", type=frequency, help="band start (default 0.9 × pair frequency)"
    )
    cpl.add_argument(
        "--to", dest="stop", type=frequency, help="band end (default 1.1 × pair frequency)"
    )
    cpl.add_argument("--points", type=_positive_int, default=25, help="grid points (default 25)")
    cpl.add_argument(
        "--pair", nargs=2, metavar=("A", "B"), help="two atoms (default: the first two)"
    )
    cpl.add_argument(
        "--detuning",
        type=frequency,
        default=0.0,
        help="δ of the reported entangling operating point (default 0MHz)",
    )
    _add_json_option(cpl)
    cpl.set_defaults(func=_couplings)

    std = sub.add_parser(
        "steady",
        help="steady state and metrics at an operating point",
        formatter_class=raw,
        description=_paragraphs(
            "The driven steady state of the master equation and its metrics: Bell fidelity (in "
            "the drive frame and optimised over local Z phases), concurrence, purity, excited "
            "populations, the Liouvillian gap (and 1/gap) and the solver's diagnostics.",
            "Operating point: with --detuning, the entangling point (the pair's Lamb-shifted "
            "frequencies at ω_d ± δ about the perfect-correlation frequency nearest their mean "
            "frequency, the drive at their centre); with --drive-frequency, the atoms at the "
            "device's frequencies or those given by --atom-frequency. --offset shifts the drive "
            "in either case.",
            "A master equation with more than one steady state (e.g. a dark state the drive "
            "cannot reach) is an error: exit status 2 and a one-line message.",
        ),
        epilog="examples:\n"
        "  giantatoms steady --power -130dBm --detuning 1MHz\n"
        "  giantatoms steady --power -130dBm --drive-frequency 4.602GHz "
        "--atom-frequency A=4.60GHz --atom-frequency B=4.601GHz",
    )
    _add_device_options(std, "sequential_pair")
    std.add_argument("--power", type=power, required=True, help="drive power at the chip (dBm)")
    std.add_argument(
        "--detuning", type=frequency, help="δ of the entangling operating point, e.g. 1MHz"
    )
    std.add_argument(
        "--offset", type=frequency, default=0.0, help="added to the drive frequency (default 0MHz)"
    )
    std.add_argument(
        "--drive-frequency", type=frequency, help="drive frequency (instead of --detuning)"
    )
    std.add_argument(
        "--atom-frequency",
        type=_atom_frequency,
        action="append",
        metavar="NAME=FREQ",
        help="bare frequency of one atom with --drive-frequency (repeat for several atoms)",
    )
    std.add_argument("--pair", nargs=2, metavar=("A", "B"), help="two atoms (default: first two)")
    std.add_argument(
        "--target",
        choices=_TARGETS,
        default="auto",
        help="Bell state of the fidelity (default auto: the dark state, psi- or psi+)",
    )
    std.add_argument("--port", choices=("left", "right"), default="left", help="drive port")
    _add_json_option(std)
    std.set_defaults(func=_steady)

    pro = sub.add_parser(
        "protocol",
        help="run the driven-dissipative protocol declared in a TOML file",
        formatter_class=raw,
        description=_paragraphs(
            "Drive the pair into its dark state, stop, move the atoms (by default to their "
            "decoherence-free points) and store; print the Bell fidelity, its value optimised "
            "over local Z phases, the concurrence and the leakage at the requested times. --out "
            "writes them as an xarray Dataset (NetCDF) over time (µs) with units attributes."
        ),
        epilog=_PROTOCOL_FORMAT,
    )
    pro.add_argument("file", help="protocol TOML file")
    _add_device_options(pro)
    pro.add_argument("--out", help="write the table as an xarray Dataset to this NetCDF file (.nc)")
    _add_json_option(pro)
    pro.set_defaults(func=_protocol)

    spc = sub.add_parser(
        "spectrum",
        help="simulate or fit waveguide spectroscopy",
        formatter_class=raw,
        description=_paragraphs(
            "Simulate: transmission and reflection of a probe (linear response, or the driven "
            "steady state with --power) with the atoms at the device's frequencies (or "
            "--atom-frequency); prints min |S21|, its frequency and the linewidth of the "
            "strongest line (FWHM of |1 − S21|²). --out writes a CSV with columns "
            "frequency_ghz, s21_re, s21_im, "
            "s11_re, s11_im (physics convention, declared in a comment line; with --port right "
            "they hold S12 and S22). Default band: the Lamb-shifted atom frequencies ± (4 × the "
            "summed radiative rates + 2 MHz).",
            "Fit: --fit FILE (CSV, or Touchstone .s1p/.s2p) with a Lorentzian, a Fano line or "
            "the device model (starting from --preset/--device and --atom-frequency, floating "
            "--parameter, default atoms.*.frequency and atoms.*.point_rates); prints the "
            "parameters ± errors and the reduced χ². --from/--to crop the data. The sign "
            "convention of a CSV comes from its '# convention: …' line, else engineering "
            "(network analysers, Touchstone).",
        ),
        epilog="examples:\n"
        "  giantatoms spectrum --from 4.58GHz --to 4.62GHz --points 401 --out s.csv\n"
        "  giantatoms spectrum --fit s.csv --model lorentzian\n"
        "  giantatoms spectrum --fit chip.s2p --model device --preset sequential_pair",
    )
    _add_device_options(spc, "sequential_pair")
    spc.add_argument("--from", dest="start", type=frequency, help="probe band start")
    spc.add_argument("--to", dest="stop", type=frequency, help="probe band end")
    spc.add_argument("--points", type=_positive_int, default=401, help="probe points (default 401)")
    spc.add_argument(
        "--power", type=power, help="probe power (dBm): steady-state response instead of linear"
    )
    spc.add_argument("--port", choices=("left", "right"), default="left", help="probe port")
    spc.add_argument(
        "--atom-frequency",
        type=_atom_frequency,
        action="append",
        metavar="NAME=FREQ",
        help="bare frequency of one atom (repeat for several atoms)",
    )
    spc.add_argument("--out", help="write the simulated spectrum to this CSV file")
    spc.add_argument("--fit", metavar="FILE", help="fit measured data (.csv or .s1p/.s2p)")
    spc.add_argument(
        "--model", choices=("lorentzian", "fano", "device"), help="fit model (default lorentzian)"
    )
    spc.add_argument(
        "--convention",
        choices=("engineering", "physics"),
        help="sign convention of the data (default: from the CSV, else engineering)",
    )
    spc.add_argument(
        "--unit", default="GHz", help="frequency unit of a CSV's first column (default GHz)"
    )
    spc.add_argument(
        "--layout",
        default="real,imag",
        help="CSV trace columns: real,imag (default), db,deg, db,rad, mag,deg or mag,rad",
    )
    spc.add_argument(
        "--parameter",
        action="append",
        metavar="PATH",
        help="device quantity that floats with --model device (repeat), e.g. atoms.A.frequency",
    )
    _add_json_option(spc)
    spc.set_defaults(func=_spectrum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    0 on success, 2 for bad input, 1 for any other failure and 130 when interrupted; each
    failure is one line on stderr (see the module docstring). With ``--debug`` or
    ``GIANTATOMS_DEBUG=1`` the exception propagates with its traceback instead.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_from_environment() or "--debug" in argv
    command: str | None = None
    # Warnings are held back while the command runs: on success they are shown afterwards,
    # on failure folded into the one error line.
    with warnings.catch_warnings(record=not debug) as caught:
        try:
            args = _parser().parse_args(argv)
            command = args.command
            debug = _debug_from_environment() or bool(getattr(args, "debug", False))
            status = int(args.func(args))
        except _UsageError as exc:
            _report(None, _one_line(exc), caught)
            return 2
        except KeyboardInterrupt:
            if debug:
                raise
            _report(command, "interrupted", None)
            return 130
        except Exception as exc:
            if debug:
                raise
            if isinstance(exc, BrokenPipeError) and _stdout_closed():
                return 1  # the reader went away (e.g. `| head`): nothing more to say
            status, message = _describe_failure(exc, command)
            _report(command, message, caught)
            return status
    for w in caught or ():
        warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)
    return status


_INPUT_PATH_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, FileExistsError)


def _debug_from_environment() -> bool:
    value = os.environ.get("GIANTATOMS_DEBUG", "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


_MEMORY_HINTS = {
    "reproduce": "try --fast",
    "sweep": "use a smaller grid (fewer points per axis) or a smaller chunk_size",
    "couplings": "use fewer --points",
    "spectrum": "use fewer --points",
    "tomography": "use fewer --bootstrap samples",
    "protocol": "ask for fewer times (a smaller num)",
}


def _describe_failure(exc: Exception, command: str | None) -> tuple[int, str]:
    """Exit status and one-line message of an exception that ended a command."""
    name = _public_name(type(exc))
    if isinstance(exc, UnicodeDecodeError):
        return 2, f"not a text file (binary data?): {_one_line(exc)}"
    if isinstance(exc, _INPUT_PATH_ERRORS):
        return 2, _os_message(exc)
    if isinstance(exc, ValueError | TypeError):
        return 2, _one_line(exc)
    if isinstance(exc, MemoryError):
        detail = f" ({_one_line(exc)})" if str(exc).strip() else ""
        hint = _MEMORY_HINTS.get(command or "", "use fewer points")
        return 1, f"MemoryError: out of memory{detail}; {hint}"
    if isinstance(exc, OSError):
        return 1, f"{name}: {_os_message(exc)}"
    if isinstance(exc, ImportError):
        return 1, f"{name}: {_one_line(exc)}"
    return 1, f"{name}: {_one_line(exc)} (run with --debug for the traceback)"


def _public_name(cls: type) -> str:
    """The class's name, or its first public base's (numpy's _ArrayMemoryError: MemoryError)."""
    for base in cls.__mro__:
        if not base.__name__.startswith("_"):
            return base.__name__
    return cls.__name__  # pragma: no cover - BaseException is public


def _os_message(exc: OSError) -> str:
    """An OSError as 'PATH: reason', naming the path the operating system reported."""
    if exc.strerror:  # "[Errno 13] Permission denied: 'x'" → "x: Permission denied"
        reason = " ".join(str(exc.strerror).split())
        if exc.filename is None:
            return reason
        paths = str(exc.filename)
        if exc.filename2 is not None:
            paths += f" -> {exc.filename2}"
        return f"{paths}: {reason}"
    message = _one_line(exc)
    if exc.filename is not None and str(exc.filename) not in message:
        message = f"{exc.filename}: {message}"
    return message


def _not_text(path: str | Path, what: str, exc: UnicodeDecodeError) -> ValueError:
    """The error for a binary file where a text file is expected."""
    byte = exc.object[exc.start : exc.start + 1]
    where = f"byte {byte[0]:#04x} at offset {exc.start}" if byte else f"offset {exc.start}"
    return ValueError(
        f"{path}: not a text {what} file (binary data?): {where} is not {exc.encoding}"
    )


def _report(command: str | None, message: str, caught: list[Any] | None) -> None:
    """Print the one error line on stderr, with the warnings issued before it folded in."""
    seen: list[str] = []
    for w in caught or ():
        text = _one_line(w.message) if isinstance(w.message, BaseException) else str(w.message)
        text = " ".join(text.split())
        if text and text not in seen:
            seen.append(text)
    if seen:
        shown = "; ".join(seen[:3]) + (f"; … ({len(seen) - 3} more)" if len(seen) > 3 else "")
        message += f" (after {'a warning' if len(seen) == 1 else 'warnings'}: {shown})"
    where = f"{command}: " if command else ""
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()  # what the command printed comes before the error
    print(f"giantatoms: error: {where}{message}", file=sys.stderr)


def _stdout_closed() -> bool:
    """Whether stdout is a pipe whose reader has gone (then stdout goes to the null device).

    Python flushes stdout at exit; pointing it at the null device keeps that from failing
    again with a second broken-pipe message. Where ``select.poll`` is missing, False.
    """
    import select

    try:
        fd = sys.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        closed = any(event & select.POLLERR for _, event in poller.poll(0))
        if closed:
            os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    except (OSError, ValueError, AttributeError):
        return False
    return closed


def _one_line(exc: BaseException) -> str:
    """The exception's message on one line (multi-line messages joined with '; ')."""
    try:
        text = str(exc)
    except Exception:  # a broken __str__ must not turn the one line into a traceback
        text = ""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    return "; ".join(lines) or _public_name(type(exc))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
