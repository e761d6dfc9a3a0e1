"""``giantatoms presets``: list, show and export, as text and JSON."""

import json

from giantatoms.cli import main


def test_presets_commands(tmp_path, capsys):
    assert main(["presets", "list"]) == 0
    assert "sequential_pair" in capsys.readouterr().out
    assert main(["presets", "show", "braided_pair"]) == 0
    assert "[[atoms]]" in capsys.readouterr().out
    target = tmp_path / "chip.toml"
    assert main(["presets", "export", "sequential_pair", "--to", str(target)]) == 0
    assert target.exists()
    capsys.readouterr()
    assert (
        main(
            [
                "reproduce",
                "--quick",
                "--quiet",
                "--device",
                str(target),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 0
    )


def test_presets_json(tmp_path, capsys):
    assert main(["presets", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert "sequential_pair" in [p["name"] for p in listing]
    assert main(["presets", "show", "sequential_pair", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["atoms"] == ["A", "B"] and "[[atoms]]" in shown["toml"]
