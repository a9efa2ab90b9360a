"""The speed targets are checked against the numbers, both ways."""

from __future__ import annotations

from fixup_rl.bench.targets import check_targets


def speed_row(mode: str, batch: int, **ratios: float) -> dict:
    return {"mode": mode, "batch": batch, "depth": 8, "ratio_to_mlp": ratios}


def test_targets_met_and_missed() -> None:
    results = {
        "network_speed": {
            "rows": [
                speed_row("train", 256, fixup=1.08, layernorm=1.1, batchnorm=1.2),
                speed_row(
                    "inference",
                    1,
                    fixup=1.5,
                    fixup_folded=1.0,
                    fixup_cached=1.07,
                    layernorm=1.5,
                    batchnorm=2.0,
                ),
                speed_row("train", 16, fixup=1.3, layernorm=1.4, batchnorm=2.0),
            ]
        },
        "throughput": [
            {"algo": "ppo", "env_id": "Pendulum-v1", "depth": 2, "ratio_to_mlp": {"fixup": 0.8}}
        ],
    }
    checks = {(c["target"], c["where"]): c["met"] for c in check_targets(results)}

    assert checks[("Fixup fwd+bwd / MLP <= 1.1", "depth 8, batch 256")] is True
    assert checks[("fixup folded inference / MLP <= 1.05", "depth 8, batch 1")] is True
    assert checks[("fixup cached inference / MLP <= 1.05", "depth 8, batch 1")] is False
    assert checks[("layernorm / Fixup (inference) >= 1.2", "depth 8, batch 1")] is True
    assert checks[("layernorm / Fixup (train) >= 1.2", "depth 8, batch 16")] is False
    assert checks[("batchnorm / Fixup (train) >= 1.2", "depth 8, batch 16")] is True
    assert checks[("Fixup steps/s / MlpPolicy >= 0.9", "PPO Pendulum-v1, depth 2")] is False
