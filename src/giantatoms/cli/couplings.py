"""``giantatoms couplings``: a device's waveguide rates against frequency."""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from giantatoms.cli._common import (
    _add_device_options,
    _add_json_option,
    _device_label,
    _frequencies_with,
    _ghz_list,
    _load_device,
    _operating_point,
    _pair_indices,
    _paragraphs,
    _positive_int,
    _print_json,
    _quantity,
)


def register(sub: Any) -> None:
    """Add the ``couplings`` subcommand."""
    frequency = _quantity("frequency")
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
