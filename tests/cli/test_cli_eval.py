"""``fixup-rl eval``: its output, and that it reproduces the evaluation made while training."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecNormalize

from fixup_rl.envs import make_vec_env

# SB3's progress bar uses tqdm's rich bar, which warns that it is experimental.
pytestmark = pytest.mark.filterwarnings("ignore:rich is experimental")

Trained = tuple[Path, subprocess.CompletedProcess]
Cli = Callable[..., tuple[int, str, str]]


def test_eval_json_prints_one_object_on_one_line(
    trained: Trained, cli_process: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    run_dir, _ = trained

    done = cli_process("eval", str(run_dir), "--episodes", "2", "--json")

    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    result = json.loads(line)
    assert {"mean_return", "std_return", "episodes", "returns", "env_id", "algo"} <= set(result)
    assert (result["episodes"], result["env_id"], result["algo"]) == (2, "Pendulum-v1", "ppo")
    assert len(result["returns"]) == 2 and result["lengths"] == [200, 200]


def test_eval_reproduces_the_final_evaluation_of_training(trained: Trained, cli: Cli) -> None:
    run_dir, _ = trained
    during_training = json.loads((run_dir / "final_evaluation.json").read_text())

    status, out, _ = cli("eval", str(run_dir), "--episodes", "2", "--json")

    assert status == 0
    after_loading = json.loads(out)
    assert after_loading["seed"] == during_training["seed"] == 1000
    assert after_loading["returns"] == during_training["returns"]
    assert after_loading["mean_return"] == during_training["mean_return"]


def test_eval_matches_an_evaluation_with_the_saved_statistics(trained: Trained, cli: Cli) -> None:
    run_dir, _ = trained
    env = VecNormalize.load(str(run_dir / "vecnormalize.pkl"), make_vec_env("Pendulum-v1"))
    env.training, env.norm_reward = False, False
    model = PPO.load(run_dir / "model.zip", env=env, device="cpu")
    env.seed(1000)
    returns, _ = evaluate_policy(model, env, n_eval_episodes=3, return_episode_rewards=True)

    status, out, _ = cli("eval", str(run_dir), "--episodes", "3", "--json")

    assert status == 0
    assert json.loads(out)["returns"] == returns


def test_eval_prints_mean_and_std_in_one_line(trained: Trained, cli: Cli) -> None:
    run_dir, _ = trained

    status, out, _ = cli("eval", str(run_dir), "--episodes", "1", "--seed", "4")

    assert status == 0
    (line,) = out.splitlines()
    assert line.startswith("ppo (fixup) on Pendulum-v1: mean return ")
    assert line.endswith("over 1 episode (deterministic, seed 4)")


def test_stochastic_eval_is_reproducible_with_its_seed(trained: Trained, cli: Cli) -> None:
    run_dir, _ = trained
    args = ("eval", str(run_dir), "--episodes", "1", "--stochastic", "--seed", "9", "--json")

    first, second = json.loads(cli(*args)[1]), json.loads(cli(*args)[1])

    assert first["deterministic"] is False
    assert first["returns"] == second["returns"]


def test_eval_of_a_run_without_normalization(cli: Cli, tiny_run: list[str]) -> None:
    assert cli(*tiny_run, "--name", "plain")[0] == 0

    status, out, _ = cli("eval", "runs/plain", "--episodes", "1", "--json")

    assert status == 0
    assert (
        json.loads(out)["returns"]
        == json.loads(Path("runs/plain/final_evaluation.json").read_text())["returns"]
    )


def test_video_is_recorded(trained: Trained, cli: Cli) -> None:
    run_dir, _ = trained

    status, out, err = cli("eval", str(run_dir), "--episodes", "1", "--video")

    assert status == 0, err
    assert "videos in" in out
    # One file per episode: the reset after the last episode records nothing.
    assert len(list((run_dir / "videos").glob("*.mp4"))) == 1


def test_video_without_moviepy_is_refused_in_one_line(
    trained: Trained, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir, _ = trained
    monkeypatch.setitem(sys.modules, "moviepy", None)  # import moviepy now fails

    status, _, err = cli("eval", str(run_dir), "--episodes", "1", "--video")

    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith("fixup-rl eval: error: cannot record video of Pendulum-v1: ")
