"""Learning records: grid order, summaries over seeds, and a real tiny run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch

from fixup_rl.bench.grid import learning_runs, parse_net, parse_task
from fixup_rl.bench.learning import LearningRun, resolve_run, run_learning, summarize


def record(net: str, seed: int, final: float, curve: list[tuple[int, float]]) -> dict:
    return {
        "algo": "ppo",
        "env_id": "Pendulum-v1",
        "net": net,
        "depth": 2,
        "width": 64,
        "seed": seed,
        "budget": 100,
        "final_mean_return": final,
        "best_mean_return": max(r for _, r in curve),
        "curve": [{"timesteps": t, "mean_return": r} for t, r in curve],
    }


def test_summarize_groups_over_seeds() -> None:
    records = [
        record("fixup", 0, -100.0, [(50, -300.0), (100, -100.0)]),
        record("fixup", 1, -200.0, [(50, -500.0), (100, -200.0)]),
        record("none", 0, -900.0, [(50, -900.0), (100, -900.0)]),
    ]
    rows = summarize(records)

    assert [(row["net"], row["seeds"]) for row in rows] == [("fixup", [0, 1]), ("none", [0])]
    fixup = rows[0]
    assert fixup["final_mean"] == -150.0
    assert fixup["final_std"] == pytest.approx(50.0 * 2**0.5)  # the sample std over seeds
    assert fixup["best_mean"] == -150.0
    assert fixup["curve"] == [
        {"timesteps": 50, "mean": -400.0, "std": pytest.approx(100.0 * 2**0.5)},
        {"timesteps": 100, "mean": -150.0, "std": pytest.approx(50.0 * 2**0.5)},
    ]
    assert rows[1]["final_std"] is None  # one seed: no spread to report
    assert rows[1]["curve"][0]["std"] == 0.0  # and no band in the plot


def test_grid_runs_seed_by_seed() -> None:
    runs = learning_runs([("ppo", "Pendulum-v1", 100, 50)], [("sb3", 0), ("fixup", 8)], [0, 1])
    assert [(run.seed, run.net) for run in runs] == [
        (0, "sb3"),
        (0, "fixup"),
        (1, "sb3"),
        (1, "fixup"),
    ]
    assert runs[1].width == 64
    assert runs[1].name == "ppo-Pendulum-v1-fixup-d8-w64-b100-s0"


def test_sb3_default_network() -> None:
    config = resolve_run(LearningRun("sac", "Pendulum-v1", "sb3", 0, 0, 0, 100, 50))
    assert config["policy"] == "MlpPolicy"
    assert "net_arch" not in config["policy_kwargs"]
    assert "activation_fn" not in config["policy_kwargs"]


def test_zoo_baseline_undoes_the_recipe_departures() -> None:
    sb3 = resolve_run(LearningRun("ppo", "Pendulum-v1", "sb3", 0, 0, 0, 100, 50))
    zoo = resolve_run(LearningRun("ppo", "Pendulum-v1", "zoo", 0, 0, 0, 100, 50))

    assert sb3["normalize"] and "use_sde" not in sb3["hyperparams"]  # the recipe's choices
    assert zoo["normalize"] is False  # the zoo's: no VecNormalize, gSDE resampled every 4 steps
    assert (zoo["hyperparams"]["use_sde"], zoo["hyperparams"]["sde_sample_freq"]) == (True, 4)
    assert zoo["policy"] == "MlpPolicy" and zoo["net"] == "zoo"
    assert {k: v for k, v in zoo["hyperparams"].items() if "sde" not in k} == sb3["hyperparams"]


def test_zoo_baseline_builds_the_zoo_network_for_halfcheetah() -> None:
    from fixup_rl.agents import build_agent

    config = resolve_run(LearningRun("ppo", "HalfCheetah-v5", "zoo", 0, 0, 0, 100, 50))
    model, env = build_agent(config)
    env.close()

    policy_net = model.policy.mlp_extractor.policy_net
    assert [layer.out_features for layer in policy_net if isinstance(layer, torch.nn.Linear)] == [
        256,
        256,
    ]
    assert any(isinstance(layer, torch.nn.ReLU) for layer in policy_net)
    assert model.policy.log_std.detach().eq(-2.0).all()


def test_the_zoo_baseline_runs_only_where_it_differs_from_sb3() -> None:
    tasks = [("ppo", "Pendulum-v1", 100, 50), ("sac", "Pendulum-v1", 100, 50)]
    runs = learning_runs(tasks, [("sb3", 0), ("zoo", 0)], [0])
    assert [(run.algo, run.net) for run in runs] == [("ppo", "sb3"), ("ppo", "zoo"), ("sac", "sb3")]
    assert parse_net("zoo") == ("zoo", 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ppo:Pendulum-v1", "ALGO:ENV_ID:BUDGET"),
        ("dqn:Pendulum-v1:100", "algo must be one of"),
        ("ppo:Pendulum-v9:100", "Pendulum-v9"),
        ("ppo:Pendulum-v1:-5", "'-5'"),
    ],
)
def test_bad_tasks_are_refused(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse_task(text)


def test_task_and_net_parsing() -> None:
    assert parse_task("sac:Pendulum-v1:20000") == ("sac", "Pendulum-v1", 20000, 2000)
    assert parse_task("sac:Pendulum-v1:20000:500") == ("sac", "Pendulum-v1", 20000, 500)
    assert parse_net("sb3") == ("sb3", 0)
    assert parse_net("layernorm:16") == ("layernorm", 16)
    with pytest.raises(argparse.ArgumentTypeError, match="NET:DEPTH"):
        parse_net("transformer:4")
    with pytest.raises(argparse.ArgumentTypeError, match="positive integer"):
        parse_net("fixup:0")


def test_a_real_run_writes_its_record_once(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    run = LearningRun("a2c", "Pendulum-v1", "fixup", 1, 16, 0, 128, 64)
    first = run_learning(run, tmp_path)

    path = tmp_path / f"{run.name}.json"
    assert json.loads(path.read_text()) == first
    assert [point["timesteps"] for point in first["curve"]] == [64, 128]
    assert first["config"]["policy_kwargs"]["num_blocks"] == 1
    assert first["config"]["device"] == "cpu"  # never SB3's "auto", which takes a GPU
    environment = first["environment"]  # how the record was made, in the record itself
    assert environment["versions"]["torch"] == torch.__version__
    assert environment["machine"]["cpus"] >= 1
    assert environment["command"].startswith("python ")

    path.write_text(json.dumps({**first, "final_mean_return": 123.0}))
    assert run_learning(run, tmp_path)["final_mean_return"] == 123.0  # read, not rerun
