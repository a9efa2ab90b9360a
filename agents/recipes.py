"""Reading and checking the recipe files: one YAML file per algorithm under ``recipes/``.

A recipe file has three top-level keys::

    network:            # the network every entry uses unless it sets its own
      net: fixup
      depth: 2
      width: 64
    default:            # the entry for catalogue tasks that ``envs`` does not list
      n_timesteps: 1000000
      normalize: true
    envs:
      Pendulum-v1:      # one entry per versioned env id
        n_timesteps: 100000
        n_envs: 4
        gamma: 0.9
        policy_kwargs: {log_std_init: -2.0}

An entry holds ``n_timesteps`` (required), ``n_envs``, ``normalize``, ``net``, ``depth``,
``width``, ``policy_kwargs`` and the algorithm's SB3 hyperparameters (see
:data:`~fixup_rl.agents.schema.HYPERPARAMS`). Files are read with ``yaml.safe_load`` only;
every key and value is checked, and an unknown key is an error.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fixup_rl.agents.schema import (
    ALGOS,
    ENTRY_KEYS,
    HYPERPARAMS,
    NETWORK_KEYS,
    OFF_POLICY,
    POLICY_KWARGS,
    Kind,
    Rejected,
)
from fixup_rl.envs import CATALOGUE, RANDOMIZED, EnvInfo, accepted_ids

RECIPES_DIR = Path(__file__).parent / "recipes"
"""The folder of the recipe files shipped with fixup_rl, ``<algo>.yml`` for each algorithm."""

_TOP_LEVEL = ("network", "default", "envs")


@dataclass(frozen=True)
class Recipe:
    """The checked content of one recipe file, every value in canonical form.

    :param algo: the algorithm, one of :data:`~fixup_rl.agents.ALGOS`
    :param path: the file it was read from
    :param network: the file's ``network`` block (``net``, ``depth``, ``width``)
    :param default: the entry for tasks that ``envs`` does not list
    :param envs: the entry of each listed env id
    """

    algo: str
    path: Path
    network: dict[str, Any]
    default: dict[str, Any]
    envs: dict[str, dict[str, Any]]

    def entry_for(self, env_id: str) -> tuple[str, dict[str, Any]]:
        """Return the entry that applies to ``env_id`` and its name.

        Lookup order: the id itself; for a randomized id, the task it randomizes; the
        ``default`` entry.

        :param env_id: an id accepted by :func:`~fixup_rl.envs.check_env_id`
        :return: the entry's name (an env id or ``"default"``) and a copy of the entry
        """
        base_id = RANDOMIZED[env_id].base_id if env_id in RANDOMIZED else None
        for name in (env_id, base_id):
            if name is not None and name in self.envs:
                return name, copy.deepcopy(self.envs[name])
        return "default", copy.deepcopy(self.default)


def recipe_path(algo: str, recipes_dir: str | Path | None = None) -> Path:
    """Return the path of ``algo``'s recipe file.

    :param algo: one of :data:`~fixup_rl.agents.ALGOS`
    :param recipes_dir: the folder holding the recipe files; ``None`` for the shipped ones
    :return: ``<recipes_dir>/<algo>.yml``
    """
    check_algo(algo)
    return Path(RECIPES_DIR if recipes_dir is None else recipes_dir) / f"{algo}.yml"


def load_recipe(algo: str, recipes_dir: str | Path | None = None) -> Recipe:
    """Read and check ``algo``'s recipe file.

    :param algo: one of :data:`~fixup_rl.agents.ALGOS`
    :param recipes_dir: the folder holding the recipe files; ``None`` for the shipped ones
    :return: the checked recipe
    :raises ValueError: when the file is missing, is not valid YAML, or holds a key or value
        that is not accepted; the message names the file, the entry, the key, the value and
        what is accepted
    """
    path = recipe_path(algo, recipes_dir)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"cannot read the {algo} recipe file {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise ValueError(f"{path}{line}: not valid YAML: {problem}") from error

    if not isinstance(data, Mapping) or set(data) != set(_TOP_LEVEL):
        found = sorted(map(str, data)) if isinstance(data, Mapping) else type(data).__name__
        raise ValueError(
            f"{path}: a recipe file must be a mapping with exactly the keys "
            f"{', '.join(_TOP_LEVEL)}; found {found}"
        )

    network = _check_network(path, data["network"])
    default = check_entry(algo, data["default"], f"{path}: entry 'default'")
    envs = data["envs"]
    if not isinstance(envs, Mapping):
        raise ValueError(f"{path}: 'envs' must map env ids to entries, got {envs!r}")
    entries = {}
    for env_id, entry in envs.items():
        _check_listed_id(algo, path, env_id)
        entries[env_id] = check_entry(algo, entry, f"{path}: entry {env_id!r}")
    for name, entry in (("default", default), *entries.items()):
        if "n_timesteps" not in entry:
            raise ValueError(f"{path}: entry {name!r} must set n_timesteps (an integer >= 1)")
    return Recipe(algo, path, network, default, entries)


def check_algo(algo: Any) -> str:
    """Return ``algo`` if it is one of :data:`~fixup_rl.agents.ALGOS`.

    :raises ValueError: naming the value and the accepted algorithms
    """
    if not isinstance(algo, str) or algo not in ALGOS:
        raise ValueError(
            f"algo must be one of {', '.join(ALGOS)}, got {algo!r}" + _did_you_mean(algo, ALGOS)
        )
    return algo


def check_entry(
    algo: str, entry: Any, where: str, extra: Mapping[str, Kind] | None = None
) -> dict[str, Any]:
    """Check one recipe entry (or a set of overrides) and return it in canonical form.

    :param algo: the algorithm whose keys apply
    :param entry: a mapping of entry keys, hyperparameters and ``policy_kwargs``
    :param where: the file and entry, for error messages
    :param extra: further keys accepted here (the run settings, for overrides)
    :return: the entry, each value in canonical form, ``policy_kwargs`` checked too
    :raises ValueError: for an unknown key or a value that is not accepted
    """
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: an entry must be a mapping of keys to values, got {entry!r}")
    kinds = {**ENTRY_KEYS, **HYPERPARAMS[algo], **(extra or {})}
    checked: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "policy_kwargs":
            if isinstance(value, Mapping) and "net_arch" in value:
                raise ValueError(
                    f"{where}: policy_kwargs: net_arch={value['net_arch']!r} is not accepted; "
                    "the network comes from net, depth and width"
                )
            checked[key] = check_keys(POLICY_KWARGS[algo], value, f"{where}: policy_kwargs")
        else:
            checked[key] = check_value(kinds, key, value, where, also=("policy_kwargs",))
    return checked


def check_keys(kinds: Mapping[str, Kind], values: Any, where: str) -> dict[str, Any]:
    """Check a mapping whose keys must all be in ``kinds``.

    :raises ValueError: for a value that is not a mapping, an unknown key or a bad value
    """
    if not isinstance(values, Mapping):
        raise ValueError(f"{where}: expected a mapping of keys to values, got {values!r}")
    return {key: check_value(kinds, key, value, where) for key, value in values.items()}


def check_value(
    kinds: Mapping[str, Kind], key: Any, value: Any, where: str, also: tuple[str, ...] = ()
) -> Any:
    """Check one key and its value against ``kinds``; return the value in canonical form.

    ``also`` names further accepted keys, checked elsewhere, for the error message.

    :raises ValueError: naming ``where``, the key, the value and what is accepted
    """
    if key not in kinds:
        raise ValueError(
            f"{where}: unknown key {key!r}{_did_you_mean(key, [*kinds, *also])}; "
            f"accepted keys: {', '.join(sorted([*kinds, *also]))}"
        )
    try:
        return kinds[key].check(value)
    except Rejected:
        hint = ""
        if isinstance(value, str) and _looks_numeric(value):
            hint = " (YAML reads a number without a dot, like 1e-3, as a string: write 1.0e-3)"
        raise ValueError(
            f"{where}: {key}={value!r} is not accepted; expected {kinds[key].accepted}{hint}"
        ) from None


def _check_network(path: Path, network: Any) -> dict[str, Any]:
    where = f"{path}: network"
    checked = check_keys(NETWORK_KEYS, network, where)
    missing = [key for key in NETWORK_KEYS if key not in checked]
    if missing:
        raise ValueError(f"{where}: must set {', '.join(missing)} ({', '.join(NETWORK_KEYS)})")
    return checked


def _check_listed_id(algo: str, path: Path, env_id: Any) -> None:
    ids = accepted_ids()
    if env_id not in ids:
        raise ValueError(
            f"{path}: envs: {env_id!r} is not a supported env id{_did_you_mean(env_id, ids)}; "
            f"accepted ids: {', '.join(ids)}"
        )
    info: EnvInfo = CATALOGUE.get(env_id) or RANDOMIZED[env_id]
    if algo in OFF_POLICY and info.action_kind == "discrete":
        raise ValueError(
            f"{path}: envs: {env_id} has a discrete action space, which {algo} cannot act in; "
            "remove the entry"
        )


def _did_you_mean(value: Any, choices: Any) -> str:
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
