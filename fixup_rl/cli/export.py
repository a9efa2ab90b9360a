"""``fixup-rl export``: write a run's policy as JSON and safetensors, loadable without pickle."""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path
from typing import Any

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecNormalize

from fixup_rl.agents import algo_class
from fixup_rl.cli.errors import UsageError, user_errors
from fixup_rl.cli.run_folder import MODEL, STATS, read_config
from fixup_rl.export import SPEC_FILE, WEIGHTS_FILE, export_policy

#: The models of a run folder that can be exported: (model file, VecNormalize statistics).
MODELS = {
    "final": (MODEL, STATS),
    "best": ("best_model.zip", "best_vecnormalize.pkl"),
}


def add_export_parser(commands: Any) -> None:
    """Add the ``export`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "export",
        help="write a run's policy as JSON and safetensors, loadable without pickle",
        description=f"Write the policy of a run folder as {SPEC_FILE} (its architecture and "
        f"observation scaling) and {WEIGHTS_FILE} (its weights). fixup_rl.load_policy(PATH) "
        "rebuilds it without unpickling anything, so the export can be shared with people who "
        "should not have to trust a pickle.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run folder")
    parser.add_argument(
        "--model",
        choices=tuple(MODELS),
        default="final",
        help="final: model.zip (default); best: best_model.zip, the best periodic evaluation",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="the export folder (default: RUN_DIR/export/<model>)",
    )
    parser.add_argument("--force", action="store_true", help="replace an earlier export")
    parser.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    """Export as ``args`` say; return the exit status."""
    with user_errors():
        # Where the export goes, checked before anything is loaded.
        out = args.out if args.out is not None else args.run_dir / "export" / args.model
        if args.out is not None and args.out.exists() and not args.out.is_dir():
            raise UsageError(f"--out {args.out} is a file; --out must name a folder")

        # The run and the chosen model, unpickled here, on the side that trusts the run folder.
        config = read_config(args.run_dir)
        model_file, stats_file = MODELS[args.model]
        model = _load_model(config, args.run_dir / model_file)
        stats = _load_stats(config, args.run_dir / stats_file)

        # The export, checked against the model before export_policy returns.
        description = {
            "env_id": config["env_id"],
            "net": config["net"],
            "depth": config["depth"],
            "width": config["width"],
            "seed": config["seed"],
            "run_dir": str(args.run_dir),
            "model": args.model,
        }
        export_policy(model, out, stats, description=description, force=args.force)

    print(
        f"Exported the {args.model} policy of {args.run_dir} to {out}: {SPEC_FILE}, "
        f"{WEIGHTS_FILE}. Load it with fixup_rl.load_policy({str(out)!r})"
    )
    return 0


def _load_model(config: dict[str, Any], path: Path) -> BaseAlgorithm:
    if not path.is_file():
        hint = " (the run made no periodic evaluation)" if path.name != MODEL else ""
        raise UsageError(f"{path.parent} holds no {path.name}{hint}")
    try:
        return algo_class(config["algo"]).load(path, device="cpu")
    except ModuleNotFoundError as error:
        raise UsageError(str(error)) from error
    except Exception as error:  # a damaged zip, a missing entry, a model of another algorithm
        raise UsageError(f"cannot load {path}: {_reason(error)}") from error


def _load_stats(config: dict[str, Any], path: Path) -> VecNormalize | None:
    if not config["normalize"]:
        return None
    if not path.is_file():
        raise UsageError(f"{path.parent} holds no {path.name}, but its config normalizes the env")
    try:
        with path.open("rb") as file:
            stats = pickle.load(file)  # the run folder is trusted; its export will not be
    except Exception as error:  # any failure to unpickle means the file is not usable
        raise UsageError(f"cannot load {path}: {_reason(error)}") from error
    if not isinstance(stats, VecNormalize):
        raise UsageError(f"{path} holds a {type(stats).__name__}, not VecNormalize statistics")
    return stats


def _reason(error: Exception) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
