"""Bad input to ``fixup-rl``: one line on stderr naming what was wrong, exit status 2."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Trained = tuple[Path, subprocess.CompletedProcess]
Cli = Callable[..., tuple[int, str, str]]

BAD_TRAIN = {
    "unknown env": (
        ["--env", "Pendulum-v0"],
        "argument --env: must be one of the supported versioned ids, got 'Pendulum-v0'. Did you "
        "mean 'Pendulum-v1'? Accepted ids: Pendulum-v1, MountainCarContinuous-v0, CartPole-v1",
    ),
    "unknown algo": (
        ["--algo", "dqn"],
        "argument --algo: invalid choice: 'dqn' (choose from 'ppo', 'a2c', 'sac', 'td3', 'tqc')",
    ),
    "unknown net": (["--net", "resnet"], "invalid choice: 'resnet' (choose from 'fixup', 'mlp'"),
    "SAC on CartPole": (
        ["--algo", "sac", "--env", "CartPole-v1"],
        "sac needs a continuous (Box) action space but CartPole-v1 has a discrete one; "
        "use ppo or a2c for CartPole-v1",
    ),
    "zero budget": (["--timesteps", "0"], "argument --timesteps: must be an integer >= 1, got '0'"),
    "negative n_envs": (["--n-envs", "-1"], "argument --n-envs: must be an integer >= 1, got '-1'"),
    "zero depth": (["--depth", "0"], "argument --depth: must be an integer >= 1, got '0'"),
    "not a number": (["--width", "wide"], "argument --width: must be an integer >= 1, got 'wide'"),
    "bad hyperparameter": (
        ["--set", "n_steps=abc"],
        "n_steps='abc' is not accepted; expected an integer >= 1",
    ),
    "unknown hyperparameter": (["--set", "buffer_size=10"], "unknown key 'buffer_size'"),
    "a path as run name": (["--name", "a/b"], "argument --name: must be a folder name"),
}


@pytest.mark.parametrize(("args", "message"), BAD_TRAIN.values(), ids=list(BAD_TRAIN))
def test_bad_train_input_is_one_line_and_status_2(cli: Cli, args: list[str], message: str) -> None:
    status, out, err = cli("train", *args)

    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("fixup-rl train: error: ")
    assert message in err
    assert not Path("runs").exists()


def test_an_output_folder_that_cannot_be_written(cli: Cli, tiny_run: list[str]) -> None:
    Path("taken").write_text("a file, not a folder")

    status, _, err = cli(*tiny_run, "--out", "taken", "--name", "run")

    assert status == 2
    assert err == (
        "fixup-rl train: error: cannot write the run folder taken/run: taken is a file, "
        "not a folder; check --out and --name\n"
    )


def _break_config(run: Path) -> None:
    (run / "config.yaml").write_text("algo: [unclosed")


def _empty_config(run: Path) -> None:
    (run / "config.yaml").write_text("algo: ppo\n")


def _unknown_env(run: Path) -> None:
    path = run / "config.yaml"
    path.write_text(path.read_text().replace("env_id: Pendulum-v1", "env_id: Pendulum-v0"))


def _break_file(name: str) -> Callable[[Path], None]:
    return lambda run: (run / name).write_bytes(b"\x00 not what it should be")


def _remove_file(name: str) -> Callable[[Path], None]:
    return lambda run: (run / name).unlink()


BAD_RUNS = {
    "config not YAML": (_break_config, "config.yaml cannot be read as YAML"),
    "config of something else": (_empty_config, "is not a fixup-rl run configuration: it must"),
    "config with an unknown env": (_unknown_env, "got 'Pendulum-v0'. Did you mean 'Pendulum-v1'?"),
    "corrupt model": (_break_file("model.zip"), "model.zip: ValueError: Error: the file"),
    "missing model": (_remove_file("model.zip"), "holds no model.zip: the run did not finish"),
    "corrupt statistics": (_break_file("vecnormalize.pkl"), "cannot load "),
    "missing statistics": (
        _remove_file("vecnormalize.pkl"),
        "holds no vecnormalize.pkl, but its config normalizes the env",
    ),
    "missing config": (
        _remove_file("config.yaml"),
        "is not a fixup-rl run folder: config.yaml is missing",
    ),
}


@pytest.mark.parametrize(("damage", "message"), BAD_RUNS.values(), ids=list(BAD_RUNS))
def test_a_damaged_run_folder_is_one_line_and_status_2(
    trained: Trained, cli: Cli, tmp_path: Path, damage: Callable[[Path], None], message: str
) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained[0], run)
    damage(run)

    status, out, err = cli("eval", str(run))

    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("fixup-rl eval: error: ")
    assert message in err


def test_a_missing_run_folder_is_one_line_and_status_2(cli: Cli) -> None:
    status, _, err = cli("eval", "no/such/run")

    assert status == 2
    assert (
        err
        == "fixup-rl eval: error: the run folder no/such/run does not exist or is not a folder\n"
    )


def test_no_traceback_reaches_the_terminal(tmp_path: Path) -> None:
    # Failures of both commands as a user sees them: separate processes, run side by side.
    cases = [["train", "--algo", "sac", "--env", "CartPole-v1"], ["eval", "no-such-run"]]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "fixup_rl.cli", *args],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in cases
    ]
    for args, process in zip(cases, processes, strict=True):
        out, err = process.communicate(timeout=300)
        assert process.returncode == 2, (args, err)
        assert "Traceback" not in err and out == "", args
        assert err.count("\n") == 1 and err.startswith(f"fixup-rl {args[0]}: error: "), err
