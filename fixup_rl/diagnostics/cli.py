"""The ``diagnose`` command: ``python -m fixup_rl.diagnostics`` (and ``fixup-rl diagnose``)."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import stable_baselines3
import torch
from rich.console import Console
from stable_baselines3.common.base_class import BaseAlgorithm

from fixup_rl.diagnostics.checks import check_report
from fixup_rl.diagnostics.files import claim_folder, write_results
from fixup_rl.diagnostics.sweep import (
    DEFAULT_CNN_BLOCKS_PER_STAGE,
    DEFAULT_DEPTHS,
    DiagnoseConfig,
    run_diagnostics,
)
from fixup_rl.diagnostics.table import print_report
from fixup_rl.nn import NORMS

USAGE_ERROR = 2

# --quick: a look in seconds rather than a minute.
QUICK_DEPTHS = (4, 16, 64, 256)
QUICK_WIDTH = 64
QUICK_CNN_BLOCKS_PER_STAGE = (1, 2)
QUICK_COUPLING_BATCH_SIZES = (1, 8, 64)

#: The most worker processes ``--workers`` defaults to.
MAX_DEFAULT_WORKERS = 2


def add_diagnose_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of the ``diagnose`` command to ``parser``.

    Also sets the parser's defaults ``run=run_diagnose``, so a subcommand parser is complete
    with::

        parser = commands.add_parser("diagnose", help="...")
        add_diagnose_arguments(parser)

    :param parser: the parser (or subcommand parser) to extend
    """
    parser.description = parser.description or (
        "Show the Fixup theory on your own networks: signal propagation at init for every "
        "residual scheme, the size of a learning step as depth grows, and batch coupling of "
        "SB3 policies. Prints tables, writes diagnostics.json and PNG plots into --out."
    )
    parser.add_argument(
        "--depths",
        type=_depths,
        metavar="N,N,...",
        help="residual blocks of the ResidualMLPs "
        f"(default: {_listed(DEFAULT_DEPTHS)}; --quick: {_listed(QUICK_DEPTHS)})",
    )
    parser.add_argument(
        "--width",
        type=_positive_int,
        metavar="N",
        help=f"ResidualMLP width (default: 256; --quick: {QUICK_WIDTH})",
    )
    parser.add_argument(
        "--norms",
        type=_norms,
        metavar="NORM,...",
        help=f"residual schemes to compare (default: all of {_listed(NORMS)})",
    )
    parser.add_argument(
        "--batch-size",
        type=_batch_size,
        metavar="N",
        help="samples per batch of the ResidualMLP measurements (default: 8)",
    )
    parser.add_argument("--seed", type=_seed, default=0, metavar="N", help="default: 0")
    parser.add_argument("--skip-cnn", action="store_true", help="leave out the ImpalaCNN")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a look in seconds: depths up to {QUICK_DEPTHS[-1]}, width {QUICK_WIDTH}, ImpalaCNN "
        f"at {_listed(QUICK_CNN_BLOCKS_PER_STAGE)} blocks per stage, batches up to "
        f"{QUICK_COUPLING_BATCH_SIZES[-1]} (explicit options win)",
    )
    parser.add_argument(
        "--model",
        type=Path,
        metavar="PATH",
        help="an SB3 model (.zip) whose batch coupling to measure, instead of untrained PPO "
        "policies of each norm; needs --algo",
    )
    parser.add_argument("--algo", choices=_algos(), help="the algorithm that saved --model")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("diagnostics"),
        metavar="DIR",
        help="the folder of diagnostics.json and the plots (default: diagnostics)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an earlier report")
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        metavar="N",
        help="torch intra-op threads (default: 1: the measurements are thousands of small "
        "operations, and on a machine shared with other jobs two threads wait on each other "
        "and run many times slower than one)",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=default_workers(),
        metavar="N",
        help="processes measuring networks side by side, each with --threads threads and one "
        f"network in memory at a time (default: the CPUs this process may use, at most "
        f"{MAX_DEFAULT_WORKERS}: here {default_workers()})",
    )
    parser.set_defaults(run=run_diagnose, diagnose_prog=parser.prog)


