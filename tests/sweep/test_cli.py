"""``fixup-rl sweep`` as a user runs it: one line and exit status 2 for what cannot run."""

from __future__ import annotations

import sys

import pytest

from fixup_rl.cli import main
from fixup_rl.cli import sweep as sweep_command
from fixup_rl.sweep import SweepResult


def test_cli_bad_file_is_one_line_and_exit_2_before_any_trial(
    write_sweep, tiny_sweep, tmp_path, capsys
) -> None:
    data = tiny_sweep()
    data["params"]["env"] = "Pendulum-v9"
    path = write_sweep(data)

    status = main(["sweep", str(path), "--out", str(tmp_path / "out")])

    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith("fixup-rl sweep: error: ") and "'Pendulum-v9'" in err
    assert not (tmp_path / "out").exists()  # nothing was started


def test_an_out_that_is_a_file_is_one_line_before_ray_starts(
    write_sweep, tiny_sweep, tmp_path, capsys
) -> None:
    pytest.importorskip("ray")
    taken = tmp_path / "a-file"
    taken.write_text("not a folder", encoding="utf-8")

    status = main(["sweep", str(write_sweep(tiny_sweep())), "--out", str(taken)])

    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith("fixup-rl sweep: error: cannot write the sweep folder ")
    assert f"(--out {taken})" in err and "choose a writable --out" in err
    assert taken.read_text(encoding="utf-8") == "not a folder"  # nothing lost


def test_an_address_nothing_answers_on_is_one_line_at_once(
    write_sweep, tiny_sweep, tmp_path, capsys
) -> None:
    pytest.importorskip("ray")
    out = tmp_path / "out"

    sweep_file = str(write_sweep(tiny_sweep()))
    status = main(["sweep", sweep_file, "--address", "127.0.0.1:1", "--out", str(out)])

    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith("fixup-rl sweep: error: cannot connect to the Ray cluster at 127.0.0.1:1")
    assert "ray start --head" in err
    assert not any(out.rglob("*.yaml"))  # no sweep was recorded


def test_ray_address_from_the_environment_is_the_cluster_to_run_on(
    write_sweep, tiny_sweep, monkeypatch, tmp_path, capsys
) -> None:
    pytest.importorskip("ray")
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")

    status = main(["sweep", str(write_sweep(tiny_sweep())), "--out", str(tmp_path / "out")])

    assert status == 2
    assert capsys.readouterr().err.startswith(
        "fixup-rl sweep: error: cannot connect to the Ray cluster at 127.0.0.1:1: "
    )


def test_cli_without_ray_says_how_to_install_it(
    write_sweep, tiny_sweep, monkeypatch, capsys
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if not installed
    monkeypatch.setitem(sys.modules, "ray.tune", None)

    status = main(["sweep", str(write_sweep(tiny_sweep()))])

    err = capsys.readouterr().err
    assert status == 2
    assert err == (
        'fixup-rl sweep: error: Ray Tune is not installed; run `pip install "fixup-rl[sweep]"`\n'
    )


def test_cli_without_matplotlib_says_so_before_any_trial(
    write_sweep, tiny_sweep, monkeypatch, tmp_path, capsys
) -> None:
    pytest.importorskip("ray")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed

    status = main(["sweep", str(write_sweep(tiny_sweep())), "--out", str(tmp_path / "out")])

    assert status == 2
    assert capsys.readouterr().err == (
        "fixup-rl sweep: error: matplotlib, which draws the sweep's plot, is not installed; "
        'run `pip install "fixup-rl[sweep]"`\n'
    )
    assert not (tmp_path / "out").exists()


def test_num_cpus_is_refused_with_an_address_from_the_environment(
    write_sweep, tiny_sweep, monkeypatch, tmp_path, capsys
) -> None:
    pytest.importorskip("ray")
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")  # nothing is connected to: refused first

    status = main(["sweep", str(write_sweep(tiny_sweep())), "--num-cpus", "2", "--out", "out"])

    assert status == 2
    assert capsys.readouterr().err == (
        "fixup-rl sweep: error: num_cpus sizes a Ray started here; the cluster at 127.0.0.1:1 "
        "has its own CPUs\n"
    )


def test_exit_status_1_when_a_trial_failed_for_good(
    write_sweep, tiny_sweep, monkeypatch, tmp_path, capsys
) -> None:
    rows = [
        {"trial": "000_seed=0", "status": "done", "final_return": -150.0, "final_return_std": 2.0},
        {"trial": "001_seed=1", "status": "failed", "error": "ValueError: diverged"},
    ]
    result = SweepResult(tmp_path / "out" / "sweep", rows, plot=None)
    monkeypatch.setattr(sweep_command, "run_sweep", lambda *args, **kwargs: result)

    status = main(["sweep", str(write_sweep(tiny_sweep())), "--out", str(tmp_path / "out")])

    out = capsys.readouterr().out
    assert status == 1
    assert "Sweep done: 1 of 2 trials finished." in out
    assert "000_seed=0" in out and "final return -150.00 ± 2.00" in out
    assert "001_seed=1" in out and "failed: ValueError: diverged" in out
