"""``giantatoms presets``: list, show or export the packaged devices."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Add the ``presets`` subcommand."""
    pre = sub.add_parser("presets", help="list, show or export packaged devices")
    pre.add_argument("action", choices=["list", "show", "export"])
    pre.add_argument("name", nargs="?", default="sequential_pair")
    pre.add_argument("--to", help="export path (default NAME.toml)")
    pre.add_argument("--json", action="store_true", help="machine-readable output")
    pre.set_defaults(func=_presets)


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
