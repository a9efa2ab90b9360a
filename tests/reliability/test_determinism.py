"""Same seed, same machine: the same initial weights and the same weights after training.

Checked across separate processes, as a user reruns a script, for PPO and SAC on the CPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from fixup_rl import NORMS, ResidualMLP

# Builds PPO and SAC from their recipes with the given seed, trains each briefly, and prints
# a digest of every tensor of the policy (target networks included) before and after.
SCRIPT = """
import hashlib, json, sys
import torch
from fixup_rl.agents import make_agent

def digest(model):
    sha = hashlib.sha256()
    for name, tensor in sorted(model.policy.state_dict().items()):
        sha.update(name.encode())
        sha.update(tensor.detach().cpu().numpy().tobytes())
    return sha.hexdigest()

torch.set_num_threads(1)
seed = int(sys.argv[1])
settings = {
    "ppo": dict(n_steps=64, batch_size=32, n_epochs=2),
    "sac": dict(learning_starts=64, batch_size=32, buffer_size=1000),
}
result = {}
for algo, hyperparams in settings.items():
    model, _ = make_agent(
        algo, "Pendulum-v1", seed=seed, depth=2, width=16, n_envs=1, device="cpu", **hyperparams
    )
    initial = digest(model)
    model.learn(192)
    result[algo] = [initial, digest(model)]
print(json.dumps(result))
"""


def run(seed: int) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(seed)],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def digests() -> tuple[dict, dict, dict]:
    """Digests of two processes with seed 0 and one with seed 1."""
    return run(0), run(0), run(1)


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_the_same_seed_gives_the_same_weights_in_another_process(
    digests: tuple[dict, dict, dict], algo: str
) -> None:
    first, second, _ = digests

    assert first[algo][0] == second[algo][0], "initial weights differ"
    assert first[algo][1] == second[algo][1], "trained weights differ"
    assert first[algo][0] != first[algo][1], "training changed nothing"


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_another_seed_gives_other_weights(digests: tuple[dict, dict, dict], algo: str) -> None:
    first, _, other = digests

    assert first[algo][0] != other[algo][0]
    assert first[algo][1] != other[algo][1]


@pytest.mark.parametrize("norm", NORMS)
def test_seeded_construction_reads_no_uninitialized_memory(norm: str) -> None:
    # Layers are allocated without an init (meta device, then empty memory) and every block
    # initializes them itself. Memory freed just before, filled with NaN, is what an allocation
    # of the same sizes most likely gets: a parameter left uninitialized would show it.
    def build() -> ResidualMLP:
        torch.manual_seed(0)
        return ResidualMLP(in_dim=5, width=32, num_blocks=3, norm=norm)

    expected = {name: tensor.clone() for name, tensor in build().state_dict().items()}
    for _ in range(3):
        garbage = build()
        with torch.no_grad():
            for tensor in garbage.state_dict().values():
                if tensor.is_floating_point():
                    tensor.fill_(float("nan"))
        del garbage

        rebuilt = build().state_dict()

        for name, tensor in expected.items():
            torch.testing.assert_close(rebuilt[name], tensor, rtol=0, atol=0, msg=name)
