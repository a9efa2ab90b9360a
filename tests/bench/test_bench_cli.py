"""``fixup-rl bench --quick``: every part runs and writes its files (no timings asserted)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from PIL import Image

from fixup_rl.cli import main


@pytest.fixture(autouse=True)
def _restore_threads() -> None:
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_quick_bench_writes_every_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "--quick", "--out", str(tmp_path)]) == 0

    names = {path.name for path in tmp_path.iterdir()}
    assert {"bench.json", "bench.md", "network_speed.png", "throughput.png"} <= names
    assert {"learning.png", "learning"} <= names
    for plot in ("network_speed.png", "throughput.png", "learning.png"):
        assert (tmp_path / plot).read_bytes()[:4] == b"\x89PNG"
        with Image.open(tmp_path / plot) as image:  # how it was made, in the file itself
            assert image.info["Description"].startswith(f"fixup-rl bench --quick --out {tmp_path}")
            assert f"torch {torch.__version__}" in image.info["Description"]

    results = json.loads((tmp_path / "bench.json").read_text())
    assert results["quick"] is True
    assert results["environment"]["versions"]["torch"] == torch.__version__
    assert results["environment"]["command"] == f"fixup-rl bench --quick --out {tmp_path}"
    rows = results["network_speed"]["rows"]
    assert {(row["batch"], row["mode"]) for row in rows} == {
        (1, "inference"),
        (1, "train"),
        (16, "inference"),
        (16, "train"),
    }
    assert all(math.isfinite(r) and r > 0 for row in rows for r in row["ratio_to_mlp"].values())
    assert [row["algo"] for row in results["throughput"]] == ["ppo", "sac"]
    assert all(
        rate > 0 for row in results["throughput"] for rate in row["cpu_steps_per_s"].values()
    )
    assert sorted(row["net"] for row in results["learning"]) == ["fixup", "sb3"]
    assert results["targets"] and all(isinstance(c["met"], bool) for c in results["targets"])
    record = next((tmp_path / "learning").glob("*.json"))
    assert json.loads(record.read_text())["environment"] == results["environment"]

    report = (tmp_path / "bench.md").read_text()
    for section in (
        "## Targets",
        "## Network speed",
        "## Training throughput",
        "## Learning",
    ):
        assert section in report


def test_report_only_trains_nothing(tmp_path: Path) -> None:
    args = ["bench", "--parts", "learning", "--report-only", "--out", str(tmp_path)]
    assert main([*args, "--task", "ppo:Pendulum-v1:100", "--net", "fixup:2"]) == 0
    assert not (tmp_path / "learning").exists()
    assert json.loads((tmp_path / "bench.json").read_text())["learning"] == []


def test_report_only_runs_no_other_part(tmp_path: Path) -> None:
    assert main(["bench", "--report-only", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "bench.json").read_text())
    assert "network_speed" not in results and "throughput" not in results
    assert results["learning"] == []


@pytest.fixture
def learning_runs_seen(monkeypatch: pytest.MonkeyPatch) -> list:
    """The runs ``fixup-rl bench`` asks for, each answered with a made-up record."""
    seen = []

    def fake(run, *args) -> dict:
        seen.append(run)
        return {
            **run.__dict__,
            "final_mean_return": -100.0 - run.seed,
            "best_mean_return": -100.0,
            "curve": [{"timesteps": run.budget, "mean_return": -100.0 - run.seed}],
        }

    monkeypatch.setattr("fixup_rl.bench.cli.run_learning", fake)
    return seen


def test_a_task_or_net_given_twice_runs_once(tmp_path: Path, learning_runs_seen: list) -> None:
    seen = learning_runs_seen
    task, net = ["--task", "ppo:Pendulum-v1:100"], ["--net", "fixup:2"]
    args = ["bench", "--parts", "learning", "--seeds", "2", "--out", str(tmp_path)]
    assert main([*args, *task, *task, *net, *net]) == 0
    assert [(run.net, run.seed) for run in seen] == [("fixup", 0), ("fixup", 1)]
    assert json.loads((tmp_path / "bench.json").read_text())["learning"][0]["seeds"] == [0, 1]


def test_quick_takes_the_seeds_it_is_given(tmp_path: Path, learning_runs_seen: list) -> None:
    seen = learning_runs_seen
    args = ["bench", "--quick", "--parts", "learning", "--net", "fixup:2", "--out", str(tmp_path)]
    assert main([*args, "--seeds", "2"]) == 0
    assert [run.seed for run in seen] == [0, 1]


def test_a_failing_part_keeps_the_parts_before_it(tmp_path: Path, monkeypatch) -> None:
    def fail(*args) -> None:
        raise RuntimeError("the throughput part broke")

    monkeypatch.setattr("fixup_rl.bench.cli.measure_throughput", fail)
    with pytest.raises(RuntimeError, match="throughput part broke"):
        main(["bench", "--quick", "--parts", "speed,throughput", "--out", str(tmp_path)])
    assert json.loads((tmp_path / "bench.json").read_text())["network_speed"]["rows"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--parts", "learning", "--task", "sac:CartPole-v1:10", "--net", "sb3"],
            "--task sac:CartPole-v1:10 with --net sb3: sac needs a continuous (Box) action",
        ),
        (
            ["--task", "ppo:Pendulum-v1:100:50", "--task", "ppo:Pendulum-v1:100:20"],
            "--task ppo:Pendulum-v1:100 is given with two evaluation intervals (50 and 20)",
        ),
        (["--report-only", "--parts", "speed"], "--report-only summarizes the learning"),
        (["--parts", "speed,gpu"], "--parts: must be a comma-separated list"),
        (["--seeds", "0"], "--seeds: must be a positive integer, got '0'"),
        (["--task", "ppo:Nope-v0:10"], "--task"),
        (["--net", "fixup"], "--net"),
        (["--device", "tpu"], "--device"),
    ],
)
def test_bad_options_are_one_line_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture
) -> None:
    assert main(["bench", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_an_out_folder_that_is_a_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    taken = tmp_path / "results"
    taken.write_text("not a folder")
    assert main(["bench", "--quick", "--out", str(taken)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write to --out {taken}" in err
    assert "Traceback" not in err
    assert taken.read_text() == "not a folder"  # and nothing was lost


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_a_one_line_error(capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "--quick", "--device", "cuda"]) == 2
    assert "--device cuda: no CUDA device is available here" in capsys.readouterr().err
