"""``fixup-rl train --resume``: a run killed with SIGKILL carries on from its last checkpoint."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from stable_baselines3 import PPO, SAC
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from fixup_rl.cli.run_folder import lock_run_dir
from fixup_rl.reliability import latest_checkpoint

# SB3's progress bar uses tqdm's rich bar, which warns that it is experimental.
pytestmark = pytest.mark.filterwarnings("ignore:rich is experimental")

Cli = Callable[..., tuple[int, str, str]]
CliProcess = Callable[..., subprocess.CompletedProcess[str]]

# PPO with rollouts of 64 steps, evaluations every 64 and checkpoints every 128 steps.
RUN = shlex.split(
    "train --algo ppo --env Pendulum-v1 --width 16 --depth 1 --n-envs 1 --set n_steps=64 "
    "--set batch_size=32 --set n_epochs=1 --normalize --eval-freq 64 --eval-episodes 2 "
    "--checkpoint-freq 128"
)
SAC_RUN = shlex.split(
    "train --algo sac --env Pendulum-v1 --width 16 --depth 1 --set learning_starts=40 "
    "--set batch_size=32 --eval-freq 0 --eval-episodes 1 --checkpoint-freq 60 --timesteps 120"
)


def scalar_steps(run_dir: Path) -> dict[str, list[int]]:
    """Every scalar tag's steps over all event files of the run, file by file, unmerged."""
    steps: dict[str, list[int]] = {}
    for path in sorted(run_dir.glob("tensorboard/ppo_*/events.out.tfevents.*")):
        events = EventAccumulator(str(path), purge_orphaned_data=False).Reload()
        for tag in events.Tags()["scalars"]:
            steps.setdefault(tag, []).extend(event.step for event in events.Scalars(tag))
    return steps


def logged_past_a_checkpoint(run_dir: Path) -> bool:
    checkpoint = latest_checkpoint(run_dir / "checkpoints")
    if checkpoint is None:
        return False
    return max((max(s) for s in scalar_steps(run_dir).values()), default=0) > checkpoint.step


def kill_once_logged_past_a_checkpoint(process: subprocess.Popen, run_dir: Path) -> None:
    # Stopped first, so the condition is checked again on files that no longer change.
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be killed"
        if logged_past_a_checkpoint(run_dir):
            process.send_signal(signal.SIGSTOP)
            if logged_past_a_checkpoint(run_dir):
                process.kill()
                process.wait()
                return
            process.send_signal(signal.SIGCONT)
        time.sleep(0.05)
    pytest.fail("no TensorBoard event after a checkpoint within 240 s")


