"""What ``export_policy`` writes, and what it refuses to export."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import PPO, TD3
from torch import nn

import fixup_rl
from fixup_rl import FixupActorCriticPolicy, FixupMultiInputActorCriticPolicy, FixupTD3Policy
from fixup_rl.export import export_policy, load_policy
from fixup_rl.export import writer as writer_module


def _ppo(**policy_kwargs: object) -> PPO:
    kwargs = dict(width=8, num_blocks=1, **policy_kwargs)
    return PPO(FixupActorCriticPolicy, "Pendulum-v1", policy_kwargs=kwargs, device="cpu")


def test_policy_json_describes_the_architecture(tmp_path: Path) -> None:
    model = TD3(
        FixupTD3Policy,
        "Pendulum-v1",
        policy_kwargs=dict(width=dict(pi=8, qf=16), num_blocks=3, m=3, norm="rezero"),
        device="cpu",
    )

    export_policy(model, tmp_path, description={"env_id": "Pendulum-v1", "note": "for people"})

    data = json.loads((tmp_path / "policy.json").read_text())
    assert data["policy_class"] == "FixupTD3Policy"
    assert data["policy_kwargs"] == {
        "normalize_images": True,
        "activation_fn": "ReLU",
        "n_critics": 2,
        "share_features_extractor": False,
        "num_blocks": 3,
        "width": {"pi": 8, "qf": 16},
        "m": 3,
        "norm": "rezero",
        "features_extractor_class": "stable_baselines3.FlattenExtractor",
        "features_extractor_kwargs": {},
    }
    assert data["action_space"] == {
        "type": "Box",
        "shape": [1],
        "dtype": "float32",
        "low": [-2.0],
        "high": [2.0],
    }
    assert data["observation_normalization"] is None
    description = data["description"]
    assert description["algo"] == "td3" and description["squash_output"] is True
    assert description["env_id"] == "Pendulum-v1" and description["note"] == "for people"
    assert description["versions"]["fixup_rl"] == fixup_rl.__version__


def test_infinite_bounds_are_written_as_strings(tmp_path: Path) -> None:
    model = PPO(FixupActorCriticPolicy, "CartPole-v1", policy_kwargs=dict(width=8), device="cpu")

    export_policy(model, tmp_path)

    text = (tmp_path / "policy.json").read_text()
    assert "Infinity" not in text
    space = load_policy(tmp_path).observation_space
    assert space == model.observation_space


class _Subclass(FixupActorCriticPolicy):
    pass


def _activation_outside_the_allowlist() -> PPO:
    return _ppo(activation_fn=nn.Hardtanh)


REFUSED: dict[str, tuple[Callable[[], PPO], str]] = {
    "a subclass of a policy": (
        lambda: PPO(_Subclass, "Pendulum-v1", policy_kwargs=dict(width=8), device="cpu"),
        r"cannot export a policy with the policy class .*_Subclass; exportable: "
        "FixupActorCriticPolicy",
    ),
    "an activation outside the allowlist": (
        _activation_outside_the_allowlist,
        r"cannot export a policy with the activation .*Hardtanh.*; exportable: ReLU, Tanh",
    ),
}


@pytest.mark.parametrize(("build", "message"), REFUSED.values(), ids=list(REFUSED))
def test_what_cannot_be_exported_is_refused(
    tmp_path: Path, build: Callable[[], PPO], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        export_policy(build(), tmp_path / "export")

    assert not (tmp_path / "export").exists()


def test_dict_observations_are_refused(tmp_path: Path, spaces_env: Callable[..., object]) -> None:
    env = spaces_env(
        spaces.Dict({"a": spaces.Box(-1, 1, (2,)), "b": spaces.Discrete(3)}),
        spaces.Box(-1, 1, (1,)),
    )
    model = PPO(FixupMultiInputActorCriticPolicy, env, policy_kwargs=dict(width=8), device="cpu")

    with pytest.raises(ValueError, match="cannot export a policy with the policy class"):
        export_policy(model, tmp_path / "export")


def test_an_existing_export_is_replaced_only_with_force(tmp_path: Path) -> None:
    first, second = _ppo(), _ppo(norm="layernorm")
    export_policy(first, tmp_path)

    with pytest.raises(ValueError, match=r"already holds an export; pass force=True"):
        export_policy(second, tmp_path)
    export_policy(second, tmp_path, force=True)

    assert json.loads((tmp_path / "policy.json").read_text())["policy_kwargs"]["norm"] == (
        "layernorm"
    )


def test_a_folder_with_other_files_is_never_used(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")

    with pytest.raises(ValueError, match=r"holds other files than policy\.json"):
        export_policy(_ppo(), tmp_path, force=True)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_vec_normalize_must_be_a_vec_normalize(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"vec_normalize must be a VecNormalize wrapper or None"):
        export_policy(_ppo(), tmp_path, vec_normalize="stats.pkl")  # type: ignore[arg-type]


def test_an_export_that_acts_otherwise_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_if_trained: Callable[..., None]
) -> None:
    # The check export_policy makes before returning can fail: here the loaded copy is changed.
    model = _ppo()
    as_if_trained(model, model.get_env())

    def load_and_change(path: Path) -> object:
        policy = load_policy(path)
        with torch.no_grad():
            policy.policy.action_net.bias.add_(0.5)
        return policy

    monkeypatch.setattr(writer_module, "load_policy", load_and_change)

    with pytest.raises(RuntimeError, match="does not act like the model"):
        export_policy(model, tmp_path)

    assert list(tmp_path.iterdir()) == []
    assert np.isfinite(model.predict(np.zeros(3, np.float32))[0]).all()
