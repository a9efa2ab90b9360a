"""A tampered or broken export is refused with a message naming the file and the field."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
import torch
from safetensors.torch import save_file
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from fixup_rl import FixupActorCriticPolicy, FixupSACPolicy, load_policy
from fixup_rl.export import PolicyFileError, export_policy
from fixup_rl.export.weights import sha256

Spec = dict[str, Any]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export of a small normalized Fixup PPO policy on Pendulum-v1, never modified."""
    torch.set_num_threads(1)
    env = VecNormalize(DummyVecEnv([lambda: gym.make("Pendulum-v1")]))
    model = PPO(
        FixupActorCriticPolicy, env, policy_kwargs=dict(width=16, num_blocks=2), device="cpu"
    )
    return export_policy(model, tmp_path_factory.mktemp("export") / "policy", vec_normalize=env)


@pytest.fixture
def copy(exported: Path, tmp_path: Path) -> Path:
    """A copy of the export, free to break."""
    return Path(shutil.copytree(exported, tmp_path / "export"))


def _edit(folder: Path, change: Callable[[Spec], Any]) -> None:
    path = folder / "policy.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _set(*keys: str, value: Any) -> Callable[[Spec], None]:
    def change(data: Spec) -> None:
        for key in keys[:-1]:
            data = data[key]
        data[keys[-1]] = value

    return change


def _delete(*keys: str) -> Callable[[Spec], None]:
    def change(data: Spec) -> None:
        for key in keys[:-1]:
            data = data[key]
        del data[keys[-1]]

    return change


# name: (change to policy.json, the field named, what the message says)
BAD_SPECS: dict[str, tuple[Callable[[Spec], Any], str, str]] = {
    "unknown top-level key": (
        _set("code", value="import os"),
        "policy.json",
        "unknown key 'code'; accepted keys: action_space, description, format",
    ),
    "missing key": (_delete("action_space"), "policy.json", "missing key 'action_space'"),
    "other format": (_set("format", value="sb3"), "format", "expected 'fixup_rl.policy'"),
    "newer version": (_set("format_version", value=2), "format_version", "upgrade fixup_rl"),
    "unknown policy class": (
        _set("policy_class", value="os:system"),
        "policy_class",
        "expected one of 'FixupActorCriticPolicy'",
    ),
    "a builtin as policy class": (
        _set("policy_class", value="builtins.eval"),
        "policy_class",
        "got 'builtins.eval'",
    ),
    "unknown policy argument": (
        _set("policy_kwargs", "optimizer_class", value="torch.optim.Adam"),
        "policy_kwargs",
        "unknown key 'optimizer_class'",
    ),
    "net_arch for a Fixup policy": (
        _set("policy_kwargs", "net_arch", value=[64, 64]),
        "policy_kwargs",
        "unknown key 'net_arch'",
    ),
    "activation outside the allowlist": (
        _set("policy_kwargs", "activation_fn", value="os.system"),
        "policy_kwargs.activation_fn",
        "expected one of 'ReLU', 'Tanh'",
    ),
    "extractor outside the allowlist": (
        _set("policy_kwargs", "features_extractor_class", value="my.Extractor"),
        "policy_kwargs.features_extractor_class",
        "got 'my.Extractor'",
    ),
    "unknown extractor argument": (
        _set("policy_kwargs", "features_extractor_kwargs", value={"features_dim": 4}),
        "policy_kwargs.features_extractor_kwargs",
        "unknown key 'features_dim'; accepted keys: (none)",
    ),
    "width as a string": (
        _set("policy_kwargs", "width", value="16"),
        "policy_kwargs.width",
        "expected an integer >= 1, got '16'",
    ),
    "width as a bool": (
        _set("policy_kwargs", "width", value=True),
        "policy_kwargs.width",
        "expected an integer >= 1, got True",
    ),
    "num_blocks for unknown networks": (
        _set("policy_kwargs", "num_blocks", value={"pi": 2, "qf": 2}),
        "policy_kwargs.num_blocks",
        "unknown key 'qf'",
    ),
    "unknown norm": (
        _set("policy_kwargs", "norm", value="groupnorm"),
        "policy_kwargs.norm",
        "expected one of 'fixup', 'none'",
    ),
    "m of 1": (_set("policy_kwargs", "m", value=1), "policy_kwargs.m", "an integer >= 2, got 1"),
    "a huge network": (
        _set("policy_kwargs", "width", value=100_000),
        "policy_kwargs",
        "describes networks of at least",
    ),
    "unknown space": (
        _set("observation_space", "type", value="Text"),
        "observation_space.type",
        "expected one of 'Box', 'Discrete'",
    ),
    "too few bounds": (
        _set("observation_space", "low", value=[-1.0, -1.0]),
        "observation_space.low",
        "expected a list of 3 numbers",
    ),
    "NaN bound as text": (
        _set("action_space", "high", value=["nan"]),
        "action_space.high",
        "got 'nan'",
    ),
    "crossed bounds": (
        _set("action_space", "low", value=[3.0]),
        "action_space.low",
        "every lower bound must be <= its upper bound",
    ),
    "negative variance": (
        _set("observation_normalization", "var", value=[1.0, -1.0, 1.0]),
        "observation_normalization.var",
        "expected a finite number >= 0, got -1.0",
    ),
    "statistics of another shape": (
        _set("observation_normalization", "mean", value=[0.0]),
        "observation_normalization.mean",
        "expected a list of 3 numbers",
    ),
    "epsilon of zero": (
        _set("observation_normalization", "epsilon", value=0),
        "observation_normalization.epsilon",
        "expected a finite number > 0",
    ),
    "an integer beyond floats": (
        _set("observation_normalization", "clip", value=10**400),
        "observation_normalization.clip",
        "expected a finite number > 0, got 1000",
    ),
    "weights elsewhere": (
        _set("weights", "file", value="../other.safetensors"),
        "weights.file",
        "expected one of 'policy.safetensors'",
    ),
    "a digest of other weights": (
        _set("weights", "sha256", value="0" * 64),
        "weights.sha256",
        "the weights are not the ones this file describes",
    ),
    "description with a list": (
        _set("description", "notes", value=[1, 2]),
        "description.notes",
        "got [1, 2]",
    ),
}


