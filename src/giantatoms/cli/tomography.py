"""``giantatoms tomography``: a two-qubit state and its Bell fidelity from counts (CSV)."""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from giantatoms.cli._common import _positive_int
from giantatoms.cli._errors import _not_text, _one_line


def register(sub: Any) -> None:
    """Add the ``tomography`` subcommand."""
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
