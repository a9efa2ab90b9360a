"""The markdown report: targets shown without rounding a miss into a pass, single seeds."""

from __future__ import annotations

from fixup_rl.bench.report import environment, markdown


def results(targets: list[dict], learning: list[dict]) -> dict:
    return {"environment": environment(["bench"]), "targets": targets, "learning": learning}


def row(net: str, seeds: list[int], std: float | None) -> dict:
    return {
        "algo": "ppo",
        "env_id": "Pendulum-v1",
        "budget": 100,
        "net": net,
        "depth": 8,
        "width": 64,
        "seeds": seeds,
        "final_mean": -150.0,
        "final_std": std,
        "best_mean": -120.0,
        "best_std": std,
        "curve": [],
    }


def test_a_ratio_just_past_its_limit_reads_as_a_miss() -> None:
    checks = [
        {"target": "a >= 1.2", "where": "depth 8", "value": 1.1968, "met": False},
        {"target": "b <= 1.1", "where": "depth 2", "value": 1.1012, "met": False},
        {"target": "c final return", "where": "PPO", "value": -172.04, "met": None},
    ]
    report = markdown(results(checks, []))

    assert "| a >= 1.2 | depth 8 | 1.197 | **no** |" in report  # not "1.20 | no"
    assert "| b <= 1.1 | depth 2 | 1.101 | **no** |" in report
    assert "| c final return | PPO | -172.0 | n/a |" in report


def test_one_seed_shows_no_spread() -> None:
    report = markdown(results([], [row("fixup", [0, 1], 12.5), row("none", [0], None)]))

    assert "| 2 | -150.0 ± 12.5 | -120.0 ± 12.5 |" in report
    assert "| 1 | -150.0 ± – | -120.0 ± – |" in report
    assert "sample std" in report


def test_the_command_is_quoted_as_a_shell_would_need_it() -> None:
    assert environment(["bench", "--out", "my results"])["command"] == (
        "fixup-rl bench --out 'my results'"
    )
