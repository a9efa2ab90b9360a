"""Reading and checking sweep files: every mistake is one clear error before any trial starts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fixup_rl.bench.grid import DEFAULT_NETS
from fixup_rl.sweep import Space, check_sweep, load_sweep, run_sweep

EXAMPLE = Path(__file__).parents[2] / "benchmarks" / "sweeps" / "depth_scaling.yaml"


def test_tiny_sweep_is_read_with_its_defaults(write_sweep, tiny_sweep) -> None:
    spec = load_sweep(write_sweep(tiny_sweep(), name="tiny"))

    assert spec.name == "tiny"  # the file's name
    assert spec.search == "grid" and spec.samples == 1
    assert spec.searched == ["depth", "seed"]
    assert spec.params["depth"] == Space("grid", (1, 2))
    assert spec.params["n_steps"] == Space("fixed", (64,))
    assert (spec.eval_every, spec.eval_episodes) == (128, 1)
    assert (spec.cpu, spec.gpu, spec.max_failures, spec.max_concurrent) == (1.0, 0.0, 2, None)


def test_a_sweep_written_back_reads_the_same(write_sweep, tiny_params) -> None:
    spec = check_sweep({"params": {**tiny_params, "depth": {"grid": [1, 2]}}})

    again = load_sweep(write_sweep(spec.to_data()))

    assert again.to_data() == spec.to_data()
    assert again.eval_every is None  # null: a tenth of each trial's budget


def test_plain_mappings_are_values_and_ranges_are_spaces(tiny_params) -> None:
    params = {
        **tiny_params,
        "learning_rate": {"loguniform": [1.0e-4, 1.0e-3]},
        "clip_range": {"schedule": "linear", "initial": 0.2},  # a value, not a space
        "depth": {"randint": [1, 4]},
        "net": {"choice": ["fixup", "mlp"]},
        "policy_kwargs": {"log_std_init": -1.0},
    }
    spec = check_sweep({"search": "random", "samples": 3, "params": params})

    assert spec.params["learning_rate"] == Space("loguniform", (1.0e-4, 1.0e-3))
    assert spec.params["clip_range"].kind == "fixed"
    assert spec.params["policy_kwargs"].kind == "fixed"
    assert spec.params["depth"].random and spec.params["net"].random
    assert spec.searched == ["learning_rate", "depth", "net"]


def test_the_example_sweep_file_is_valid() -> None:
    spec = load_sweep(EXAMPLE)

    # The benchmark's learning grid: its residual networks at its depths, three seeds.
    bench = {(net, depth) for net, depth in DEFAULT_NETS if depth > 0}  # without the baselines
    assert spec.search == "grid" and set(spec.searched) == {"net", "depth", "seed"}
    assert set(spec.params["net"].values) == {net for net, _ in bench}
    assert set(spec.params["depth"].values) == {depth for _, depth in bench}
    assert spec.params["seed"].values == (0, 1, 2)
    assert (spec.params["algo"].values, spec.params["env"].values) == (("ppo",), ("Pendulum-v1",))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"serach": "grid"}, r"unknown key 'serach' \(did you mean 'search'\?\); accepted keys"),
        ({"samples": "two"}, r"samples='two' is not accepted; expected an integer >= 1"),
        ({"search": "bayes"}, r"search='bayes' is not accepted; expected one of 'grid'"),
        ({"max_failures": -1}, r"max_failures=-1 is not accepted; expected an integer >= 0"),
        ({"resources": {"cpu": 0}}, r"resources: cpu=0 is not accepted; expected a number > 0"),
        ({"resources": {"gpus": 1}}, r"resources: unknown key 'gpus' \(did you mean 'gpu'"),
        ({"evaluation": {"every": 0}}, r"evaluation: every=0 is not accepted; expected null"),
        ({"name": "a/b"}, r"name='a/b' is not accepted; expected a folder name"),
    ],
    ids=["unknown-key", "samples-type", "search", "failures", "cpu", "gpus", "every", "name"],
)
def test_bad_top_level_values_name_the_key(write_sweep, tiny_sweep, change, message) -> None:
    path = write_sweep(tiny_sweep(**change))

    with pytest.raises(ValueError, match=message) as error:
        load_sweep(path)
    assert str(error.value).startswith(str(path))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_step": 64}, r"params: unknown key 'n_step' \(did you mean 'n_steps'\?\)"),
        ({"n_steps": 0}, r"params: n_steps=0 is not accepted; expected an integer >= 1"),
        ({"depth": {"grid": [1, "two"]}}, r"params: depth='two' is not accepted; expected an"),
        ({"env": "Pendulum-v9"}, r"params: env: .*got 'Pendulum-v9'. Did you mean 'Pendulum-v1'"),
        ({"env": {"grid": ["Pendulum-v1", "Hoper-v5"]}}, r"params: env: .*got 'Hoper-v5'"),
        ({"algo": "ppx"}, r"params: algo must be one of ppo, a2c, sac, td3, tqc, got 'ppx'"),
        ({"learning_rate": "1e-3"}, r"learning_rate='1e-3' is not accepted.*write 1.0e-3"),
        ({"tensorboard_log": "tb"}, r"params: tensorboard_log is set by the sweep"),
        ({"depth": {"grid": []}}, r"params: depth: grid=\[\] is not accepted; expected a non-em"),
        ({"depth": {"grid": [1], "choice": [2]}}, r"params: depth=.* exactly one key"),
        ({"learning_rate": {"loguniform": [0, 1]}}, r"loguniform=\[0, 1\] is not accepted"),
        ({"depth": {"randint": [4, 1]}}, r"randint=\[4, 1\] is not accepted; expected \[low, hi"),
        ({"algo": {"uniform": [0, 1]}}, r"params: algo=.* algo takes a value, \{grid: \[...\]\}"),
    ],
    ids=[
        "unknown-param",
        "wrong-value",
        "wrong-type-in-grid",
        "unknown-env",
        "unknown-env-in-grid",
        "unknown-algo",
        "string-number",
        "set-by-sweep",
        "empty-grid",
        "two-kinds",
        "loguniform-zero",
        "randint-order",
        "algo-range",
    ],
)
def test_bad_params_name_the_key_value_and_accepted(
    write_sweep, tiny_sweep, change, message
) -> None:
    data = tiny_sweep(search="random")
    data["params"].update(change)

    with pytest.raises(ValueError, match=message):
        load_sweep(write_sweep(data))


def test_algo_and_env_are_required(write_sweep, tiny_sweep) -> None:
    data = tiny_sweep()
    del data["params"]["env"]

    with pytest.raises(ValueError, match=r"params: env is missing"):
        load_sweep(write_sweep(data))


def test_a_key_of_another_algorithm_names_the_algorithm(write_sweep, tiny_sweep) -> None:
    data = tiny_sweep()
    data["params"].update(algo={"grid": ["ppo", "sac"]}, n_epochs=1)

    with pytest.raises(ValueError, match=r"params \(algo sac\): unknown key 'n_epochs'"):
        load_sweep(write_sweep(data))


def test_an_algorithm_that_cannot_act_in_the_env_is_refused(write_sweep, tiny_sweep) -> None:
    data = tiny_sweep()
    data["params"] = {"algo": "sac", "env": {"grid": ["Pendulum-v1", "CartPole-v1"]}}

    with pytest.raises(ValueError, match=r"params: sac needs a continuous .* CartPole-v1"):
        load_sweep(write_sweep(data))


def test_grid_search_refuses_random_draws_and_optuna_refuses_grids(write_sweep, tiny_sweep) -> None:
    random_in_grid = tiny_sweep()
    random_in_grid["params"]["learning_rate"] = {"uniform": [1.0e-4, 1.0e-3]}
    with pytest.raises(ValueError, match=r"is drawn at random, which search: grid does not do"):
        load_sweep(write_sweep(random_in_grid))

    with pytest.raises(ValueError, match=r"with search: optuna, which samples every parameter"):
        load_sweep(write_sweep(tiny_sweep(search="optuna")))


def test_a_file_that_is_not_yaml_says_where(write_sweep) -> None:
    path = write_sweep("params: {algo: ppo\nenv: [")

    with pytest.raises(ValueError, match=r"\(line \d+\): not valid YAML"):
        load_sweep(path)


def test_yaml_tags_are_not_executed(write_sweep) -> None:
    path = write_sweep("params: !!python/object/apply:os.system ['echo unsafe']\n")

    with pytest.raises(ValueError, match=r"not valid YAML"):
        load_sweep(path)


def test_optuna_search_without_optuna_says_how_to_install_it(
    write_sweep, tiny_sweep, monkeypatch, tmp_path
) -> None:
    data = tiny_sweep(search="optuna", samples=2)
    data["params"].update(depth={"choice": [1, 2]}, seed=0)
    spec = load_sweep(write_sweep(data))
    monkeypatch.setitem(sys.modules, "optuna", None)

    with pytest.raises(ModuleNotFoundError, match=r"search: optuna needs Optuna.*pip install"):
        run_sweep(spec, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_existing_sweep_folder_is_not_replaced_without_force(
    write_sweep, tiny_sweep, tmp_path
) -> None:
    spec = load_sweep(write_sweep(tiny_sweep(), name="tiny"))
    (tmp_path / "out" / "tiny").mkdir(parents=True)
    (tmp_path / "out" / "tiny" / "results.csv").write_text("earlier\n")

    with pytest.raises(ValueError, match=r"already exists; pass --force"):
        run_sweep(spec, tmp_path / "out")
    with pytest.raises(ValueError, match=r"holds no sweep.yaml, so it is not a sweep folder"):
        run_sweep(spec, tmp_path / "out", force=True)
    assert (tmp_path / "out" / "tiny" / "results.csv").read_text() == "earlier\n"
