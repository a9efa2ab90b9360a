"""Cutting TensorBoard event files back to a checkpoint, so a resumed run logs no step twice."""

from __future__ import annotations

from pathlib import Path

from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
from tensorboard.compat.proto import event_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

from fixup_rl.reliability.atomic import atomic_write


def drop_events_after(folder: Path, step: int) -> int:
    """Remove the events of steps after ``step`` from every event file in ``folder``.

    A run killed after its last checkpoint has logged steps that the resumed run logs again;
    removing them first leaves one value per tag and step. Each file that loses events is
    rewritten atomically with the records it keeps, byte for byte; a record cut short by the
    crash is dropped too.

    :param folder: a folder of ``events.out.tfevents.*`` files (one run, e.g. ``ppo_1``)
    :param step: the last step to keep
    :return: the number of events removed
    """
    removed = 0
    for path in sorted(folder.glob("events.out.tfevents.*")):
        records = list(RawEventFileLoader(str(path)).Load())
        kept = [record for record in records if event_pb2.Event.FromString(record).step <= step]
        if len(kept) == len(records):
            continue
        removed += len(records) - len(kept)

        def write(temporary: Path, kept: list[bytes] = kept) -> None:
            with open(temporary, "wb") as file:
                writer = RecordWriter(file)
                for record in kept:
                    writer.write(record)

        atomic_write(path, write)
    return removed
