"""The recipe files: the shipped ones load and cover the catalogue; broken ones fail clearly."""

from __future__ import annotations

import copy
import inspect
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from fixup_rl.agents import ALGOS, RECIPES_DIR, algo_class, load_recipe, resolve_config
from fixup_rl.agents.schema import HYPERPARAMS, OFF_POLICY, ON_POLICY
from fixup_rl.envs import CATALOGUE, RANDOMIZED, mujoco_installed

REQUIRED = (
    "Pendulum-v1",
    "MountainCarContinuous-v0",
    "InvertedPendulum-v5",
    "Hopper-v5",
    "HalfCheetah-v5",
)
ALL_IDS = {**CATALOGUE, **RANDOMIZED}
CONTINUOUS_IDS = [env_id for env_id, info in ALL_IDS.items() if info.action_kind == "continuous"]

needs_mujoco = pytest.mark.skipif(not mujoco_installed(), reason="needs the mujoco package")


@pytest.mark.parametrize("algo", ALGOS)
def test_shipped_recipe_loads_and_lists_the_required_tasks(algo: str) -> None:
    recipe = load_recipe(algo)

    assert recipe.path == RECIPES_DIR / f"{algo}.yml"
    required = (*REQUIRED, "CartPole-v1") if algo in ON_POLICY else REQUIRED
    assert set(required) <= set(recipe.envs)
    assert recipe.network["net"] == "fixup"
    expected = (2, 64) if algo in ON_POLICY else (1, 256)
    assert (recipe.network["depth"], recipe.network["width"]) == expected


@pytest.mark.parametrize("algo", ALGOS)
def test_shipped_recipe_names_its_zoo_source(algo: str) -> None:
    header = (RECIPES_DIR / f"{algo}.yml").read_text().split("\n\n")[0]

    assert "rl-baselines3-zoo" in header
    assert re.search(
        rf"DLR-RM/rl-baselines3-zoo/blob/[0-9a-f]{{40}}/hyperparams/{algo}\.yml", header
    )


@pytest.mark.parametrize("algo", ALGOS)
def test_recipe_keys_are_arguments_of_the_algorithm(algo: str) -> None:
    parameters = inspect.signature(algo_class(algo).__init__).parameters

    assert set(HYPERPARAMS[algo]) <= set(parameters)


@needs_mujoco
@pytest.mark.parametrize("algo", ALGOS)
def test_every_supported_task_resolves_to_plain_data(algo: str) -> None:
    ids = CONTINUOUS_IDS if algo in OFF_POLICY else list(ALL_IDS)
    for env_id in ids:
        config = resolve_config(algo, env_id)

        assert yaml.safe_load(yaml.safe_dump(config)) == config, env_id
        assert config["n_timesteps"] >= 1


@needs_mujoco
def test_a_randomized_task_uses_the_recipe_of_its_base_task() -> None:
    randomized = resolve_config("sac", "fixup_rl/HopperRandomized-v0")
    base = resolve_config("sac", "Hopper-v5")

    assert randomized["recipe"] == "Hopper-v5"
    assert randomized["hyperparams"] == base["hyperparams"]
    assert randomized["env_id"] == "fixup_rl/HopperRandomized-v0"


@needs_mujoco
def test_an_unlisted_task_uses_the_default_entry() -> None:
    config = resolve_config("td3", "Walker2d-v5")

    assert config["recipe"] == "default"
    assert config["hyperparams"]["learning_starts"] == 10000


# A small valid recipe; each case below breaks one thing in it.
VALID: dict[str, Any] = {
    "network": {"net": "fixup", "depth": 2, "width": 64},
    "default": {"n_timesteps": 1000},
    "envs": {"Pendulum-v1": {"n_timesteps": 1000, "n_steps": 64}},
}


