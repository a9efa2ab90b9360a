"""The results table and the plot, from Tune's results (stand-ins here: no Ray needed)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd

from fixup_rl.sweep import check_sweep
from fixup_rl.sweep.plot import plot_returns
from fixup_rl.sweep.results import collect_rows, write_rows

SPEC = check_sweep(
    {
        "params": {
            "algo": "ppo",
            "env": "Pendulum-v1",
            "net": {"grid": ["fixup", "mlp"]},
            "depth": {"grid": [1, 4]},
            "seed": {"grid": [0, 1]},
            "learning_rate": {"grid": [1.0e-3, 3.0e-4]},
        }
    }
)


def _result(name: str, config: dict[str, Any], final: float | None, error: str = "") -> Any:
    reports = [
        {"timesteps": 100, "eval_return": -900.0},
        {"timesteps": 200, "eval_return": -500.0},
    ]
    metrics: dict[str, Any] = {"width": 64, "timesteps": 200, "start_timesteps": 100}
    if final is not None:
        reports.append({"timesteps": 200, "eval_return": final})
        metrics.update(final_return=final, final_return_std=1.0, net=config["net"])
    wrapped = RuntimeError(f"Traceback (most recent call last):\n  ...\n{error}")
    return SimpleNamespace(
        path=f"/somewhere/tune/{name}",
        config=config,
        metrics=metrics,
        error=wrapped if error else None,
        metrics_dataframe=pd.DataFrame(reports),
    )


def _config(net: str, depth: int, seed: int) -> dict[str, Any]:
    return {"algo": "ppo", "env": "Pendulum-v1", "net": net, "depth": depth, "seed": seed}


def test_rows_hold_parameters_measures_and_errors(tmp_path: Path) -> None:
    failing = {**_config("fixup", 1, 0), "learning_rate": 1.0e-3}
    results = [
        _result("001_b", {**_config("mlp", 1, 0), "learning_rate": 3.0e-4}, -300.0),
        _result("000_a", failing, None, "ValueError: x"),
    ]

    rows = collect_rows(results, SPEC, tmp_path / "runs")

    failed, done = rows  # sorted by trial name
    assert failed["trial"] == "000_a" and failed["status"] == "failed"
    assert failed["error"] == "ValueError: x"  # the last line of Tune's wrapped error
    assert failed["final_return"] is None and failed["best_return"] == -500.0
    assert done["status"] == "done" and done["error"] is None
    assert (done["net"], done["depth"], done["seed"], done["width"]) == ("mlp", 1, 0, 64)
    assert done["learning_rate"] == 3.0e-4  # a searched parameter gets a column
    assert (done["final_return"], done["best_return"], done["resumed_from"]) == (-300.0, -300, 100)
    assert done["run_dir"] == str(tmp_path / "runs" / "001_b")


def test_csv_and_json_hold_the_same_rows(tmp_path: Path) -> None:
    rows = collect_rows([_result("000", _config("fixup", 4, 1), -200.0)], SPEC, tmp_path)

    write_rows(rows, tmp_path)

    with open(tmp_path / "results.csv", newline="", encoding="utf-8") as file:
        (line,) = csv.DictReader(file)
    assert json.loads((tmp_path / "results.json").read_text(encoding="utf-8")) == rows
    assert line["trial"] == "000" and float(line["final_return"]) == -200.0
    assert list(line) == list(rows[0])


def test_plot_draws_a_line_per_network(tmp_path: Path) -> None:
    rows = []
    for net in ("fixup", "mlp"):
        for depth in (1, 4, 16):
            for seed in (0, 1):
                final = -200.0 * depth - seed if net == "mlp" else -200.0 - seed
                result = _result(f"{net}{depth}{seed}", _config(net, depth, seed), final)
                rows += collect_rows([result], SPEC, tmp_path)
    rows.append({**rows[0], "status": "failed", "final_return": None})  # left out

    assert plot_returns(rows, tmp_path / "plot.png", line_keys=["width"])
    assert (tmp_path / "plot.png").read_bytes().startswith(b"\x89PNG")


def test_no_plot_when_no_trial_finished(tmp_path: Path) -> None:
    rows = collect_rows([_result("000", _config("fixup", 1, 0), None, "E: e")], SPEC, tmp_path)

    assert not plot_returns(rows, tmp_path / "plot.png")
    assert not (tmp_path / "plot.png").exists()