def default_workers() -> int:
    """The default of ``--workers``: the CPUs this process may run on, at most
    :data:`MAX_DEFAULT_WORKERS`.

    The longest job (the deepest Fixup network with its learning-step runs) takes about half
    of the default report, so workers beyond two shorten it little and each holds a network.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity mask
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_WORKERS))


def run_diagnose(args: argparse.Namespace) -> int:
    """Run the ``diagnose`` command as ``args`` say; return the exit status.

    :param args: the arguments parsed by a parser set up with :func:`add_diagnose_arguments`
    :return: 0 on success, 2 for bad input (one line on stderr, nothing measured)
    """
    prog = getattr(args, "diagnose_prog", "diagnose")

    # Everything the user gave is checked before the first measurement.
    try:
        config = _config(args)
        model = _load_model(args.model, args.algo)
        claim_folder(args.out, args.force)
    except ValueError as error:
        message = " ".join(str(error).splitlines())
        print(f"{prog}: error: {message}", file=sys.stderr)
        return USAGE_ERROR

    # Measurements, one network at a time. Piped output gets room for the tables, not 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 120)
    start = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        with console.status("diagnosing") as status:
            report = run_diagnostics(config, model, progress=status.update, workers=args.workers)
    finally:
        torch.set_num_threads(threads)
    report["seconds"]["total"] = time.perf_counter() - start
    report["machine"] = _machine(args.threads, args.workers)
    report["checks"] = check_report(report)

    # Tables, then the files.
    print_report(report, console)
    paths = write_results(report, args.out)
    console.print(
        f"Diagnosed in {report['seconds']['total']:.0f} s. Wrote "
        + ", ".join(str(path) for path in paths),
        highlight=False,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m fixup_rl.diagnostics``: parse ``argv`` and run; return the exit status."""
    parser = _OneLineParser(prog="python -m fixup_rl.diagnostics")
    add_diagnose_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error already printed
        return int(exit_.code or 0)
    return run_diagnose(args)


def _config(args: argparse.Namespace) -> DiagnoseConfig:
    quick = args.quick
    cnn = QUICK_CNN_BLOCKS_PER_STAGE if quick else DEFAULT_CNN_BLOCKS_PER_STAGE
    if args.model is not None and args.algo is None:
        raise ValueError(
            f"--model needs --algo (one of {', '.join(_algos())}): an SB3 .zip does not say "
            "which algorithm saved it"
        )
    if args.algo is not None and args.model is None:
        raise ValueError("--algo only applies to --model PATH; add the model to measure")
    return DiagnoseConfig(
        depths=args.depths or (QUICK_DEPTHS if quick else DEFAULT_DEPTHS),
        width=args.width or (QUICK_WIDTH if quick else 256),
        norms=args.norms or NORMS,
        batch_size=args.batch_size or 8,
        seed=args.seed,
        cnn_blocks_per_stage=() if args.skip_cnn else cnn,
        **({"coupling_batch_sizes": QUICK_COUPLING_BATCH_SIZES} if quick else {}),
    )


def _load_model(path: Path | None, algo: str | None) -> BaseAlgorithm | None:
    if path is None:
        return None
    if not path.is_file():
        raise ValueError(f"--model {path}: no such file")
    from fixup_rl.agents import algo_class  # the registry of algorithms, with sb3-contrib's TQC

    try:
        return algo_class(algo).load(path, device="cpu")
    except Exception as error:  # a wrong file or algorithm fails anywhere inside SB3's load
        raise ValueError(
            f"cannot load --model {path} as a {algo} model ({type(error).__name__}: {error}); "
            "check the file and --algo"
        ) from error


def _machine(threads: int, workers: int) -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "stable_baselines3": stable_baselines3.__version__,
        "threads": threads,
        "workers": workers,
    }


def _cpu_name() -> str:
    # platform.processor() is empty on most Linux systems; /proc/cpuinfo names the model.
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def _algos() -> tuple[str, ...]:
    from fixup_rl.agents import ALGOS

    return tuple(ALGOS)


class _OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors fit on one line (argparse prints the usage too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def _integers(text: str, minimum: int) -> tuple[int, ...]:
    try:
        values = tuple(int(item) for item in text.split(",") if item.strip())
    except ValueError:
        values = ()
    if not values or any(value < minimum for value in values):
        raise argparse.ArgumentTypeError(
            f"must be integers >= {minimum}, separated by commas, got {text!r}"
        )
    return values


def _depths(text: str) -> tuple[int, ...]:
    return _integers(text, 1)


def _positive_int(text: str) -> int:
    return _single(text, 1)


def _batch_size(text: str) -> int:
    return _single(text, 2)


def _seed(text: str) -> int:
    return _single(text, 0)


def _single(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
    return value


def _norms(text: str) -> tuple[str, ...]:
    norms = tuple(item.strip() for item in text.split(",") if item.strip())
    unknown = [norm for norm in norms if norm not in NORMS]
    if unknown or not norms:
        raise argparse.ArgumentTypeError(
            f"unknown norm {(unknown[0] if unknown else text)!r}; choose among {_listed(NORMS)}"
        )
    return norms


def _listed(values: Sequence[Any]) -> str:
    return ",".join(map(str, values))
