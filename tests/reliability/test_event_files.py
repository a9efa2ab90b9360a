"""drop_events_after: TensorBoard event files cut back to a step, the rest byte for byte."""

from __future__ import annotations

from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter

from fixup_rl.reliability.tensorboard import drop_events_after


def write_scalars(folder: Path, steps: range) -> Path:
    writer = SummaryWriter(str(folder))
    for step in steps:
        writer.add_scalar("train/loss", 1.0 / step, step)
        writer.add_scalar("eval/mean_reward", -float(step), step)
    writer.close()
    (path,) = folder.glob("events.out.tfevents.*")
    return path


def scalar_steps(path: Path, tag: str) -> list[int]:
    accumulator = EventAccumulator(str(path), purge_orphaned_data=False).Reload()
    return [event.step for event in accumulator.Scalars(tag)]


def test_events_after_the_step_are_removed_and_the_rest_kept(tmp_path: Path) -> None:
    path = write_scalars(tmp_path, range(1, 11))

    removed = drop_events_after(tmp_path, 6)

    assert removed == 8  # two tags at steps 7 to 10
    assert scalar_steps(path, "train/loss") == [1, 2, 3, 4, 5, 6]
    accumulator = EventAccumulator(str(path)).Reload()
    assert [e.value for e in accumulator.Scalars("eval/mean_reward")] == [-1, -2, -3, -4, -5, -6]


def test_a_file_without_later_events_is_not_rewritten(tmp_path: Path) -> None:
    path = write_scalars(tmp_path, range(1, 4))
    content = path.read_bytes()

    assert drop_events_after(tmp_path, 3) == 0
    assert path.read_bytes() == content


def test_a_record_cut_short_by_a_crash_is_dropped(tmp_path: Path) -> None:
    path = write_scalars(tmp_path, range(1, 6))
    with open(path, "ab") as file:
        file.write(b"\x20\x00\x00\x00\x00\x00\x00\x00\x01\x02")  # a header, then nothing

    drop_events_after(tmp_path, 4)

    assert scalar_steps(path, "train/loss") == [1, 2, 3, 4]
    assert drop_events_after(tmp_path, 4) == 0  # the file now ends with a whole record
