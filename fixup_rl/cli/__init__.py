"""The ``fixup-rl`` command: train, evaluate or export a run, diagnose, sweep, benchmark.

``fixup-rl`` alone trains the default recipe (PPO with a Fixup network on Pendulum-v1);
``fixup-rl train --help``, ``fixup-rl eval --help``, ``fixup-rl export --help``,
``fixup-rl diagnose --help``, ``fixup-rl sweep --help`` and ``fixup-rl bench --help`` list the
options.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from fixup_rl.bench import add_bench_arguments
from fixup_rl.cli.errors import USAGE_ERROR, OneLineParser, UsageError
from fixup_rl.cli.evaluate import add_eval_parser
from fixup_rl.cli.export import add_export_parser
from fixup_rl.cli.sweep import add_sweep_parser
from fixup_rl.cli.train import add_train_parser
from fixup_rl.diagnostics import add_diagnose_arguments


def build_parser() -> OneLineParser:
    """Return the parser of the ``fixup-rl`` command and its subcommands."""
    parser = OneLineParser(
        prog="fixup-rl",
        description="Train and evaluate SB3 agents with Fixup residual networks.",
        epilog="With no arguments at all, runs `fixup-rl train` with its defaults.",
    )
    commands = parser.add_subparsers(title="commands", dest="command", required=True)
    add_train_parser(commands)
    add_eval_parser(commands)
    add_export_parser(commands)
    add_diagnose_arguments(
        commands.add_parser(
            "diagnose",
            help="signal propagation, learning-step size and batch coupling against depth",
        )
    )
    add_sweep_parser(commands)
    add_bench_arguments(
        commands.add_parser(
            "bench", help="speed and learning of Fixup networks against the alternatives"
        )
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``fixup-rl`` command.

    :param argv: the arguments, without the program name; ``sys.argv[1:]`` when ``None``
    :return: the exit status: 0 on success, 2 for bad input (one line on stderr)
    """
    argv = list(sys.argv[1:] if argv is None else argv) or ["train"]
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error already printed by the parser
        return int(exit_.code or 0)

    args.argv = argv  # the command line, for results that record how they were made
    try:
        return args.run(args)
    except UsageError as error:
        message = " ".join(str(error).splitlines())
        print(f"fixup-rl {args.command}: error: {message}", file=sys.stderr)
        return USAGE_ERROR
