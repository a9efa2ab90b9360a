"""Timing small, repeated operations on a shared machine.

Every variant of a comparison is timed in the same loop, round after round (interleaved), so
a slow moment of the machine hits all of them alike; the median over rounds is reported. On
the CPU with one thread the clock is the measuring thread's CPU time, which does not count
the moments another process holds the core; otherwise it is wall time, after a
``torch.cuda.synchronize()`` on CUDA.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping

import torch


def clock_name(device: torch.device) -> str:
    """The clock :func:`time_interleaved` uses on ``device`` with torch's thread setting.

    :param device: the device the work runs on
    :return: ``"thread CPU time"`` or ``"wall time"``
    """
    if device.type == "cpu" and torch.get_num_threads() == 1:
        return "thread CPU time"
    return "wall time"


def time_interleaved(
    calls: Mapping[str, Callable[[], object]],
    device: torch.device,
    rounds: int,
    target_seconds: float = 0.02,
) -> dict[str, float]:
    """Median seconds per call of each of ``calls``, timed round after round.

    Each call is first run a few times (warm-up) and its number of repetitions per round is
    set so that a round takes about ``target_seconds``.

    :param calls: name -> a function doing one unit of work
    :param device: where the work runs (sets the clock and CUDA synchronization)
    :param rounds: rounds of timing (>= 1)
    :param target_seconds: the duration of one round of one call
    :return: name -> median seconds per call
    """
    clock = time.thread_time if clock_name(device) == "thread CPU time" else time.perf_counter
    sync = torch.cuda.synchronize if device.type == "cuda" else _nothing

    repeats = {name: _repeats(call, sync, target_seconds) for name, call in calls.items()}
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            sync()
            start = clock()
            for _ in range(repeats[name]):
                call()
            sync()
            samples[name].append((clock() - start) / repeats[name])
    return {name: statistics.median(values) for name, values in samples.items()}


def _repeats(call: Callable[[], object], sync: Callable[[], None], target: float) -> int:
    for _ in range(3):
        call()
    sync()
    start = time.perf_counter()
    call()
    sync()
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, min(10_000, round(target / once)))


def _nothing() -> None:
    return None
