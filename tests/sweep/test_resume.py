"""A trial whose process is killed mid-run is retried by Tune and resumes from its checkpoint."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

pytest.importorskip("ray", reason="the sweep extra: pip install 'fixup-rl[sweep]'")

BUDGET = 2048
EVERY = 128  # an evaluation, and so a Tune checkpoint, every 128 steps: 16 in all


def _trial_pid(tune_dir: Path) -> int | None:
    # The worker process of the trial, once it has reported a checkpoint (Tune writes the pid
    # into every result).
    for trial in tune_dir.glob("*/"):
        results = trial / "result.json"
        if list(trial.glob("checkpoint_*")) and results.is_file():
            lines = results.read_text(encoding="utf-8").splitlines()
            if lines:
                return json.loads(lines[-1])["pid"]
    return None


def test_a_killed_trial_resumes_from_its_checkpoint(
    write_sweep, tiny_params, start_sweep, tmp_path
) -> None:
    sweep = {
        "name": "killed",
        "params": {**tiny_params, "n_timesteps": BUDGET, "depth": 1, "seed": 0},
        "evaluation": {"every": EVERY, "episodes": 1},
        "max_failures": 1,
    }
    process = start_sweep(str(write_sweep(sweep)), "--out", "out", "--num-cpus", "1")
    folder = tmp_path / "out" / "killed"

    # Kill the trial's process as soon as it has a checkpoint, long before its budget is done.
    deadline = time.monotonic() + 180
    pid = None
    while pid is None and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        pid = _trial_pid(folder / "tune")
    assert pid is not None, (tmp_path / "sweep.log").read_text(encoding="utf-8")[-3000:]
    os.kill(pid, signal.SIGKILL)

    status = process.wait(timeout=300)
    log = (tmp_path / "sweep.log").read_text(encoding="utf-8")
    assert status == 0, log[-3000:]

    # Tune retried the trial; it continued from the checkpoint's step, not from zero.
    (row,) = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert row["status"] == "done", row["error"]
    assert row["timesteps"] == BUDGET
    assert 0 < row["resumed_from"] < BUDGET
    assert row["resumed_from"] % EVERY == 0

    # The run folder holds the whole run: every evaluation once, on the steps of a run that
    # was never interrupted, and the final model.
    run_dir = Path(row["run_dir"])
    evaluations = np.load(run_dir / "evaluations.npz")
    assert evaluations["timesteps"].tolist() == list(range(EVERY, BUDGET + 1, EVERY))
    assert (run_dir / "model.zip").is_file()
    final = json.loads((run_dir / "final_evaluation.json").read_text(encoding="utf-8"))
    assert final["mean_return"] == pytest.approx(row["final_return"])

    # TensorBoard carries on in one run, each scalar logged once per step across the retry.
    assert [path.name for path in (run_dir / "tensorboard").iterdir()] == ["ppo_1"]
    steps: dict[str, list[int]] = {}
    for path in sorted(run_dir.glob("tensorboard/ppo_1/events.out.tfevents.*")):
        events = EventAccumulator(str(path), purge_orphaned_data=False).Reload()
        for tag in events.Tags()["scalars"]:
            steps.setdefault(tag, []).extend(event.step for event in events.Scalars(tag))
    assert max(steps["rollout/ep_rew_mean"]) >= BUDGET - 64
    assert all(len(values) == len(set(values)) for values in steps.values()), steps