@pytest.mark.parametrize(("change", "field", "message"), BAD_SPECS.values(), ids=list(BAD_SPECS))
def test_a_bad_policy_json_is_refused_naming_file_and_field(
    copy: Path, change: Callable[[Spec], Any], field: str, message: str
) -> None:
    _edit(copy, change)
    path = copy / "policy.json"
    where = re.escape(str(path) if field == "policy.json" else f"{path}: {field}")

    with pytest.raises(PolicyFileError, match=rf"^{where}: .*{re.escape(message)}"):
        load_policy(copy)


def _rewrite_weights(folder: Path, tensors: dict[str, torch.Tensor] | bytes) -> None:
    # New weights with a matching digest, as someone tampering with both files would write.
    path = folder / "policy.safetensors"
    if isinstance(tensors, bytes):
        path.write_bytes(tensors)
    else:
        save_file(tensors, str(path))
    _edit(folder, _set("weights", "sha256", value=sha256(path)))


def _tensors(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(folder / "policy.safetensors"))


def test_weights_of_another_shape(copy: Path) -> None:
    _edit(copy, _set("policy_kwargs", "width", value=15))

    with pytest.raises(
        PolicyFileError,
        match=r"policy\.safetensors: .*expected a torch\.float32 "
        r"tensor of shape \(15, 3\).*got torch\.float32 \(16, 3\)",
    ):
        load_policy(copy)


def test_a_missing_tensor(copy: Path) -> None:
    tensors = _tensors(copy)
    del tensors["action_net.weight"]
    _rewrite_weights(copy, tensors)

    with pytest.raises(PolicyFileError, match=r"policy\.safetensors: .*missing action_net\.weight"):
        load_policy(copy)


def test_an_unknown_tensor(copy: Path) -> None:
    _rewrite_weights(copy, {**_tensors(copy), "backdoor": torch.zeros(2)})

    with pytest.raises(PolicyFileError, match=r"policy\.safetensors: .*unknown backdoor"):
        load_policy(copy)


def test_weights_that_are_not_safetensors(copy: Path) -> None:
    _rewrite_weights(copy, b"\x80\x04not a safetensors file")

    with pytest.raises(PolicyFileError, match=r"policy\.safetensors: not a readable safetensors"):
        load_policy(copy)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON: Expecting property name"),
        ('{"format": NaN}', "not valid JSON: 'NaN' is not a number JSON allows"),
        ("[1, 2]", "expected a mapping with the keys action_space"),
    ],
    ids=["truncated", "nan", "a list"],
)
def test_a_policy_json_that_is_not_a_json_mapping(copy: Path, text: str, message: str) -> None:
    (copy / "policy.json").write_text(text)

    with pytest.raises(PolicyFileError, match=re.escape(f"{copy / 'policy.json'}: {message}")):
        load_policy(copy)


@pytest.mark.parametrize("missing", ["policy.json", "policy.safetensors"])
def test_a_missing_file(copy: Path, missing: str) -> None:
    (copy / missing).unlink()

    with pytest.raises(PolicyFileError, match=re.escape(f"{copy / missing}: missing")):
        load_policy(copy)


def test_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="no such export folder"):
        load_policy(tmp_path / "nowhere")


def test_an_off_policy_class_with_discrete_actions(tmp_path: Path) -> None:
    model = SAC(FixupSACPolicy, "Pendulum-v1", policy_kwargs=dict(width=8), device="cpu")
    export_policy(model, tmp_path)
    _edit(tmp_path, _set("action_space", value={"type": "Discrete", "n": 3, "start": 0}))

    with pytest.raises(PolicyFileError, match=r"action_space: FixupSACPolicy acts in a Box"):
        load_policy(tmp_path)
