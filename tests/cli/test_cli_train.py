"""``fixup-rl train``: the run folder it writes, what it prints, and --force."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from stable_baselines3.common.vec_env import VecNormalize
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import fixup_rl.cli.train
from fixup_rl.agents import resolve_config
from fixup_rl.cli import main
from fixup_rl.cli.run_folder import run_name
from fixup_rl.envs import make_vec_env

# SB3's progress bar uses tqdm's rich bar, which warns that it is experimental.
pytestmark = pytest.mark.filterwarnings("ignore:rich is experimental")

Trained = tuple[Path, subprocess.CompletedProcess]
Cli = Callable[..., tuple[int, str, str]]


def test_train_writes_a_complete_run_folder(trained: Trained) -> None:
    run_dir, _ = trained

    files = ["model.zip", "vecnormalize.pkl", "config.yaml", "final_evaluation.json"]
    files += ["evaluations.npz", "best_model.zip", "best_vecnormalize.pkl"]
    for name in files:
        assert (run_dir / name).is_file(), name
    checkpoints = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert checkpoints == [
        "model_128_steps.zip",
        "model_256_steps.zip",
        "model_state_128_steps.json",
        "model_state_256_steps.json",
        "model_vecnormalize_128_steps.pkl",
        "model_vecnormalize_256_steps.pkl",
    ]
    evaluations = np.load(run_dir / "evaluations.npz")
    assert evaluations["timesteps"].tolist() == [64, 128, 192, 256]
    assert evaluations["results"].shape == (4, 2)


def test_train_logs_metrics_to_tensorboard(trained: Trained) -> None:
    run_dir, _ = trained
    (events,) = (run_dir / "tensorboard").glob("ppo_*/events.out.tfevents.*")

    tags = EventAccumulator(str(events)).Reload().Tags()["scalars"]

    assert "eval/mean_reward" in tags and "train/value_loss" in tags
    assert any(tag.startswith("fixup/") for tag in tags), tags


def test_train_saves_the_resolved_config(trained: Trained) -> None:
    run_dir, _ = trained

    config = yaml.safe_load((run_dir / "config.yaml").read_text())

    expected = resolve_config(
        "ppo",
        "Pendulum-v1",
        width=16,
        depth=1,
        n_timesteps=256,
        n_envs=1,
        n_steps=64,
        batch_size=32,
        n_epochs=1,
        normalize=True,
        tensorboard_log=str(run_dir / "tensorboard"),
    )
    assert config == expected


def test_train_prints_one_short_block_saying_where_things_are(trained: Trained) -> None:
    run_dir, done = trained

    assert "Traceback" not in done.stderr
    block = done.stdout.strip().splitlines()[-6:]
    assert block[0] == f"Training done. Run folder: {run_dir}"
    assert "model.zip, vecnormalize.pkl, config.yaml" in block[1]
    assert "evaluations.npz (4)" in block[2]
    assert "checkpoints/ (2)" in block[3]
    assert f"tensorboard --logdir {run_dir / 'tensorboard'}" in block[4]
    assert re.search(r"final return  -?\d+\.\d\d ± \d+\.\d\d over 2 episodes", block[5])


def test_saved_statistics_are_the_training_statistics(trained: Trained) -> None:
    run_dir, _ = trained

    def load(name: str) -> VecNormalize:
        return VecNormalize.load(str(run_dir / name), make_vec_env("Pendulum-v1"))

    final, last_checkpoint = (
        load("vecnormalize.pkl"),
        load("checkpoints/model_vecnormalize_256_steps.pkl"),
    )

    # No env step happens after the last checkpoint, so the statistics must be the same.
    assert final.obs_rms.count == pytest.approx(257, abs=1)  # 256 steps and the first reset
    np.testing.assert_array_equal(final.obs_rms.mean, last_checkpoint.obs_rms.mean)
    np.testing.assert_array_equal(final.obs_rms.var, last_checkpoint.obs_rms.var)
    assert not np.allclose(final.obs_rms.var, 1.0)


def test_an_existing_run_folder_is_kept_without_force(cli: Cli, tiny_run: list[str]) -> None:
    status, _, _ = cli(*tiny_run, "--name", "run")
    assert status == 0
    (Path("runs/run") / "notes.txt").write_text("keep me")

    status, _, err = cli(*tiny_run, "--name", "run")

    assert status == 2
    assert err.count("\n") == 1
    assert "runs/run already exists and is not empty; pass --force" in err
    assert (Path("runs/run") / "notes.txt").read_text() == "keep me"


def test_force_replaces_an_existing_run_folder(cli: Cli, tiny_run: list[str]) -> None:
    assert cli(*tiny_run, "--name", "run")[0] == 0
    (Path("runs/run") / "notes.txt").write_text("stale")

    status, out, _ = cli(*tiny_run, "--name", "run", "--force", "--seed", "1")

    assert status == 0, out
    assert not (Path("runs/run") / "notes.txt").exists()
    assert yaml.safe_load(Path("runs/run/config.yaml").read_text())["seed"] == 1
    assert Path("runs/run/vecnormalize.pkl").exists()  # the recipe normalizes


def test_force_never_deletes_a_folder_that_is_not_a_run(cli: Cli, tiny_run: list[str]) -> None:
    Path("runs/photos").mkdir(parents=True)
    (Path("runs/photos") / "cat.jpg").write_text("meow")

    status, _, err = cli(*tiny_run, "--name", "photos", "--force")

    assert status == 2
    assert "refusing to replace runs/photos with --force" in err
    assert (Path("runs/photos") / "cat.jpg").exists()


def test_the_default_run_name_says_what_ran(cli: Cli, tiny_run: list[str]) -> None:
    status, _, _ = cli(*tiny_run, "--seed", "3", "--net", "mlp")

    assert status == 0
    (run_dir,) = Path("runs").iterdir()
    assert re.fullmatch(r"ppo-Pendulum-v1-mlp-s3-\d{8}-\d{6}", run_dir.name)
    config = {"algo": "sac", "env_id": "fixup_rl/HopperRandomized-v0", "net": "fixup", "seed": 0}
    assert run_name(config).startswith("sac-fixup_rl_HopperRandomized-v0-fixup-s0-")


def test_no_arguments_at_all_train_the_default_recipe(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str, dict[str, Any]]] = []

    def resolve(algo: str, env_id: str, **overrides: Any) -> dict[str, Any]:
        calls.append((algo, env_id, overrides))
        raise ValueError("stop before training")

    monkeypatch.setattr(fixup_rl.cli.train, "resolve_config", resolve)

    assert main([]) == 2

    assert calls == [("ppo", "Pendulum-v1", {})]
    assert resolve_config("ppo", "Pendulum-v1")["net"] == "fixup"


def test_a_budget_before_learning_starts_is_warned_about(cli: Cli) -> None:
    status, _, err = cli(
        *[
            "train",
            "--algo",
            "sac",
            "--env",
            "Pendulum-v1",
            "--width",
            "8",
            "--depth",
            "1",
            "--timesteps",
            "50",
        ],
        *["--eval-freq", "0", "--checkpoint-freq", "0", "--eval-episodes", "1"],
    )

    assert status == 0
    assert "will not be trained" in err and "learning_starts=100" in err
