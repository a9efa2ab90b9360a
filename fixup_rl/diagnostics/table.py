"""The report as tables in the terminal (rich)."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.table import Table

from fixup_rl.diagnostics.checks import ratio
from fixup_rl.diagnostics.update_size import VARIANTS

SIGNAL_MEASURES = {
    "output_std": "output std",
    "input_grad_norm": "‖∂/∂input‖",
    "first_layer_grad_norm": "‖∂/∂W_in‖",
    "max_branch_norm": "max ‖branch‖",
}
_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam"}


def number(value: float) -> str:
    """A short text for ``value``: 3 significant digits, ``inf`` and ``nan`` spelled out."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e6:
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    """Print the tables of a report of :func:`run_diagnostics` and its checks.

    :param report: the report (with ``"checks"`` from :func:`check_report`, if any)
    :param console: where to print (default: a new rich ``Console``)
    """
    console = console or Console()
    config = report["config"]
    signal = report["signal_propagation"]
    if signal["mlp"]:
        title = f"Signal propagation at init: ResidualMLP, width {config['width']}"
        console.print(_signal_table(signal["mlp"], title, "blocks"))
    if signal["cnn"]:
        title = "Signal propagation at init: ImpalaCNN (16, 32, 32 channels)"
        console.print(_signal_table(signal["cnn"], title, "blocks (per stage)"))
    if report["update_size"]:
        console.print(_update_table(report["update_size"], config))
    if report["batch_coupling"]:
        console.print(_coupling_table(report["batch_coupling"]))
    for verdict in report.get("checks", []):
        mark = "[green]✓[/green]" if verdict["passed"] else "[red]✗[/red]"
        console.print(f"{mark} {verdict['check']}: {verdict['detail']}", highlight=False)


def _signal_table(rows: list[dict[str, Any]], title: str, depth_label: str) -> Table:
    depths = _unique(row["depth"] for row in rows)
    per_stage = {row["depth"]: row.get("blocks_per_stage") for row in rows}
    table = Table(title=title, title_justify="left")
    table.add_column("norm")
    table.add_column(f"measure \\ {depth_label}")
    for depth in depths:
        stage = per_stage[depth]
        table.add_column(f"{depth}" + (f" ({stage})" if stage else ""), justify="right")
    for norm in _unique(row["norm"] for row in rows):
        by_depth = {row["depth"]: row for row in rows if row["norm"] == norm}
        for i, (key, label) in enumerate(SIGNAL_MEASURES.items()):
            cells = [_cell(by_depth[d][key]) if d in by_depth else "" for d in depths]
            table.add_row(norm if i == 0 else "", label, *cells, end_section=i == 3)
    return table


def _update_table(rows: list[dict[str, Any]], config: dict[str, Any]) -> Table:
    depths = _unique(row["depth"] for row in rows)
    rates = ", ".join(
        f"{_OPTIMIZERS[opt]} η={lr:g}" for opt, lr in config["learning_rates"].items()
    )
    table = Table(
        title=f"Learning step: output change / η after {config['steps']} steps "
        f"(width {config['width']}, batch {config['batch_size']}; {rates})",
        caption="output change: RMS over the batch of ‖f_after(x) − f_before(x)‖",
        title_justify="left",
    )
    table.add_column("optimizer")
    table.add_column("variant")
    for depth in depths:
        table.add_column(str(depth), justify="right")
    table.add_column("last / first", justify="right")
    for optimizer in _unique(row["optimizer"] for row in rows):
        variants = _unique(row["variant"] for row in rows if row["optimizer"] == optimizer)
        for i, variant in enumerate(variants):
            by_depth = {
                row["depth"]: row["output_change_per_lr"]
                for row in rows
                if row["optimizer"] == optimizer and row["variant"] == variant
            }
            cells = [_cell(by_depth[d]) if d in by_depth else "—" for d in depths]
            ends = [by_depth[min(by_depth)], by_depth[max(by_depth)]]
            overflow = not all(math.isfinite(value) for value in ends)
            growth_cell = "[red]overflow[/red]" if overflow else f"×{number(ratio(ends))}"
            last = i == len(variants) - 1
            table.add_row(
                _OPTIMIZERS[optimizer] if i == 0 else "",
                VARIANTS[variant],
                *cells,
                growth_cell,
                end_section=last,
            )
    return table


def _coupling_table(results: list[dict[str, Any]]) -> Table:
    sizes = ", ".join(map(str, results[0]["batch_sizes"]))
    table = Table(
        title=f"Batch coupling: largest change of an output computed alone and in batches "
        f"of {sizes}, relative to max(1, |output|)",
        title_justify="left",
    )
    for column in ("model", "parameters", "eval mode", "train mode", "verdict"):
        table.add_column(column, justify="left" if column in ("model", "verdict") else "right")
    for result in results:
        coupled = [mode for mode in ("train", "eval") if result[mode]["coupled"]]
        verdict = (
            f"[red]coupled in {' and '.join(coupled)} mode[/red]" if coupled else "independent"
        )
        table.add_row(
            result["name"],
            "perturbed" if result["perturbed"] else "as given",
            number(result["eval"]["max_difference"]),
            number(result["train"]["max_difference"]),
            verdict,
        )
    return table


def _cell(value: float) -> str:
    text = number(value)
    return f"[red]{text}[/red]" if not math.isfinite(value) else text


def _unique(values: Any) -> list[Any]:
    return list(dict.fromkeys(values))
