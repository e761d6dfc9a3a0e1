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
    dis.add_argument("--out", default="giantatoms-distance", help="output folder")
    dis.add_argument("--no-figures", action="store_true", help="skip the PNG figure")
    dis.add_argument("--json", action="store_true", help="print a JSON summary")
    dis.set_defaults(func=_distance)


def _distance(args: argparse.Namespace) -> int:
    import numpy as np

    from giantatoms.experiments.distance import distance_study, summary_lines
    from giantatoms.units import us

    device = _load_device(args)
    if not args.storage_us > 0:
        raise ValueError(f"--storage-us must be > 0, got {args.storage_us}")
    if args.points < 2:
        raise ValueError(f"--points must be ≥ 2, got {args.points}")
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
        print(json.dumps(summary, indent=2))
        return 0
    print("\n".join(summary_lines(study)))
    for note in study.notes:
        print(f"  note: {note}")
    print(f"written to {out}: {', '.join(written)}")
    return 0