def test_a_killed_run_resumes_from_its_last_checkpoint(
    tmp_path: Path, cli_process: CliProcess
) -> None:
    run_dir = tmp_path / "run"
    killed = ["--timesteps", "100000", "--out", str(tmp_path), "--name", "run"]
    with open(tmp_path / "killed.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "fixup_rl.cli", *RUN, *killed],
            cwd=tmp_path,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        kill_once_logged_past_a_checkpoint(process, run_dir)
    step = latest_checkpoint(run_dir / "checkpoints").step
    logged = max(max(s) for s in scalar_steps(run_dir).values())
    assert step % 128 == 0 and step < logged <= step + 128  # at most 128 steps are lost

    done = cli_process("train", "--resume", str(run_dir), "--timesteps", str(step + 256))

    assert done.returncode == 0, done.stderr
    assert f"from the checkpoint of step {step} to step {step + 256}" in done.stdout
    assert PPO.load(run_dir / "model.zip").num_timesteps == step + 256
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["n_timesteps"] == step + 256
    # Checkpoints every 128 steps from the start, the last one complete.
    states = sorted(int(p.name.split("_")[2]) for p in run_dir.glob("checkpoints/*state*"))
    assert states == list(range(128, step + 257, 128))
    assert latest_checkpoint(run_dir / "checkpoints").step == step + 256
    # Every logged value once, on to the new budget.
    steps = scalar_steps(run_dir)
    for tag, tag_steps in steps.items():
        assert not [s for s, n in Counter(tag_steps).items() if n > 1], tag
    assert max(steps["eval/mean_reward"]) == step + 256
    assert sorted(steps["eval/mean_reward"]) == list(range(64, step + 257, 64))
    evaluations = np.load(run_dir / "evaluations.npz")
    assert evaluations["timesteps"].tolist() == list(range(64, step + 257, 64))
    assert evaluations["results"].shape == (len(evaluations["timesteps"]), 2)
    assert not list(run_dir.rglob(".partial-*"))


@pytest.fixture(scope="module")
def sac_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished SAC run of 120 steps with checkpoints at 60 and 120; copy it to change it."""
    out = tmp_path_factory.mktemp("sac")
    done = subprocess.run(
        [sys.executable, "-m", "fixup_rl.cli", *SAC_RUN, "--out", str(out), "--name", "sac"],
        cwd=out,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out / "sac"


def copy_run(run: Path, name: str = "sac") -> Path:
    run_dir = Path("runs") / name
    shutil.copytree(run, run_dir)
    return run_dir


def test_a_resumed_off_policy_run_keeps_its_replay_buffer(cli: Cli, sac_run: Path) -> None:
    run_dir = copy_run(sac_run)

    status, out, err = cli("train", "--resume", str(run_dir), "--timesteps", "180")

    assert status == 0, err
    assert "from the checkpoint of step 120 to step 180" in out
    checkpoint = latest_checkpoint(run_dir / "checkpoints")
    assert checkpoint.step == 180
    model = SAC.load(checkpoint.path("model"))
    model.load_replay_buffer(checkpoint.path("replay_buffer"))
    assert model.replay_buffer.pos == 180  # 120 steps from the checkpoint, 60 new ones
    assert len(list(run_dir.glob("checkpoints/*replay_buffer*"))) == 1


def test_a_run_killed_after_its_last_checkpoint_is_finished(cli: Cli, sac_run: Path) -> None:
    run_dir = copy_run(sac_run)
    (run_dir / "model.zip").unlink()  # as if killed before the final save

    status, _, err = cli("train", "--resume", str(run_dir))

    assert status == 0, err
    assert SAC.load(run_dir / "model.zip").num_timesteps == 120
    assert json.loads((run_dir / "final_evaluation.json").read_text())["episodes"] == 1


def test_a_run_being_trained_is_not_resumed_twice(cli: Cli, sac_run: Path) -> None:
    run_dir = copy_run(sac_run)
    lock = lock_run_dir(run_dir)  # as a process still training into it holds

    status, _, err = cli("train", "--resume", str(run_dir), "--timesteps", "180")
    lock.close()

    assert status == 2
    assert "runs/sac is being trained by another process right now" in err
    assert latest_checkpoint(run_dir / "checkpoints").step == 120


def damage(run_dir: Path) -> None:
    checkpoint = latest_checkpoint(run_dir / "checkpoints")
    path = checkpoint.path("replay_buffer")
    path.write_bytes(path.read_bytes()[:-10])


@pytest.mark.parametrize(
    ("prepare", "extra", "message"),
    [
        (None, [], r"the run folder runs/missing does not exist"),
        ("not a run", [], r"runs/run is not a fixup-rl run folder: config.yaml is missing"),
        ("no checkpoint", [], r"runs/sac holds no checkpoint to resume from"),
        ("finished", [], r"the run in runs/sac already finished: .* step 120 of 120; pass "),
        ("finished", ["--timesteps", "100"], r"--timesteps 100 is below the step of the latest"),
        ("finished", ["--seed", "3"], r"--seed cannot be used with --resume"),
        ("damaged", ["--timesteps", "180"], r"the checkpoint at step 120 is damaged: .* differs"),
    ],
    ids=["missing", "not-a-run", "no-checkpoint", "finished", "budget", "seed", "damaged"],
)
def test_bad_resume_input_is_one_line_and_status_2(
    cli: Cli, sac_run: Path, prepare: str | None, extra: list[str], message: str
) -> None:
    run_dir = Path("runs/missing")
    if prepare == "not a run":
        run_dir = Path("runs/run")
        run_dir.mkdir(parents=True)
        (run_dir / "notes.txt").write_text("not a run")
    elif prepare is not None:
        run_dir = copy_run(sac_run)
    if prepare == "no checkpoint":
        shutil.rmtree(run_dir / "checkpoints")
    if prepare == "damaged":
        damage(run_dir)

    status, _, err = cli("train", "--resume", str(run_dir), *extra)

    assert status == 2
    assert err.count("\n") == 1
    assert re.search(message, err), err
