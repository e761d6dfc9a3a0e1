"""``giantatoms steady``: the driven steady state and its metrics at an operating point."""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from giantatoms.cli._common import (
    _TARGETS,
    _add_device_options,
    _add_json_option,
    _atom_frequency,
    _device_label,
    _frequencies_with,
    _load_device,
    _needs_pair,
    _operating_point,
    _pair_indices,
    _paragraphs,
    _per_atom,
    _print_json,
    _quantity,
)


def register(sub: Any) -> None:
    """Add the ``steady`` subcommand."""
    frequency, power = _quantity("frequency"), _quantity("power")
    raw = argparse.RawDescriptionHelpFormatter

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
