"""Fixtures shared by the agent tests: one torch thread, and a writable recipe folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from fixup_rl.agents import RECIPES_DIR


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    # Tiny networks run fastest on one thread; on a busy machine, two threads that wait for
    # each other can make a learn() of a few dozen steps take seconds instead of milliseconds.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def recipes_copy(tmp_path: Path) -> Path:
    """A copy of the shipped recipe folder, to edit in a test."""
    folder = tmp_path / "recipes"
    shutil.copytree(RECIPES_DIR, folder)
    return folder
