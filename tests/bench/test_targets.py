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


def learning_row(net: str, depth: int, mean: float, std: float | None) -> dict:
    width = 0 if net == "sb3" else 64
    return {
        "algo": "ppo",
        "env_id": "Pendulum-v1",
        "budget": 100_000,
        "net": net,
        "depth": depth,
        "width": width,
        "final_mean": mean,
        "final_std": std,
    }


def test_learning_targets_against_sb3_and_against_none() -> None:
    summary = [
        learning_row("sb3", 0, -200.0, 50.0),
        learning_row("fixup", 2, -900.0, 10.0),  # not a depth the target names
        learning_row("fixup", 8, -240.0, 30.0),  # within sb3's std: met
        learning_row("fixup", 16, -260.0, 30.0),  # more than one std below: missed
        learning_row("none", 8, -250.0, 5.0),  # not below fixup 8's mean - std (-270)
        learning_row("none", 16, -1200.0, 5.0),  # far below fixup 16: the target is met
    ]
    checks = check_targets({"learning": summary})
    found = {(c["target"], c["where"]): (c["met"], c["value"]) for c in checks}
    where = "PPO Pendulum-v1, 100000 steps"

    assert len(checks) == 4
    assert found[("fixup 8 × 64 final return >= sb3 mean - std (-250.0)", where)] == (True, -240)
    assert found[("fixup 16 × 64 final return >= sb3 mean - std (-250.0)", where)][0] is False
    none_8 = "none 8 × 64 final return < fixup 8 × 64 mean - std (-270.0)"
    none_16 = "none 16 × 64 final return < fixup 16 × 64 mean - std (-290.0)"
    assert found[(none_8, where)][0] is False
    assert found[(none_16, where)][0] is True


def test_no_learning_target_without_an_sb3_row_to_compare_with() -> None:
    checks = check_targets({"learning": [learning_row("fixup", 8, -200.0, 1.0)]})
    assert checks == []


def test_a_single_seed_is_not_judged() -> None:
    summary = [learning_row("sb3", 0, -200.0, None), learning_row("fixup", 8, -900.0, 10.0)]
    summary += [learning_row("fixup", 16, -190.0, None), learning_row("none", 16, -9.0, 1.0)]
    checks = check_targets({"learning": summary})

    assert [check["met"] for check in checks] == [None, None, None]
    assert "one seed: no std" in checks[0]["target"]


def test_fixup_is_checked_against_both_baselines() -> None:
    summary = [
        learning_row("sb3", 0, -400.0, 50.0),
        learning_row("zoo", 0, -150.0, 20.0),
        learning_row("fixup", 8, -200.0, 30.0),
    ]
    checks = check_targets({"learning": summary})
    found = {c["target"]: c["met"] for c in checks}

    assert found == {
        "fixup 8 × 64 final return >= sb3 mean - std (-450.0)": True,
        "fixup 8 × 64 final return >= zoo mean - std (-170.0)": False,
    }