def _broken(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


BROKEN = {
    "unknown key": (
        _broken(("envs", "Pendulum-v1", "n_stepz"), 64),
        r"ppo\.yml: entry 'Pendulum-v1': unknown key 'n_stepz' \(did you mean 'n_steps'\?\); "
        r"accepted keys: .*n_steps",
    ),
    "bad integer": (
        _broken(("envs", "Pendulum-v1", "n_steps"), -3),
        r"ppo\.yml: entry 'Pendulum-v1': n_steps=-3 is not accepted; expected an integer >= 1",
    ),
    "number read as a string": (
        _broken(("envs", "Pendulum-v1", "learning_rate"), "1e-3"),
        r"learning_rate='1e-3' is not accepted; .* write 1\.0e-3",
    ),
    "zoo schedule string": (
        _broken(("envs", "Pendulum-v1", "learning_rate"), "lin_7.3e-4"),
        r"learning_rate='lin_7\.3e-4' is not accepted; expected a number > 0, or "
        r"\{schedule: linear",
    ),
    "zoo policy_kwargs string": (
        _broken(("envs", "Pendulum-v1", "policy_kwargs"), "dict(log_std_init=-2)"),
        r"entry 'Pendulum-v1': policy_kwargs: expected a mapping",
    ),
    "net_arch in policy_kwargs": (
        _broken(("envs", "Pendulum-v1", "policy_kwargs"), {"net_arch": [64, 64]}),
        r"net_arch=\[64, 64\] is not accepted; the network comes from net, depth and width",
    ),
    "hyperparameter of another algorithm": (
        _broken(("envs", "Pendulum-v1", "buffer_size"), 1000),
        r"entry 'Pendulum-v1': unknown key 'buffer_size'",
    ),
    "unknown net": (
        _broken(("network", "net"), "resnet"),
        r"ppo\.yml: network: net='resnet' is not accepted; expected one of 'fixup', 'mlp'",
    ),
    "unknown env id": (
        _broken(("envs", "Pendulum-v0"), {"n_timesteps": 10}),
        r"envs: 'Pendulum-v0' is not a supported env id \(did you mean 'Pendulum-v1'\?\)",
    ),
    "bad normalize": (
        _broken(("default", "normalize"), {"norm_obs": True}),
        r"entry 'default': normalize=\{'norm_obs': True\} is not accepted; expected false, true",
    ),
    "missing budget": (
        _broken(("envs", "Pendulum-v1"), {"n_steps": 64}),
        r"entry 'Pendulum-v1' must set n_timesteps",
    ),
    "missing top-level key": (
        {"network": VALID["network"], "envs": VALID["envs"]},
        r"must be a mapping with exactly the keys network, default, envs",
    ),
}


@pytest.mark.parametrize(("data", "match"), list(BROKEN.values()), ids=list(BROKEN))
def test_a_broken_recipe_names_file_entry_key_and_value(
    tmp_path: Path, data: dict[str, Any], match: str
) -> None:
    (tmp_path / "ppo.yml").write_text(yaml.safe_dump(data))

    with pytest.raises(ValueError, match=match):
        load_recipe("ppo", tmp_path)


def test_a_valid_small_recipe_loads(tmp_path: Path) -> None:
    (tmp_path / "ppo.yml").write_text(yaml.safe_dump(VALID))

    assert load_recipe("ppo", tmp_path).envs["Pendulum-v1"] == {"n_timesteps": 1000, "n_steps": 64}


def test_an_off_policy_recipe_cannot_list_a_discrete_task(tmp_path: Path) -> None:
    data = copy.deepcopy(VALID)
    data["envs"] = {"CartPole-v1": {"n_timesteps": 10}}
    (tmp_path / "sac.yml").write_text(yaml.safe_dump(data))

    with pytest.raises(ValueError, match=r"sac\.yml: envs: CartPole-v1 has a discrete action"):
        load_recipe("sac", tmp_path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("network: [unclosed", r"ppo\.yml \(line \d+\): not valid YAML"),
        ("!!python/object/apply:os.system ['true']", r"ppo\.yml \(line 1\): not valid YAML"),
        ("- just\n- a list\n", r"must be a mapping with exactly the keys"),
    ],
    ids=["syntax", "python tag", "not a mapping"],
)
def test_a_file_that_is_not_a_recipe_fails_clearly(tmp_path: Path, text: str, match: str) -> None:
    (tmp_path / "ppo.yml").write_text(text)

    with pytest.raises(ValueError, match=match):
        load_recipe("ppo", tmp_path)


def test_a_missing_recipe_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"cannot read the td3 recipe file .*td3\.yml"):
        load_recipe("td3", tmp_path)


def test_resolve_config_reads_an_overridden_recipe_folder(recipes_copy: Path) -> None:
    path = recipes_copy / "ppo.yml"
    path.write_text(path.read_text().replace("n_steps: 1024", "n_steps: 96"))

    config = resolve_config("ppo", "Pendulum-v1", recipes_dir=recipes_copy)

    assert config["hyperparams"]["n_steps"] == 96
    assert resolve_config("ppo", "Pendulum-v1")["hyperparams"]["n_steps"] == 1024
