"""The speed targets, checked against a benchmark's results."""

from __future__ import annotations

from typing import Any

#: Forward+backward at batch 256: Fixup at most this many times the plain MLP.
TRAIN_RATIO = 1.10
#: Inference at batch 1 and 16: folded Fixup at most this many times the plain MLP.
INFERENCE_RATIO = 1.05
#: At batch 1 and 16: Fixup at least this many times faster than layernorm and batchnorm.
NORM_SPEEDUP = 1.2
#: SB3 training throughput with a Fixup policy, relative to MlpPolicy, at least this.
THROUGHPUT_RATIO = 0.9


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Compare the results with the speed targets.

    :param results: the results of :func:`fixup_rl.bench.run_bench`
    :return: one row per check: ``target``, ``where``, ``value``, ``limit``, ``met``
    """
    checks: list[dict[str, Any]] = []
    for row in results.get("network_speed", {}).get("rows", []):
        ratio, where = row["ratio_to_mlp"], f"depth {row['depth']}, batch {row['batch']}"
        if row["mode"] == "train" and row["batch"] == 256:
            checks.append(_at_most("Fixup fwd+bwd / MLP", where, ratio["fixup"], TRAIN_RATIO))
        if row["batch"] not in (1, 16):
            continue
        fixup = "fixup_cached" if row["mode"] == "inference" else "fixup"
        for norm in ("layernorm", "batchnorm"):
            checks.append(
                _at_least(
                    f"{norm} / Fixup ({row['mode']})",
                    where,
                    ratio[norm] / ratio[fixup],
                    NORM_SPEEDUP,
                )
            )
        if row["mode"] == "inference":
            for folded in ("fixup_folded", "fixup_cached"):
                label = f"{folded.replace('_', ' ')} inference / MLP"
                checks.append(_at_most(label, where, ratio[folded], INFERENCE_RATIO))
    for row in results.get("throughput", []):
        where = f"{row['algo'].upper()} {row['env_id']}, depth {row['depth']}"
        value = row["ratio_to_mlp"].get("fixup")
        if value is not None:
            checks.append(_at_least("Fixup steps/s / MlpPolicy", where, value, THROUGHPUT_RATIO))
    return checks


def _at_most(target: str, where: str, value: float, limit: float) -> dict[str, Any]:
    return {"target": f"{target} <= {limit}", "where": where, "value": value, "met": value <= limit}


def _at_least(target: str, where: str, value: float, limit: float) -> dict[str, Any]:
    return {"target": f"{target} >= {limit}", "where": where, "value": value, "met": value >= limit}
