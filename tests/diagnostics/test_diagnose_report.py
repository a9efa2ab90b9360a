"""The diagnose command: its report, checks, files, errors, and its wiring into another parser."""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from stable_baselines3 import PPO

from fixup_rl import FixupActorCriticPolicy
from fixup_rl.diagnostics import (
    DiagnoseConfig,
    add_diagnose_arguments,
    main,
    print_report,
    run_diagnose,
    to_json,
    write_results,
)
from fixup_rl.diagnostics.files import RESULT_FILES

# A run of the command in seconds: two depths, width 8, two norms, no ImpalaCNN.
FAST = ["--depths", "4,128", "--width", "8", "--norms", "fixup,none", "--skip-cnn"]


def test_every_check_of_the_default_depth_report_passes(report: dict[str, Any]) -> None:
    verdicts = {verdict["check"]: verdict for verdict in report["checks"]}
    assert all(verdict["passed"] for verdict in verdicts.values()), verdicts
    assert len(verdicts) == 9  # the ImpalaCNN has no "none" beyond 64 blocks to check
    assert "depth-aware learning step within ×2 across depth (SGD)" in verdicts
    assert "depth-aware learning step within ×2 across depth (Adam)" in verdicts
    assert "PPO, norm=batchnorm: batch coupling in train mode" in verdicts


def test_report_batch_coupling_per_norm(report: dict[str, Any]) -> None:
    coupled = {result["name"]: result["train"]["coupled"] for result in report["batch_coupling"]}
    assert coupled == {
        "PPO, norm=fixup": False,
        "PPO, norm=none": False,
        "PPO, norm=batchnorm": True,
        "PPO, norm=layernorm": False,
        "PPO, norm=rezero": False,
        "PPO, norm=skipinit": False,
    }


def test_json_spells_out_overflow_and_keeps_every_number(report: dict[str, Any]) -> None:
    data = json.loads(to_json(report))
    none_1024 = next(
        row
        for row in data["signal_propagation"]["mlp"]
        if row["norm"] == "none" and row["depth"] == 1024
    )
    assert none_1024["output_std"] in ("inf", "nan")
    assert len(none_1024["branch_norms"]) == 1024
    assert data["config"]["depths"] == [4, 16, 64, 256, 1024]
    assert data["config"]["learning_rates"] == {"sgd": 1e-6, "adam": 1e-5}
    assert {row["variant"] for row in data["update_size"]} == {
        "weights_only",
        "official",
        "depth_aware",
        "no_scaling",
        "none",
    }


