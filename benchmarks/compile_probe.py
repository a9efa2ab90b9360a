"""Does ``torch.compile`` make a Fixup network faster on this machine? Measure it.

Times one training step (forward and backward) and one inference call of a Fixup
``ResidualMLP`` run eagerly (its own fast paths) and through ``torch.compile`` (inductor,
static shapes), next to SB3's plain MLP with the same Linear layers, eager and compiled, at the
small sizes where Fixup's scalar operations cost the most (inference: eager Fixup with its
folded-weight cache, as in SB3 rollouts). Also records how long the first
compiled call took. Writes ``benchmarks/results/speed/compile.json`` and ``compile.md``.

    python benchmarks/compile_probe.py                  # about 5 minutes on one CPU core
    python benchmarks/compile_probe.py --report-only    # compile.md again from compile.json
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from fixup_rl.bench.network_speed import IN_DIM, build_network, inference_call, train_step_call
from fixup_rl.bench.report import environment
from fixup_rl.bench.timing import time_interleaved

OUT = Path(__file__).parent / "results" / "speed"

#: (width, depth, batch): SB3 rollouts and small training batches at width 256, and PPO's
#: minibatch of 64 at its recipe's width of 64.
CONFIGS = ((256, 2, 1), (256, 2, 16), (256, 8, 1), (256, 8, 16), (64, 2, 64), (64, 8, 64))


def first_call_seconds(call: Callable[[], None]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def measure(width: int, depth: int, batch: int, mode: str) -> dict[str, float]:
    x = torch.randn(batch, IN_DIM)
    make = train_step_call if mode == "train" else inference_call
    nets = {
        "mlp": build_network("mlp", depth, width),
        "fixup": build_network("fixup" if mode == "train" else "fixup_cached", depth, width),
        "mlp_compiled": torch.compile(build_network("mlp", depth, width), dynamic=False),
        "fixup_compiled": torch.compile(build_network("fixup", depth, width), dynamic=False),
    }
    for net in nets.values():
        net.train(mode == "train")
    calls = {name: make(net, x) for name, net in nets.items()}

    compile_seconds = {
        name: first_call_seconds(call) for name, call in calls.items() if "compiled" in name
    }
    seconds = time_interleaved(calls, torch.device("cpu"), rounds=15)
    reference = seconds["mlp"]
    row = {f"{name}_ratio": value / reference for name, value in seconds.items()}
    row.update(mlp_seconds=reference, **{f"{k}_compile_s": v for k, v in compile_seconds.items()})
    return row


def markdown(results: dict) -> str:
    env = results["environment"]
    lines = [
        "# torch.compile against the eager Fixup paths",
        "",
        f"Command: `{env['command']}` ({env['date']}).",
        f"Machine: {env['machine']['processor']}, {env['machine']['cpus']} CPUs, torch threads "
        f"{env['machine']['torch_threads']}; torch {env['versions']['torch']}.",
        "",
        "Median thread CPU time per call relative to the eager plain MLP with the same Linear "
        "layers (SB3 `create_mlp`); compiled with `torch.compile(net, dynamic=False)` "
        "(inductor). The JSON file also has the seconds of each compiled network's first call; "
        "they are not cold compile times where torch's compile cache already held a graph "
        "from an earlier run.",
        "",
        "| mode | width | depth | batch | MLP time | fixup | fixup compiled | mlp compiled |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['mode']} | {row['width']} | {row['depth']} | {row['batch']} "
            f"| {row['mlp_seconds'] * 1e6:.0f} µs | {row['fixup_ratio']:.2f} "
            f"| {row['fixup_compiled_ratio']:.2f} | {row['mlp_compiled_ratio']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    if sys.argv[1:] == ["--report-only"]:  # re-render compile.md from compile.json
        results = json.loads((OUT / "compile.json").read_text(encoding="utf-8"))
        (OUT / "compile.md").write_text(markdown(results), encoding="utf-8")
        return
    torch.set_num_threads(1)
    rows = []
    for mode in ("train", "inference"):
        for width, depth, batch in CONFIGS:
            row = measure(width, depth, batch, mode)
            rows.append({"mode": mode, "width": width, "depth": depth, "batch": batch, **row})
            print(rows[-1], flush=True)

    env = environment(sys.argv[1:])
    env["command"] = "python benchmarks/compile_probe.py"
    results = {"environment": env, "rows": rows}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "compile.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (OUT / "compile.md").write_text(markdown(results), encoding="utf-8")


if __name__ == "__main__":
    main()
