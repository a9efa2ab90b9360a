"""What the Fixup theory predicts, checked against a report of :func:`run_diagnostics`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

#: How far a measure may move across depths and still count as flat.
FLAT_FACTOR = 2.0

#: Output std above which a network counts as blown up (a Fixup network's is about 1).
BLOW_UP_STD = 1e6


def check_report(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the verdicts on what the report measured, each ``{check, passed, detail}``.

    - Fixup at init: output std and both gradient norms within ``FLAT_FACTOR`` across depths,
      and every residual branch exactly zero;
    - ``"none"``: overflow (inf or nan) or an output std above ``BLOW_UP_STD`` beyond 64 blocks;
    - the depth-aware learning step within ``FLAT_FACTOR`` from the shallowest to the deepest
      network, under SGD and under Adam;
    - batch coupling: none for Fixup, in either mode; BatchNorm coupled in train mode.

    A check whose measurements are missing (a norm not measured, one depth only) is left out.

    :param report: the report of :func:`fixup_rl.diagnostics.run_diagnostics`
    :return: the verdicts, in order
    """
    verdicts: list[dict[str, Any]] = []
    for network, rows in report["signal_propagation"].items():
        verdicts += _fixup_signal(network, rows)
        verdicts += _none_blow_up(network, rows)
    verdicts += _depth_aware_step(report["update_size"])
    verdicts += _coupling(report["batch_coupling"])
    return verdicts


def ratio(values: Iterable[float]) -> float:
    """Largest over smallest of ``values``: ``nan`` if one is not finite, ``inf`` if one is 0."""
    values = list(values)
    if not values or not all(math.isfinite(value) for value in values):
        return math.nan
    smallest, largest = min(values), max(values)
    return math.inf if smallest <= 0 else largest / smallest


def _fixup_signal(network: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    fixup = [row for row in rows if row["norm"] == "fixup"]
    if len(fixup) < 2:
        return []
    verdicts = []
    depths = f"{fixup[0]['depth']} to {fixup[-1]['depth']} blocks"
    ratios = {
        measure: ratio(row[measure] for row in fixup)
        for measure in ("output_std", "input_grad_norm", "first_layer_grad_norm")
    }
    verdicts.append(
        {
            "check": f"{network}: Fixup output std and gradient norms flat across depth",
            "passed": all(r <= FLAT_FACTOR for r in ratios.values()),
            "detail": ", ".join(f"{m} ×{r:.3g}" for m, r in ratios.items()) + f" ({depths})",
        }
    )
    largest = max(row["max_branch_norm"] for row in fixup)
    verdicts.append(
        {
            "check": f"{network}: every Fixup residual branch is zero at init",
            "passed": largest == 0.0,
            "detail": f"largest branch norm {largest:.3g}",
        }
    )
    return verdicts


def _none_blow_up(network: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    deep = [row for row in rows if row["norm"] == "none" and row["depth"] > 64]
    if not deep:
        return []
    stds = [row["output_std"] for row in deep]
    blown = [not (math.isfinite(std) and std <= BLOW_UP_STD) for std in stds]
    detail = ", ".join(f"{row['depth']} blocks: {row['output_std']:.3g}" for row in deep)
    return [
        {
            "check": f"{network}: 'none' overflows or blows up beyond 64 blocks",
            "passed": all(blown),
            "detail": f"output std {detail}",
        }
    ]


def _depth_aware_step(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    verdicts = []
    for optimizer in ("sgd", "adam"):
        steps = [r for r in rows if r["variant"] == "depth_aware" and r["optimizer"] == optimizer]
        if len(steps) < 2:
            continue
        growth = ratio(row["output_change_per_lr"] for row in steps)
        verdicts.append(
            {
                "check": f"depth-aware learning step within ×{FLAT_FACTOR:g} across depth "
                f"({'SGD' if optimizer == 'sgd' else 'Adam'})",
                "passed": growth <= FLAT_FACTOR,
                "detail": f"×{growth:.3g} from {steps[0]['depth']} to {steps[-1]['depth']} blocks",
            }
        )
    return verdicts


def _coupling(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    verdicts = []
    for result in results:
        name = result["name"]
        if "norm=fixup" in name:
            coupled = result["train"]["coupled"] or result["eval"]["coupled"]
            largest = max(result["train"]["max_difference"], result["eval"]["max_difference"])
            verdicts.append(
                {
                    "check": f"{name}: no batch coupling in train or eval mode",
                    "passed": not coupled,
                    "detail": f"largest relative difference {largest:.2g}",
                }
            )
        elif "norm=batchnorm" in name:
            largest = result["train"]["max_difference"]
            verdicts.append(
                {
                    "check": f"{name}: batch coupling in train mode",
                    "passed": result["train"]["coupled"],
                    "detail": f"largest relative difference {largest:.2g}",
                }
            )
    return verdicts
