"""Every option of ``fixup-rl`` refuses a bad value: one line naming the option and the value.

The table holds one bad value per option that takes a value; a test checks the table covers
every such option of every subcommand, so a new option needs a row (or a reason to be exempt).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from fixup_rl.cli import build_parser

Cli = Callable[..., tuple[int, str, str]]

# (command, option): (arguments, words the error must contain: option, value, what is accepted)
BAD_OPTIONS: dict[tuple[str, str], tuple[list[str], list[str]]] = {
    ("train", "--algo"): (["--algo", "dqn"], ["--algo", "'dqn'", "choose from 'ppo'"]),
    ("train", "--env"): (["--env", "Hopper"], ["--env: must be", "'Hopper'", "Accepted ids:"]),
    ("train", "--net"): (["--net", "resnet"], ["--net", "'resnet'", "choose from 'fixup'"]),
    ("train", "--depth"): (["--depth", "0"], ["--depth", "'0'", "an integer >= 1"]),
    ("train", "--width"): (["--width", "-8"], ["--width", "'-8'", "an integer >= 1"]),
    ("train", "--timesteps"): (["--timesteps", "1.5"], ["--timesteps", "'1.5'", ">= 1"]),
    ("train", "--seed"): (["--seed", "-1"], ["--seed", "'-1'", "an integer >= 0"]),
    ("train", "--n-envs"): (["--n-envs", "four"], ["--n-envs", "'four'", "an integer >= 1"]),
    ("train", "--device"): (["--device", "tpu"], ["--device", "'tpu'", "choose from 'auto'"]),
    ("train", "--set"): (["--set", "n_steps"], ["--set", "'n_steps'", "KEY=VALUE"]),
    ("train", "--out"): (["--out", "taken", "--name", "run"], ["--out", "taken", "not a folder"]),
    ("train", "--name"): (["--name", "a/b"], ["--name", "'a/b'", "without path separators"]),
    ("train", "--eval-freq"): (["--eval-freq", "-1"], ["--eval-freq", "'-1'", ">= 0"]),
    ("train", "--eval-episodes"): (["--eval-episodes", "0"], ["--eval-episodes", "'0'", ">= 1"]),
    ("train", "--checkpoint-freq"): (
        ["--checkpoint-freq", "x"],
        ["--checkpoint-freq", "'x'", ">= 0"],
    ),
    ("train", "--max-consecutive-skips"): (
        ["--max-consecutive-skips", "0"],
        ["--max-consecutive-skips", "'0'", ">= 1"],
    ),
    ("train", "--resume"): (["--resume", "nowhere"], ["run folder", "nowhere", "does not exist"]),
    ("eval", "run_dir"): (["nowhere"], ["run folder", "nowhere", "does not exist"]),
    ("eval", "--episodes"): (["nowhere", "--episodes", "0"], ["--episodes", "'0'", ">= 1"]),
    ("eval", "--seed"): (["nowhere", "--seed", "-2"], ["--seed", "'-2'", ">= 0"]),
    ("export", "run_dir"): (["nowhere"], ["run folder", "nowhere", "does not exist"]),
    ("export", "--model"): (["nowhere", "--model", "last"], ["--model", "'last'", "'best'"]),
    ("export", "--out"): (["nowhere", "--out", "taken"], ["--out", "taken", "must name a folder"]),
    ("diagnose", "--depths"): (["--depths", "0,a"], ["--depths", "'0,a'", "integers >= 1"]),
    ("diagnose", "--width"): (["--width", "0"], ["--width", "'0'", "an integer >= 1"]),
    ("diagnose", "--norms"): (["--norms", "bn"], ["--norms", "'bn'", "choose among fixup"]),
    ("diagnose", "--batch-size"): (["--batch-size", "1"], ["--batch-size", "'1'", ">= 2"]),
    ("diagnose", "--seed"): (["--seed", "-1"], ["--seed", "'-1'", ">= 0"]),
    ("diagnose", "--model"): (["--model", "no.zip", "--algo", "ppo"], ["--model", "no.zip"]),
    ("diagnose", "--algo"): (["--algo", "dqn"], ["--algo", "'dqn'", "choose from 'ppo'"]),
    ("diagnose", "--out"): (["--out", "taken"], ["--out", "taken"]),
    ("diagnose", "--threads"): (["--threads", "0"], ["--threads", "'0'", ">= 1"]),
    ("diagnose", "--workers"): (["--workers", "0"], ["--workers", "'0'", ">= 1"]),
    ("bench", "--parts"): (["--parts", "speedy"], ["--parts", "'speedy'", "speed, throughput"]),
    ("bench", "--out"): (["--out", "taken"], ["--out", "taken"]),
    ("bench", "--device"): (["--device", "tpu"], ["--device", "'tpu'", "choose from 'cpu'"]),
    ("bench", "--threads"): (["--threads", "0"], ["--threads", "'0'", "positive integer"]),
    ("bench", "--seeds"): (["--seeds", "0"], ["--seeds", "'0'", "positive integer"]),
    ("bench", "--task"): (["--task", "sac:Foo:10"], ["--task", "'Foo'", "Accepted ids"]),
    ("bench", "--net"): (["--net", "resnet:2"], ["--net", "'resnet:2'", "NET one of fixup"]),
    ("sweep", "sweep_file"): (["missing.yml"], ["sweep file", "missing.yml"]),
    ("sweep", "--name"): (["missing.yml", "--name", "a/b"], ["--name", "'a/b'", "folder name"]),
    ("sweep", "--num-cpus"): (["missing.yml", "--num-cpus", "0"], ["--num-cpus", "'0'", ">= 1"]),
}

EXEMPT = {
    # Reached only with a valid sweep file; tests/sweep/test_cli.py feeds them bad values.
    ("sweep", "--address"),
    ("sweep", "--out"),
}


def _options_with_values() -> set[tuple[str, str]]:
    commands = next(
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    return {
        (command, action.option_strings[0] if action.option_strings else action.dest)
        for command, parser in commands.choices.items()
        for action in parser._actions
        if action.nargs != 0 and not isinstance(action, argparse._HelpAction)
    }


def test_the_table_covers_every_option_that_takes_a_value() -> None:
    options = _options_with_values()

    assert options - set(BAD_OPTIONS) - EXEMPT == set()


@pytest.mark.parametrize(
    ("command", "args", "words"),
    [(command, *row) for (command, _), row in BAD_OPTIONS.items()],
    ids=[" ".join(key) for key in BAD_OPTIONS],
)
def test_a_bad_value_is_one_line_naming_option_and_value(
    cli: Cli, command: str, args: list[str], words: list[str]
) -> None:
    Path("taken").write_text("a file where a folder should be")

    status, out, err = cli(command, *args)

    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"fixup-rl {command}: error: "), err
    for word in words:
        assert word in err, err
