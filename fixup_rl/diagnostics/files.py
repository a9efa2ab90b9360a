"""The result files of a report: JSON and PNG plots in one folder."""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path
from typing import Any

from fixup_rl.diagnostics.plots import plot_signal_propagation, plot_summary, plot_update_size

JSON_FILE = "diagnostics.json"
SUMMARY_PLOT = "diagnostics.png"
SIGNAL_PLOT = "signal_propagation.png"
UPDATE_PLOT = "update_size.png"
RESULT_FILES = (JSON_FILE, SUMMARY_PLOT, SIGNAL_PLOT, UPDATE_PLOT)


def claim_folder(folder: Path, force: bool) -> None:
    """Create ``folder`` if needed and make sure the results can be written there.

    :param folder: the output folder
    :param force: overwrite result files of an earlier report
    :raises ValueError: if a result file exists (without ``force``) or the folder is not
        writable, with a message that says what to do
    """
    existing = [folder / name for name in RESULT_FILES if (folder / name).exists()]
    if existing and not force:
        raise ValueError(
            f"{existing[0]} already exists; pass --force to overwrite the results in {folder}, "
            "or choose another --out"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ValueError(f"cannot write to --out {folder}: {error.strerror or error}") from error


def write_results(report: dict[str, Any], folder: Path) -> list[Path]:
    """Write the report's JSON file and plots into ``folder``; return their paths.

    :param report: the report of :func:`fixup_rl.diagnostics.run_diagnostics`
    :param folder: an existing, writable folder
    :return: the files written
    """
    paths = [folder / name for name in RESULT_FILES]
    paths[0].write_text(to_json(report), encoding="utf-8")
    plot_summary(report, paths[1])
    if any(report["signal_propagation"].values()):
        plot_signal_propagation(report, paths[2])
    else:
        paths.remove(paths[2])
    if report["update_size"]:
        plot_update_size(report, paths[3])
    else:
        paths.remove(paths[3])
    return paths


def to_json(report: dict[str, Any]) -> str:
    """The report as JSON text.

    Floats keep 6 significant digits; ``inf``, ``-inf`` and ``nan`` (overflow) become the
    strings ``"inf"``, ``"-inf"`` and ``"nan"``, since JSON has no such numbers. Lists of
    numbers (the per-block norms) stay on one line.
    """
    text = json.dumps(_jsonable(report), indent=2, ensure_ascii=False)
    return _INNERMOST_LIST.sub(_one_line, text) + "\n"


# A list of numbers or of one-word strings ("nan", "fixup"), the per-block norms above all. The
# newline after "[" is only ever json.dumps' indentation: strings hold no raw newline.
_ITEM = r'\s*(?:-?[0-9.eE+-]+|"[\w.+-]*")\s*'
_INNERMOST_LIST = re.compile(rf"\[\n(?:{_ITEM},)*{_ITEM}\]")


def _one_line(match: re.Match[str]) -> str:
    items = match.group(0)[1:-1].split(",")
    return "[" + ", ".join(item.strip() for item in items) + "]"


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        if math.isfinite(value):
            return float(f"{value:.6g}")
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value
