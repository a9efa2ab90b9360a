"""``fixup-rl export``: a run's policy as JSON and safetensors, acting exactly like its model."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from fixup_rl import load_policy

Trained = tuple[Path, subprocess.CompletedProcess]
Cli = Callable[..., tuple[int, str, str]]

MODEL_FILES = {
    "final": ("model.zip", "vecnormalize.pkl"),
    "best": ("best_model.zip", "best_vecnormalize.pkl"),
}


def _observations(count: int = 64) -> np.ndarray:
    env = gym.make("Pendulum-v1")
    env.action_space.seed(0)
    observation, _ = env.reset(seed=0)
    observations = []
    for _ in range(count):
        observations.append(observation)
        observation, *_ = env.step(env.action_space.sample())
    return np.stack(observations)


def _run_copy(trained: Trained, tmp_path: Path) -> Path:
    run, _ = trained
    return Path(shutil.copytree(run, tmp_path / "run", ignore=shutil.ignore_patterns("export")))


@pytest.mark.parametrize("which", ["final", "best"])
def test_export_acts_like_the_saved_model_and_statistics(
    cli: Cli, trained: Trained, tmp_path: Path, which: str
) -> None:
    run = _run_copy(trained, tmp_path)

    status, out, err = cli("export", str(run), "--model", which)

    folder = run / "export" / which
    assert status == 0, err
    assert str(folder) in out and "fixup_rl.load_policy(" in out
    assert sorted(path.name for path in folder.iterdir()) == ["policy.json", "policy.safetensors"]
    description = json.loads((folder / "policy.json").read_text())["description"]
    assert description["model"] == which and description["env_id"] == "Pendulum-v1"

    # The run's own files, loaded the trusted way, decide what the export must do.
    model_file, stats_file = MODEL_FILES[which]
    stats = VecNormalize.load(str(run / stats_file), DummyVecEnv([lambda: gym.make("Pendulum-v1")]))
    model = PPO.load(run / model_file, device="cpu")
    observations = _observations()
    expected, _ = model.predict(stats.normalize_obs(observations), deterministic=True)

    actual, _ = load_policy(folder).predict(observations)

    np.testing.assert_array_equal(actual, expected)
    if which == "final":  # trained for 256 steps; the best model may be the untrained one
        assert len(np.unique(actual)) > 1


def test_out_and_force(cli: Cli, trained: Trained, tmp_path: Path) -> None:
    run = _run_copy(trained, tmp_path)
    out = tmp_path / "shared" / "pendulum"

    first = cli("export", str(run), "--out", str(out))
    again = cli("export", str(run), "--out", str(out))
    forced = cli("export", str(run), "--out", str(out), "--force")

    assert first[0] == 0 and forced[0] == 0
    assert again[0] == 2
    assert again[2] == (
        f"fixup-rl export: error: {out} already holds an export; pass force=True (--force) to "
        "replace it\n"
    )
    assert load_policy(out).normalization is not None


def _remove(name: str) -> Callable[[Path], None]:
    return lambda run: (run / name).unlink()


def _corrupt(name: str) -> Callable[[Path], None]:
    return lambda run: (run / name).write_bytes(b"not a pickle")


BAD_RUNS: dict[str, tuple[Callable[[Path], None], list[str], str]] = {
    "no best model": (
        _remove("best_model.zip"),
        ["--model", "best"],
        "holds no best_model.zip (the run made no periodic evaluation)",
    ),
    "no statistics": (
        _remove("vecnormalize.pkl"),
        [],
        "holds no vecnormalize.pkl, but its config normalizes the env",
    ),
    "corrupt statistics": (
        _corrupt("vecnormalize.pkl"),
        [],
        "cannot load {run}/vecnormalize.pkl: UnpicklingError",
    ),
    "corrupt model": (_corrupt("model.zip"), [], "cannot load {run}/model.zip"),
    "an unwritable output": (
        lambda run: (run / "export").write_text("a file"),
        [],
        "cannot export into {run}/export/final",
    ),
}


@pytest.mark.parametrize(("damage", "args", "message"), BAD_RUNS.values(), ids=list(BAD_RUNS))
def test_a_bad_run_is_one_line_and_status_2(
    cli: Cli,
    trained: Trained,
    tmp_path: Path,
    damage: Callable[[Path], None],
    args: list[str],
    message: str,
) -> None:
    run = _run_copy(trained, tmp_path)
    damage(run)

    status, out, err = cli("export", str(run), *args)

    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("fixup-rl export: error: ")
    assert message.format(run=run) in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere"], "the run folder nowhere does not exist or is not a folder"),
        (
            ["nowhere", "--model", "last"],
            "argument --model: invalid choice: 'last' (choose from 'final', 'best')",
        ),
    ],
    ids=["missing run", "unknown model"],
)
def test_bad_arguments(cli: Cli, args: list[str], message: str) -> None:
    status, _, err = cli("export", *args)

    assert status == 2
    assert message in err
