"""A tiny sweep on a Ray started in this process: trials, run folders, table and plot."""

from __future__ import annotations

import copy
import csv
import json
from collections.abc import Iterator
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import yaml
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from fixup_rl import load_policy
from fixup_rl.cli import main
from fixup_rl.sweep import SweepResult, check_sweep, run_sweep

ray = pytest.importorskip("ray", reason="the sweep extra: pip install 'fixup-rl[sweep]'")

TINY = {
    "name": "tiny",
    "params": {
        "algo": "ppo",
        "env": "Pendulum-v1",
        "depth": {"grid": [1, 2]},
        "seed": {"grid": [0, 1]},
        "width": 16,
        "n_envs": 1,
        "n_timesteps": 256,
        "n_steps": 64,
        "batch_size": 32,
        "n_epochs": 1,
    },
    "evaluation": {"every": 128, "episodes": 1},
}


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SweepResult]:
    """The 2 × 2 tiny sweep (depth × seed), run once on a Ray of 2 CPUs started here."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)  # ray.init sets it; put back after
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=100 * 2**20,
        log_to_driver=False,
    )
    try:
        spec = check_sweep(copy.deepcopy(TINY))
        yield run_sweep(spec, tmp_path_factory.mktemp("sweeps"), verbose=0)
    finally:
        ray.shutdown()
        monkeypatch.undo()


def test_every_trial_finishes_its_budget(swept: SweepResult) -> None:
    assert swept.failed == 0
    assert [(row["depth"], row["seed"]) for row in swept.rows] == [(1, 0), (2, 0), (1, 1), (2, 1)]
    for row in swept.rows:
        assert row["status"] == "done" and row["error"] is None
        assert row["timesteps"] == 256 and row["resumed_from"] == 0
        assert (row["algo"], row["env"], row["net"], row["width"]) == (
            "ppo",
            "Pendulum-v1",
            "fixup",
            16,
        )
        assert -2000 < row["final_return"] <= 0  # Pendulum's returns
        assert row["best_return"] >= row["final_return"]  # the final evaluation is reported too


def test_the_table_is_written_as_csv_and_json(swept: SweepResult) -> None:
    with open(swept.folder / "results.csv", newline="", encoding="utf-8") as file:
        table = list(csv.DictReader(file))
    saved = json.loads((swept.folder / "results.json").read_text(encoding="utf-8"))

    assert saved == swept.rows
    assert [row["trial"] for row in table] == [row["trial"] for row in swept.rows]
    assert table[0]["trial"] == "000_depth=1,seed=0"
    assert float(table[3]["final_return"]) == pytest.approx(swept.rows[3]["final_return"])
    assert swept.plot == swept.folder / "returns_vs_depth.png"
    assert swept.plot.read_bytes().startswith(b"\x89PNG")


def test_the_sweep_as_run_is_saved(swept: SweepResult) -> None:
    saved = yaml.safe_load((swept.folder / "sweep.yaml").read_text(encoding="utf-8"))

    assert check_sweep(saved).to_data() == saved
    assert saved["params"]["depth"] == {"grid": [1, 2]}


def test_each_trial_has_a_run_folder_like_fixup_rl_train(swept: SweepResult) -> None:
    for row in swept.rows:
        run_dir = Path(row["run_dir"])
        config = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
        evaluations = np.load(run_dir / "evaluations.npz")
        final = json.loads((run_dir / "final_evaluation.json").read_text(encoding="utf-8"))

        assert run_dir.parent == swept.folder / "runs"
        assert (config["depth"], config["seed"]) == (row["depth"], row["seed"])
        assert config["device"] == "cpu"  # no GPU share: no GPU
        assert evaluations["timesteps"].tolist() == [128, 256]
        assert final["mean_return"] == pytest.approx(row["final_return"])
        assert (run_dir / "model.zip").is_file() and (run_dir / "vecnormalize.pkl").is_file()
        assert (run_dir / "best_model.zip").is_file()
        assert list((run_dir / "checkpoints").glob("model_*_steps.zip"))
        assert list((run_dir / "tensorboard").glob("ppo_1/events.out.tfevents.*"))


def test_fixup_rl_eval_reads_a_trial_run_folder(swept: SweepResult, capsys) -> None:
    run_dir = swept.rows[0]["run_dir"]

    status = main(["eval", run_dir, "--episodes", "1", "--json"])

    result = json.loads(capsys.readouterr().out)
    assert status == 0
    assert result["mean_return"] == pytest.approx(swept.rows[0]["final_return"], abs=1e-3)


def test_fixup_rl_export_reads_a_trial_run_folder(swept: SweepResult, tmp_path: Path) -> None:
    run_dir = Path(swept.rows[1]["run_dir"])

    status = main(["export", str(run_dir), "--out", str(tmp_path / "policy")])

    assert status == 0
    policy = load_policy(tmp_path / "policy")
    model = PPO.load(run_dir / "model.zip", device="cpu")
    envs = DummyVecEnv([lambda: gym.make("Pendulum-v1")])
    stats = VecNormalize.load(str(run_dir / "vecnormalize.pkl"), envs)
    obs = np.stack([model.observation_space.sample() for _ in range(4)])
    expected, _ = model.predict(stats.normalize_obs(obs), deterministic=True)
    np.testing.assert_allclose(policy.predict(obs)[0], expected, atol=1e-5)


def test_tune_keeps_its_experiment_in_the_sweep_folder(swept: SweepResult) -> None:
    trials = sorted(path.name for path in (swept.folder / "tune").iterdir() if path.is_dir())

    assert trials == [row["trial"] for row in swept.rows]
    for trial in trials:
        assert list((swept.folder / "tune" / trial).glob("checkpoint_*"))


@pytest.mark.parametrize("search", ["random", "optuna"])
def test_random_and_optuna_searches_run_the_trials_they_draw(
    swept: SweepResult, search: str, tmp_path: Path
) -> None:
    if search == "optuna":
        pytest.importorskip("optuna", reason="search: optuna needs Optuna: pip install optuna")
    data = copy.deepcopy(TINY)
    data.update(name=f"tiny-{search}", search=search, samples=2, search_seed=3)
    data["params"].update(
        depth={"choice": [1, 2]},
        seed={"randint": [0, 9]},
        learning_rate={"loguniform": [1.0e-4, 1.0e-3]},
    )

    # Ray is still up from the module's grid sweep (swept), so no second start.
    result = run_sweep(check_sweep(data), tmp_path, verbose=0)

    assert result.failed == 0
    assert len(result.rows) == 2
    for row in result.rows:
        assert row["depth"] in (1, 2)
        assert 0 <= row["seed"] <= 9
        assert 1.0e-4 <= row["learning_rate"] <= 1.0e-3
        assert row["timesteps"] == 256
    assert len({row["learning_rate"] for row in result.rows}) == 2  # two draws, not one twice


def test_a_trial_that_fails_for_good_is_a_row_with_its_error(
    swept: SweepResult, tmp_path: Path
) -> None:
    # Adam moves every weight by about the learning rate: 1e30 makes every update non-finite,
    # so the trial stops (FiniteUpdatesCallback) and, with no retries left, fails for good.
    data = copy.deepcopy(TINY)
    data.update(name="diverging", max_failures=0)
    data["params"].update(depth=1, seed=0, learning_rate=1.0e30, n_epochs=4)

    result = run_sweep(check_sweep(data), tmp_path, verbose=0)

    assert result.failed == 1
    (row,) = result.rows
    assert row["status"] == "failed"
    assert "NonFiniteUpdatesError" in row["error"] and "skipped" in row["error"]
    saved = json.loads((result.folder / "results.json").read_text(encoding="utf-8"))
    assert saved == result.rows
