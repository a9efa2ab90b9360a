"""The speed targets, checked against a benchmark's results."""

from __future__ import annotations

from typing import Any

from fixup_rl.bench.learning import BASELINES

#: Forward+backward at batch 256: Fixup at most this many times the plain MLP.
TRAIN_RATIO = 1.10
#: Inference at batch 1 and 16: folded Fixup at most this many times the plain MLP.
INFERENCE_RATIO = 1.05
#: At batch 1 and 16: Fixup at least this many times faster than layernorm and batchnorm.
NORM_SPEEDUP = 1.2
#: SB3 training throughput with a Fixup policy, relative to MlpPolicy, at least this.
THROUGHPUT_RATIO = 0.9
#: Learning: Fixup at these depths reaches SB3's default MlpPolicy (within one std over seeds).
LEARNING_DEPTHS = (8, 16)


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Compare the results with the speed and learning targets.

    :param results: the results of :func:`fixup_rl.bench.run_bench`
    :return: one row per check: ``target``, ``where``, ``value``, ``met`` (True, False, or
        None for a learning check with a single seed on either side)
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
    return checks + _learning_checks(results.get("learning", []))


def _learning_checks(summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Per task and budget: each Fixup network of LEARNING_DEPTHS against SB3's default
    # MlpPolicy, with the recipe's settings ("sb3") and with the zoo's ("zoo") where that was
    # run (its final return at most one std over seeds below the baseline's mean), and each
    # "none" network against the Fixup network of its depth and width (below it by more
    # than the Fixup network's std).
    checks: list[dict[str, Any]] = []
    tasks: dict[tuple[Any, ...], dict[tuple[str, int, int], dict[str, Any]]] = {}
    for row in summary:
        task = (row["algo"], row["env_id"], row["budget"])
        tasks.setdefault(task, {})[(row["net"], row["depth"], row["width"])] = row
    for (algo, env_id, budget), rows in tasks.items():
        where = f"{algo.upper()} {env_id}, {budget} steps"
        baselines = [(net, row) for (net, _, _), row in rows.items() if net in BASELINES]
        for (net, depth, width), row in rows.items():
            shape = f"{depth} × {width}"
            value = row["final_mean"]
            if net == "fixup" and depth in LEARNING_DEPTHS:
                for name, baseline in baselines:
                    limit, judged = _mean_less_std(baseline), _judged(row, baseline)
                    label = f"fixup {shape} final return >= {name} mean - std ({_shown(baseline)})"
                    checks.append(_check(label, where, value, judged and value >= limit))
            fixup = rows.get(("fixup", depth, width))
            if net == "none" and fixup is not None:
                limit, judged = _mean_less_std(fixup), _judged(row, fixup)
                label = f"none {shape} final return < fixup {shape} mean - std ({_shown(fixup)})"
                checks.append(_check(label, where, value, judged and value < limit))
    return checks


def _judged(row: dict[str, Any], other: dict[str, Any]) -> bool | None:
    # Both sides need two seeds or more (a std) to be compared; None where either has one.
    return None if row["final_std"] is None or other["final_std"] is None else True


def _mean_less_std(row: dict[str, Any]) -> float:
    return row["final_mean"] - (row["final_std"] or 0.0)


def _shown(row: dict[str, Any]) -> str:
    return "one seed: no std" if row["final_std"] is None else f"{_mean_less_std(row):.1f}"


def _at_most(target: str, where: str, value: float, limit: float) -> dict[str, Any]:
    return {"target": f"{target} <= {limit}", "where": where, "value": value, "met": value <= limit}


def _at_least(target: str, where: str, value: float, limit: float) -> dict[str, Any]:
    return {"target": f"{target} >= {limit}", "where": where, "value": value, "met": value >= limit}


def _check(target: str, where: str, value: float, met: bool | None) -> dict[str, Any]:
    return {"target": target, "where": where, "value": value, "met": met}
