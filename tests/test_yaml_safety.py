"""Configuration files never execute code: every YAML reader refuses Python tags."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from fixup_rl.agents import load_recipe, resolve_config
from fixup_rl.cli import main
from fixup_rl.cli.run_folder import read_config

# Under yaml.load with an unsafe loader, this would create the file "pwned".
PAYLOAD = '!!python/object/apply:os.system ["touch pwned"]'


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_a_recipe_with_a_python_tag_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ppo.yml").write_text(
        f"network: {{net: fixup, depth: 1, width: 8}}\n"
        f"default: {{n_timesteps: {PAYLOAD}}}\n"
        "envs: {}\n"
    )

    with pytest.raises(
        ValueError,
        match=r"ppo\.yml \(line 2\): not valid YAML: could not "
        r"determine a constructor for the tag",
    ):
        load_recipe("ppo", tmp_path)
    with pytest.raises(ValueError, match="constructor for the tag"):
        resolve_config("ppo", "Pendulum-v1", recipes_dir=tmp_path)

    assert not Path("pwned").exists()


def test_a_run_config_with_a_python_tag_is_refused(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(f"algo: ppo\nenv_id: {PAYLOAD}\n")

    with pytest.raises(
        ValueError, match=r"config\.yaml cannot be read as YAML \(ConstructorError\)"
    ):
        read_config(run)

    assert not Path("pwned").exists()


def test_a_set_value_with_a_python_tag_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["train", "--set", f"n_steps={PAYLOAD}", "--timesteps", "64"])

    err = capsys.readouterr().err
    assert status == 2
    assert "argument --set: n_steps: " in err and "is not a YAML value" in err
    assert not Path("pwned").exists() and not Path("runs").exists()


def test_such_a_tag_runs_code_under_an_unsafe_loader() -> None:
    # What the readers are protected from, shown with a harmless function.
    harmless = "!!python/object/apply:len [[1, 2, 3]]"

    assert yaml.unsafe_load(harmless) == 3
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.safe_load(harmless)


def test_no_source_file_reads_yaml_unsafely() -> None:
    # Every YAML reader, present and future (sweep files too), goes through yaml.safe_load.
    root = Path(__file__).resolve().parent.parent
    unsafe = {"yaml.load", "yaml.unsafe_load", "yaml.full_load", "yaml.load_all", "yaml.Loader"}

    for folder in ("fixup_rl", "agents", "envs", "benchmarks"):
        for path in (root / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            names = {
                ast.unparse(node) for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            }
            assert not names & unsafe, f"{path} uses {names & unsafe}"
