"""Fixtures of the diagnostics tests: one report at the default depths, shared by all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch

from fixup_rl.diagnostics import DiagnoseConfig, check_report, run_diagnostics

#: The report's ResidualMLP width in the tests: the default depths (4 to 1024 blocks), at a
#: width that keeps the whole sweep to seconds. The slow tests measure the default width.
TEST_WIDTH = 16


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    # The diagnostics are thousands of small operations. On a shared CI machine two intra-op
    # threads spin against each other's neighbours and run many times slower than one.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def report() -> dict[str, Any]:
    """The report at the default depths, every norm, ImpalaCNN at 1 and 2 blocks per stage."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        config = DiagnoseConfig(
            width=TEST_WIDTH, cnn_blocks_per_stage=(1, 2), coupling_batch_sizes=(1, 8, 64)
        )
        result = run_diagnostics(config)
    finally:
        torch.set_num_threads(threads)
    result["checks"] = check_report(result)
    return result
