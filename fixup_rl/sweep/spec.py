"""The sweep file: what to train, over which values, and how Tune runs the trials.

A sweep file is YAML (read with ``yaml.safe_load``)::

    name: depth_scaling        # the sweep's folder under --out (default: the file's name)
    search: grid               # grid (default), random or optuna
    samples: 1                 # grid: repeats of the grid; random, optuna: trials drawn
    search_seed: 0             # seeds the random draws of random and optuna searches
    params:                    # one trial per combination; see fixup_rl.sweep.space
      algo: ppo                # required
      env: Pendulum-v1         # required
      net: {grid: [fixup, mlp]}
      depth: {grid: [1, 4, 16]}
      seed: {grid: [0, 1, 2]}
      n_timesteps: 20000       # any key of fixup_rl.agents.resolve_config: net, depth, width,
      n_steps: 256             # seed, n_envs, n_timesteps, normalize, device, verbose,
                               # policy_kwargs and the algorithm's hyperparameters
    evaluation:
      every: 2000              # env steps between evaluations (default: a tenth of the budget)
      episodes: 5              # episodes per evaluation (default: 5)
    resources:
      cpu: 1                   # CPUs per trial (default: 1); fractions are accepted
      gpu: 0                   # GPUs per trial (default: 0); fractions share a GPU
    max_concurrent: null       # at most this many trials at once (default: as resources allow)
    max_failures: 2            # retries of a failed trial from its last checkpoint (default: 2)

Every key and value is checked, against the recipes of the algorithms named, before any trial
starts: :func:`load_sweep` raises one ``ValueError`` naming the file, the key, the value and
what is accepted.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from gymnasium.error import DependencyNotInstalled

from fixup_rl.agents import resolve_config
from fixup_rl.agents.recipes import check_algo, check_entry, check_keys, check_value
from fixup_rl.agents.schema import (
    ENTRY_KEYS,
    HYPERPARAMS,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    RUN_KEYS,
    Kind,
    Rejected,
)
from fixup_rl.envs import check_env_id
from fixup_rl.sweep.space import Space, parse_space

SEARCHES = ("grid", "random", "optuna")

_SET_BY_SWEEP = {"tensorboard_log": "each trial logs into its run folder's tensorboard/"}


def _name(value: Any) -> str:
    if not isinstance(value, str) or value in ("", ".", "..") or "/" in value or "\\" in value:
        raise Rejected
    return value


def _search(value: Any) -> str:
    if value not in SEARCHES:
        raise Rejected
    return value


def _optional_positive_int(value: Any) -> int | None:
    return None if value is None else POSITIVE_INT.check(value)


_TOP_LEVEL: dict[str, Kind] = {
    "name": Kind("a folder name without path separators", _name),
    "search": Kind("one of " + ", ".join(repr(s) for s in SEARCHES), _search),
    "samples": POSITIVE_INT,
    "search_seed": NON_NEGATIVE_INT,
    "params": Kind("a mapping of parameters to values or search spaces", lambda v: v),
    "evaluation": Kind("a mapping with the keys every, episodes", lambda v: v),
    "resources": Kind("a mapping with the keys cpu, gpu", lambda v: v),
    "max_concurrent": Kind("null or an integer >= 1", _optional_positive_int),
    "max_failures": NON_NEGATIVE_INT,
}
_EVALUATION = {
    "every": Kind("null (a tenth of the budget) or an integer >= 1", _optional_positive_int),
    "episodes": POSITIVE_INT,
}
_RESOURCES = {"cpu": POSITIVE, "gpu": NON_NEGATIVE}


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep file.

    :param name: the sweep's folder name
    :param params: the space of each parameter; ``algo`` and ``env`` are always there
    :param search: ``"grid"``, ``"random"`` or ``"optuna"``
    :param samples: repeats of the grid (``grid``), or trials drawn (``random``, ``optuna``)
    :param search_seed: the seed of the random draws
    :param eval_every: env steps between evaluations; ``None``: a tenth of each trial's budget
    :param eval_episodes: episodes per evaluation
    :param cpu: CPUs per trial
    :param gpu: GPUs per trial
    :param max_concurrent: at most this many trials at once; ``None``: as resources allow
    :param max_failures: how often a failed trial is retried from its last checkpoint
    :param source: where the sweep came from (a file path), for messages
    """

    name: str
    params: dict[str, Space]
    search: str = "grid"
    samples: int = 1
    search_seed: int = 0
    eval_every: int | None = None
    eval_episodes: int = 5
    cpu: float = 1.0
    gpu: float = 0.0
    max_concurrent: int | None = None
    max_failures: int = 2
    source: str = "sweep"

    @property
    def searched(self) -> list[str]:
        """The parameters that vary from trial to trial, in file order."""
        return [key for key, space in self.params.items() if space.searched]

    def to_data(self) -> dict[str, Any]:
        """Return the sweep as plain data, in the form of a sweep file, defaults filled in."""
        return {
            "name": self.name,
            "search": self.search,
            "samples": self.samples,
            "search_seed": self.search_seed,
            "params": {key: space.to_data() for key, space in self.params.items()},
            "evaluation": {"every": self.eval_every, "episodes": self.eval_episodes},
            "resources": {"cpu": self.cpu, "gpu": self.gpu},
            "max_concurrent": self.max_concurrent,
            "max_failures": self.max_failures,
        }


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file.

    :param path: the YAML file
    :return: the checked sweep; its name defaults to the file's name without the suffix
    :raises ValueError: when the file cannot be read, is not YAML, or holds a key or value that
        is not accepted; the message names the file, the key, the value and what is accepted
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"cannot read the sweep file {path}: {error.strerror}") from error
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        where = getattr(error, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise ValueError(f"{path}{line}: not valid YAML: {problem}") from error
    return check_sweep(data, source=str(path), default_name=path.stem)


def check_sweep(data: Any, source: str = "sweep", default_name: str = "sweep") -> SweepSpec:
    """Check the content of a sweep file and return it as a :class:`SweepSpec`.

    :param data: the parsed YAML: a mapping of the keys described in :mod:`fixup_rl.sweep.spec`
    :param source: where the data came from, for error messages
    :param default_name: the sweep's name when ``data`` sets none
    :return: the checked sweep
    :raises ValueError: naming ``source``, the key, the value and what is accepted
    """
    if not isinstance(data, Mapping):
        raise ValueError(
            f"{source}: a sweep file must be a mapping with at least the key params, "
            f"got {type(data).__name__}"
        )
    top = {key: check_value(_TOP_LEVEL, key, value, source) for key, value in data.items()}
    if "params" not in top:
        raise ValueError(f"{source}: params is missing; it sets algo, env and what to sweep")
    evaluation = check_keys(_EVALUATION, top.get("evaluation", {}), f"{source}: evaluation")
    resources = check_keys(_RESOURCES, top.get("resources", {}), f"{source}: resources")

    search = top.get("search", "grid")
    params = _parse_params(top["params"], source)
    _check_params(params, source)
    _check_search(search, params, source)

    return SweepSpec(
        name=top.get("name", default_name),
        params=params,
        search=search,
        samples=top.get("samples", 1),
        search_seed=top.get("search_seed", 0),
        eval_every=evaluation.get("every"),
        eval_episodes=evaluation.get("episodes", 5),
        cpu=resources.get("cpu", 1.0),
        gpu=resources.get("gpu", 0.0),
        max_concurrent=top.get("max_concurrent"),
        max_failures=top.get("max_failures", 2),
        source=source,
    )


def _parse_params(params: Any, source: str) -> dict[str, Space]:
    if not isinstance(params, Mapping):
        raise ValueError(
            f"{source}: params={params!r} is not accepted; expected a mapping of parameters "
            "(algo, env, recipe keys) to values or search spaces"
        )
    for required in ("algo", "env"):
        if required not in params:
            raise ValueError(f"{source}: params: {required} is missing; every trial needs one")
    spaces = {str(key): parse_space(str(key), value, source) for key, value in params.items()}
    for key in ("algo", "env"):
        if spaces[key].kind not in ("fixed", "grid", "choice"):
            raise ValueError(
                f"{source}: params: {key}={spaces[key].to_data()!r} is not accepted; {key} "
                "takes a value, {grid: [...]} or {choice: [...]}"
            )
    return spaces


def _check_search(search: str, params: dict[str, Space], source: str) -> None:
    for key, space in params.items():
        if search == "grid" and space.random:
            raise ValueError(
                f"{source}: params: {key}={space.to_data()!r} is drawn at random, which "
                "search: grid does not do; set search: random, or list values with {grid: [...]}"
            )
        if search == "optuna" and space.kind == "grid":
            raise ValueError(
                f"{source}: params: {key}={space.to_data()!r} is not accepted with search: "
                "optuna, which samples every parameter; write {choice: [...]} instead"
            )


def _check_params(params: dict[str, Space], source: str) -> None:
    where = f"{source}: params"
    algos = [_checked_algo(algo, where) for algo in params["algo"].candidates()]
    envs = [_checked_env(env, where) for env in params["env"].candidates()]
    others = {key: space for key, space in params.items() if key not in ("algo", "env")}
    _check_keys(others, algos, where)

    # Every value on its own, then one whole configuration per algorithm and env, which catches
    # what depends on several keys (SAC on a discrete task, say).
    for algo in algos:
        place = where if len(algos) == 1 else f"{where} (algo {algo})"
        for key, space in others.items():
            for value in space.candidates():
                check_entry(algo, {key: value}, place, extra=RUN_KEYS)
    first = {key: space.candidates()[0] for key, space in others.items()}
    for algo, env in itertools.product(algos, envs):
        try:
            resolve_config(algo, env, **first)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None


def _checked_algo(algo: Any, where: str) -> str:
    try:
        return check_algo(algo)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def _checked_env(env: Any, where: str) -> str:
    try:
        check_env_id(env)
    except (ValueError, DependencyNotInstalled) as error:
        raise ValueError(f"{where}: env: {error}") from None
    return env


def _check_keys(others: dict[str, Space], algos: list[str], where: str) -> None:
    accepted = {"algo", "env", "policy_kwargs", *ENTRY_KEYS, *RUN_KEYS}
    for algo in algos:
        accepted |= set(HYPERPARAMS[algo])
    for key in others:
        if key in _SET_BY_SWEEP:
            raise ValueError(f"{where}: {key} is set by the sweep ({_SET_BY_SWEEP[key]})")
        if key not in accepted:
            kinds = dict.fromkeys(accepted - _SET_BY_SWEEP.keys(), POSITIVE_INT)
            check_value(kinds, key, None, where)  # raises, naming the key and the accepted ones
