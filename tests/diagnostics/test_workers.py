"""Diagnostics in worker processes: the same report as in one process, from every entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixup_rl.diagnostics import DiagnoseConfig, run_diagnostics
from fixup_rl.diagnostics.cli import MAX_DEFAULT_WORKERS, default_workers

SMALL = DiagnoseConfig(
    depths=(4, 16),
    width=8,
    norms=("fixup", "none", "batchnorm"),
    cnn_blocks_per_stage=(1,),
    coupling_batch_sizes=(1, 8),
)


def measured(report: dict[str, Any]) -> str:
    """The report without its timings, as comparable text."""
    return json.dumps({k: v for k, v in report.items() if k != "seconds"}, sort_keys=True)


def test_two_workers_measure_exactly_what_one_process_does() -> None:
    lines: list[str] = []
    alone = run_diagnostics(SMALL)
    side_by_side = run_diagnostics(SMALL, progress=lines.append, workers=2)

    assert measured(side_by_side) == measured(alone)
    networks = 2 * len(SMALL.norms) + len(SMALL.norms)  # two depths and one ImpalaCNN size
    signal = alone["signal_propagation"]
    assert len(signal["mlp"]) + len(signal["cnn"]) == networks
    # Four Fixup variants and "none", each under two optimizers, at each of the two depths.
    steps = 2 * 2 * (4 + 1)
    assert len(alone["update_size"]) == steps
    assert sum(line.startswith("measured ") for line in lines) == networks + steps


def test_workers_must_be_a_positive_integer() -> None:
    with pytest.raises(ValueError, match="workers must be an integer >= 1, got 0"):
        run_diagnostics(SMALL, workers=0)


def test_the_default_uses_the_cpus_up_to_the_cap() -> None:
    assert 1 <= default_workers() <= MAX_DEFAULT_WORKERS


def test_python_dash_m_runs_with_workers(tmp_path: Path) -> None:
    # Spawned workers import the main module again: an unguarded __main__ would rerun there.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fixup_rl.diagnostics",
            *("--depths", "4,16", "--width", "8", "--norms", "fixup,none", "--skip-cnn"),
            *("--workers", "2", "--out", str(tmp_path / "report")),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "report" / "diagnostics.json").read_text())
    assert data["machine"]["workers"] == 2
    assert {(row["norm"], row["depth"]) for row in data["signal_propagation"]["mlp"]} == {
        ("fixup", 4),
        ("none", 4),
        ("fixup", 16),
        ("none", 16),
    }