def test_report_prints_and_plots(report: dict[str, Any], tmp_path: Path, capsys: Any) -> None:
    print_report(report)
    printed = capsys.readouterr().out
    for text in ("Signal propagation at init", "Learning step", "Batch coupling", "1024"):
        assert text in printed

    paths = write_results(report, tmp_path)
    assert sorted(path.name for path in paths) == sorted(RESULT_FILES)
    for path in paths[1:]:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_writes_the_report_and_refuses_to_overwrite_it(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "report"
    assert main([*FAST, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Diagnosed in" in printed and str(out / "diagnostics.json") in printed
    data = json.loads((out / "diagnostics.json").read_text())
    assert data["config"]["width"] == 8
    assert data["machine"]["threads"] == 1
    assert all(check["passed"] for check in data["checks"])

    assert main([*FAST, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "diagnostics.json already exists; pass --force" in error

    assert main([*FAST, "--out", str(out), "--force"]) == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--norms", "fixup,groupnorm"], "--norms: unknown norm 'groupnorm'; choose among fixup"),
        (["--depths", "4,0"], "--depths: must be integers >= 1, separated by commas, got '4,0'"),
        (["--depths", "four"], "--depths: must be integers >= 1"),
        (["--width", "0"], "--width: must be an integer >= 1, got '0'"),
        (["--batch-size", "1"], "--batch-size: must be an integer >= 2"),
        (["--model", "model.zip"], "--model needs --algo"),
        (["--algo", "ppo"], "--algo only applies to --model"),
        (["--model", "missing.zip", "--algo", "ppo"], "--model missing.zip: no such file"),
    ],
    ids=["norm", "depth", "depth-text", "width", "batch", "no-algo", "no-model", "no-file"],
)
def test_bad_arguments_fail_with_one_line(
    arguments: list[str], message: str, tmp_path: Path, capsys: Any
) -> None:
    assert main([*arguments, "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1, error
    assert message in error
    assert not (tmp_path / "out").exists()  # nothing measured, nothing written


def test_an_unwritable_out_folder_fails_with_one_line(tmp_path: Path, capsys: Any) -> None:
    a_file = tmp_path / "taken"
    a_file.write_text("not a folder")
    assert main([*FAST, "--out", str(a_file)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"cannot write to --out {a_file}" in error


def test_model_measures_the_batch_coupling_of_a_saved_model(tmp_path: Path, capsys: Any) -> None:
    model = PPO(FixupActorCriticPolicy, "Pendulum-v1", policy_kwargs=dict(norm="batchnorm"))
    model.save(tmp_path / "bn.zip")

    arguments = [*FAST, "--model", str(tmp_path / "bn.zip"), "--algo", "ppo"]
    assert main([*arguments, "--out", str(tmp_path / "out")]) == 0
    coupling = json.loads((tmp_path / "out" / "diagnostics.json").read_text())["batch_coupling"]
    assert [result["name"] for result in coupling] == ["PPO"]
    assert coupling[0]["train"]["coupled"] and coupling[0]["perturbed"]

    capsys.readouterr()
    assert main([*arguments, "--algo", "sac", "--out", str(tmp_path / "wrong")]) == 2
    assert "cannot load --model" in capsys.readouterr().err


def test_two_lines_wire_the_command_into_another_parser(tmp_path: Path) -> None:
    # What `fixup-rl diagnose` needs: a subparser, the arguments, and `args.run(args)`.
    parser = argparse.ArgumentParser(prog="fixup-rl")
    commands = parser.add_subparsers(dest="command", required=True)
    add_diagnose_arguments(commands.add_parser("diagnose"))

    args = parser.parse_args(["diagnose", *FAST, "--out", str(tmp_path)])
    assert args.run is run_diagnose
    assert args.run(args) == 0
    assert (tmp_path / "diagnostics.json").exists()


def test_quick_shrinks_the_defaults_and_explicit_options_win() -> None:
    from fixup_rl.diagnostics.cli import _config

    parser = argparse.ArgumentParser()
    add_diagnose_arguments(parser)
    quick = _config(parser.parse_args(["--quick"]))
    assert quick == DiagnoseConfig(
        depths=(4, 16, 64, 256),
        width=64,
        cnn_blocks_per_stage=(1, 2),
        coupling_batch_sizes=(1, 8, 64),
    )
    assert _config(parser.parse_args(["--quick", "--width", "32"])).width == 32
    assert _config(parser.parse_args([])) == DiagnoseConfig()


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="depths must be integers >= 1, got 0"):
        DiagnoseConfig(depths=(4, 0))
    with pytest.raises(ValueError, match="norms must name residual schemes"):
        DiagnoseConfig(norms=("fixup", "groupnorm"))
    with pytest.raises(ValueError, match="batch_size must be an integer >= 2"):
        DiagnoseConfig(batch_size=1)


def test_python_dash_m_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fixup_rl.diagnostics", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "--depths" in done.stdout and "--model" in done.stdout


def test_numbers_read_well() -> None:
    from fixup_rl.diagnostics.table import number

    assert [number(v) for v in (0.0, 0.8493, 173.2, 19500.4, 2.5e7, 3e-9)] == [
        "0",
        "0.849",
        "173",
        "19,500",
        "2.50e7",
        "3.00e-9",
    ]
    assert [number(v) for v in (math.inf, -math.inf, math.nan)] == ["inf", "-inf", "nan"]
