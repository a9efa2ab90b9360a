"""Writing files so that a crash leaves either the old file or the new one, never half of one."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

TEMPORARY_MARK = ".partial-"
"""Temporary files are named ``.partial-<pid>-<name>``; a crash can leave them behind."""


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` atomically: ``write`` fills a temporary file that then replaces ``path``.

    The temporary file sits in the same folder (``os.replace`` is atomic only within one file
    system) and keeps ``path``'s suffix (SB3's savers append ``.zip`` or ``.pkl`` to a path
    without it). It is flushed to disk with ``fsync`` before the rename, and the folder after
    it, so a reader, or a run resumed after a crash or a power cut, finds the complete old file
    or the complete new one.

    :param path: the file to write
    :param write: writes the content to the path it is given
    """
    temporary = path.with_name(f"{TEMPORARY_MARK}{os.getpid()}-{path.name}")
    try:
        write(temporary)
        publish(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def publish(temporary: Path, path: Path) -> None:
    """Flush a complete ``temporary`` file to disk and rename it to ``path``, atomically.

    :param temporary: the written file, in ``path``'s folder
    :param path: its final name; an existing file there is replaced
    """
    _fsync(temporary)
    os.replace(temporary, path)
    _fsync_folder(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, as :func:`atomic_write`."""
    atomic_write(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def remove_partial_files(folder: Path) -> list[Path]:
    """Delete the temporary files that writes interrupted by a crash left in ``folder``.

    :param folder: the folder to clean
    :return: the files deleted
    """
    removed = sorted(folder.glob(f"{TEMPORARY_MARK}*")) if folder.is_dir() else []
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def sha256(path: Path) -> str:
    """Return the SHA-256 of a file's content, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_folder(folder: Path) -> None:
    # A folder's entry list reaches the disk only with its own fsync; Windows cannot open
    # folders, and makes renames durable without it.
    if os.name == "posix":
        _fsync(folder)
