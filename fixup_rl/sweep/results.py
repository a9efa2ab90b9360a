"""The results table of a sweep: one row per trial, written as CSV and as JSON.

Columns: ``trial`` (the run folder's name), ``status`` (``done`` or ``failed``), ``algo``,
``env``, ``net``, ``depth``, ``width``, ``seed``, the other parameters the sweep varies,
``timesteps`` (steps trained), ``final_return`` and ``final_return_std`` (the final
evaluation), ``best_return`` (the best evaluation during training), ``resumed_from`` (the step
count of the checkpoint the trial's last attempt resumed from, 0 if it never failed),
``run_dir`` and ``error`` (the failure, in one line).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from fixup_rl.sweep.spec import SweepSpec

CSV = "results.csv"
JSON = "results.json"

METRIC = "eval_return"
"""The metric every report of a trial carries, and Tune compares trials by: the mean return
of an evaluation (the final one in the last report)."""

_NETWORK = ("algo", "env", "net", "depth", "width", "seed")
_MEASURES = ("timesteps", "final_return", "final_return_std", "best_return", "resumed_from")


def collect_rows(grid: Any, spec: SweepSpec, runs_dir: Path) -> list[dict[str, Any]]:
    """Return one row per trial of a finished Tune run, sorted by trial name.

    The network columns come from the trial's reports (the resolved configuration: the
    recipe's values for what the sweep does not set), or from its parameters when it reported
    nothing.

    :param grid: the ``ResultGrid`` of ``Tuner.fit``
    :param spec: the sweep
    :param runs_dir: the folder of the run folders
    """
    others = [key for key in spec.searched if key not in _NETWORK]
    rows = [_row(result, others, runs_dir) for result in grid]
    return sorted(rows, key=lambda row: row["trial"])


def write_rows(rows: list[dict[str, Any]], folder: Path) -> tuple[Path, Path]:
    """Write ``rows`` to ``folder/results.csv`` and ``folder/results.json``; return the paths."""
    columns = list(rows[0]) if rows else [*_NETWORK, *_MEASURES]
    with open(folder / CSV, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows({key: _cell(row[key]) for key in columns} for row in rows)
    (folder / JSON).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return folder / CSV, folder / JSON


def _row(result: Any, others: list[str], runs_dir: Path) -> dict[str, Any]:
    trial = Path(result.path).name
    run_dir = runs_dir / trial
    params = dict(result.config or {})
    metrics = result.metrics or {}

    row: dict[str, Any] = {"trial": trial, "status": "failed" if result.error else "done"}
    row.update({key: metrics.get(key, params.get(key)) for key in _NETWORK})
    row.update({key: params.get(key) for key in others})
    row["timesteps"] = metrics.get("timesteps")
    row["final_return"] = metrics.get("final_return")
    row["final_return_std"] = metrics.get("final_return_std")
    row["best_return"] = _best(result)
    row["resumed_from"] = metrics.get("start_timesteps")
    row["run_dir"] = str(run_dir)
    row["error"] = _one_line(result.error) if result.error else None
    return row


def _best(result: Any) -> float | None:
    frame = result.metrics_dataframe
    if frame is None or METRIC not in frame:
        return None
    best = frame[METRIC].max()
    return None if math.isnan(best) else float(best)


def _one_line(error: BaseException) -> str:
    # Tune wraps the trial's exception; its last line names the original one.
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value
