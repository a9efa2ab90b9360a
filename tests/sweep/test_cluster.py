"""The README's two-node example: a Ray cluster of two nodes on this machine, over loopback.

A head node and a second node of one CPU each are started with ``ray start``, as the README
shows, and ``fixup-rl sweep --address`` runs a sweep on them. The nodes run in process groups
of their own, which the fixture ends by their ids (as ``ray stop`` would, without touching any
other Ray on the machine), whatever the test does.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the sweep extra: pip install 'fixup-rl[sweep]'")

NODE_OPTIONS = ["--num-cpus", "1", "--object-store-memory", str(100 * 2**20), "--block"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ray(*args: str) -> list[str]:
    return [sys.executable, "-m", "ray.scripts.scripts", *args]


def _wait_for_cpus(address: str, cpus: int, env: dict[str, str], logs: list[Path]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = subprocess.run(
            _ray("status", "--address", address), env=env, capture_output=True, text=True
        )
        if f"/{cpus}.0 CPU" in status.stdout:
            return status.stdout
        time.sleep(1)
    raise AssertionError("\n".join(log.read_text(encoding="utf-8")[-2000:] for log in logs))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A head and a second node on 127.0.0.1; yields the address and the environment to use.

    Both nodes and the driver share a token (Ray's token authentication, passed in
    ``RAY_AUTH_TOKEN`` instead of ``~/.ray/auth_token``).
    """
    logs_dir = tmp_path_factory.mktemp("cluster")
    # Ray's socket paths must stay short: its session folder goes under /tmp, not pytest's.
    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(16),
        "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",  # stop at once when told
        "OMP_NUM_THREADS": "1",
        "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
    }
    env.pop("RAY_ADDRESS", None)
    commands = {
        "head": _ray(
            "start",
            "--head",
            "--port",
            str(port),
            "--node-ip-address",
            "127.0.0.1",
            "--include-dashboard=false",
            "--disable-usage-stats",
            "--temp-dir",
            temp_dir,
            *NODE_OPTIONS,
        ),
        "node": _ray(
            "start",
            "--address",
            address,
            "--node-ip-address",
            "127.0.0.1",
            "--temp-dir",
            temp_dir,
            *NODE_OPTIONS,
        ),
    }

    nodes: list[subprocess.Popen[bytes]] = []
    logs = [logs_dir / f"{name}.log" for name in commands]
    try:
        for command, log in zip(commands.values(), logs, strict=True):
            with open(log, "wb") as output:
                nodes.append(
                    subprocess.Popen(
                        command,
                        env=env,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # its own process group, ended below
                    )
                )
            _wait_for_cpus(address, len(nodes), env, logs)
        yield address, env
    finally:
        for node in reversed(nodes):
            _end_group(node)
        shutil.rmtree(temp_dir, ignore_errors=True)


def _end_group(node: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(node.pid, sig)
        except ProcessLookupError:
            return
        try:
            node.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def test_a_sweep_runs_on_a_two_node_cluster_over_loopback(
    cluster, write_sweep, tiny_sweep, tmp_path
) -> None:
    address, env = cluster
    status = subprocess.run(
        _ray("status", "--address", address), env=env, capture_output=True, text=True
    )
    assert status.stdout.count(" node_") == 2, status.stdout  # two active nodes

    data = tiny_sweep(name="two_nodes")
    data["params"].update(depth=1)  # 2 trials (seeds 0 and 1): one per node at a time
    done = subprocess.run(
        [
            *(sys.executable, "-m", "fixup_rl.cli", "sweep", str(write_sweep(data))),
            *("--address", address, "--out", "out"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Connecting to existing Ray cluster" in done.stderr + done.stdout
    rows = json.loads((tmp_path / "out" / "two_nodes" / "results.json").read_text("utf-8"))
    assert [(row["seed"], row["status"], row["timesteps"]) for row in rows] == [
        (0, "done", 256),
        (1, "done", 256),
    ]
    assert all(Path(row["run_dir"], "model.zip").is_file() for row in rows)
