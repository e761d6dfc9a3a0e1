"""``giantatoms distance``: how far apart can the atoms be? (storage with propagation delays)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from giantatoms.cli._common import _load_device


def register(sub: Any) -> None:
    """Add the ``distance`` subcommand."""
    dis = sub.add_parser(
        "distance",
        help="stored Bell fidelity against the atoms' separation, with and without delays",
        description="Stores Ψ⁻ at the decoherence-free point (giant atoms) or in the dark state "
        "(small atoms) and moves the second atom away by whole wavelengths, up to a link Γτ of "
        "--max-gamma-tau. Exact single-excitation dynamics with propagation delays "
        "(giantatoms.delay) side by side with the Markovian model. Writes distance.nc and "
        "distance.png to --out and prints a summary.",
    )
    source = dis.add_mutually_exclusive_group()
    source.add_argument("--preset", default="sequential_pair", help="packaged device name")
    source.add_argument("--device", help="device TOML file")
    dis.add_argument("--pair", nargs=2, metavar=("A", "B"), help="the two atoms")
    dis.add_argument("--max-gamma-tau", type=float, default=2.0, help="largest Γτ of the link")
    dis.add_argument("--points", type=int, default=17, help="number of separations")
    dis.add_argument("--storage-us", type=float, default=2.0, help="storage time (µs)")
    dis.add_argument(
        "--ramps-ns",
        type=float,
        nargs="+",
        default=[2.0, 5.0, 10.0, 20.0, 50.0, 100.0],
        help="ramp times of the transfer study (ns); --ramps-ns 0 skips it",
    )
    dis.add_argument("--out", default="giantatoms-distance", help="output folder")
    dis.add_argument("--no-figures", action="store_true", help="skip the PNG figure")
    dis.add_argument("--json", action="store_true", help="print a JSON summary")
    dis.set_defaults(func=_distance)


def _distance(args: argparse.Namespace) -> int:
    import numpy as np

    from giantatoms.experiments.distance import distance_study, summary_lines, transfer_study
    from giantatoms.units import us

    device = _load_device(args)
    if not args.storage_us > 0:
        raise ValueError(f"--storage-us must be > 0, got {args.storage_us}")
    if args.points < 2:
        raise ValueError(f"--points must be ≥ 2, got {args.points}")
    ramps = [r for r in args.ramps_ns if r != 0]
    if any(not r > 0 for r in ramps):
        raise ValueError(f"--ramps-ns must be > 0 ns (0 alone skips the study), got {ramps}")
    pair = tuple(args.pair) if args.pair else (0, 1)
    times = np.linspace(0.0, args.storage_us * us, 41)
    study = distance_study(
        device, times=times, pair=pair, max_gamma_tau=args.max_gamma_tau, points=args.points
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = ["distance.nc"]
    study.dataset.to_netcdf(out / "distance.nc")
    if not args.no_figures:
        from giantatoms.plotting import plot_distance, save_figure

        save_figure(plot_distance(study.dataset, title=study.device_name), out / "distance.png")
        written.append("distance.png")
    transfer = None
    if ramps:
        transfer = transfer_study(
            device, np.array(ramps) * 1e-9, store_time=args.storage_us * us / 4, pair=pair
        )
        transfer.to_netcdf(out / "transfer.nc")
        written.append("transfer.nc")
    ds = study.dataset
    if args.json:
        summary = {
            "device": study.device_name,
            "gamma_tau": ds.Gamma_tau.values.tolist(),
            "separation_m": ds.separation.values.tolist(),
            "bell_fidelity_optimized": ds.bell_fidelity_optimized[:, -1].values.tolist(),
            "markov_bell_fidelity_optimized": ds.markov_bell_fidelity_optimized[
                :, -1
            ].values.tolist(),
            "trapped_bell_fidelity_optimized": ds.trapped_bell_fidelity_optimized.values.tolist(),
            "written": [str(out / name) for name in written],
        }
        if transfer is not None:
            summary["transfer"] = {
                "ramp_time_ns": transfer.ramp_time.values.tolist(),
                "bell_fidelity_optimized": transfer.bell_fidelity_optimized[0].values.tolist(),
                "markov_bell_fidelity_optimized": transfer.markov_bell_fidelity_optimized[
                    0
                ].values.tolist(),
            }
        print(json.dumps(summary, indent=2))
        return 0
    print("\n".join(summary_lines(study)))
    if transfer is not None:
        print(
            f"transfer to the DF point (cosine ramp, then storage to "
            f"{transfer.attrs['final_time_us']:.3g} µs):"
        )
        for k, ramp in enumerate(transfer.ramp_time.values):
            exact = float(transfer.bell_fidelity_optimized[0, k])
            markov = float(transfer.markov_bell_fidelity_optimized[0, k])
            print(f"  {ramp:6.1f} ns ramp: F = {exact:.3f} with delays, {markov:.3f} Markov")
    for note in study.notes:
        print(f"  note: {note}")
    print(f"written to {out}: {', '.join(written)}")
    return 0
