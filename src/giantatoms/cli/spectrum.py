"""``giantatoms spectrum``: simulate waveguide spectroscopy, or fit measured spectra."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from giantatoms.cli._common import (
    _add_device_options,
    _add_json_option,
    _atom_frequency,
    _device_label,
    _frequencies_with,
    _load_device,
    _paragraphs,
    _per_atom,
    _positive_int,
    _print_json,
    _quantity,
)


def register(sub: Any) -> None:
    """Add the ``spectrum`` subcommand."""
    frequency, power = _quantity("frequency"), _quantity("power")
    raw = argparse.RawDescriptionHelpFormatter

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
