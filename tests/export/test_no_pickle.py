"""Loading an export unpickles nothing: no pickle, no torch.load, in a fresh process."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
from stable_baselines3 import SAC

import fixup_rl.export
from fixup_rl import FixupSACPolicy
from fixup_rl.export import export_policy

# Run in a fresh process: the unpickling functions raise once fixup_rl is imported, and Python's
# audit hook stops any unpickler (pickle.Unpickler subclasses and C code included) the moment it
# looks up a class, which is how a pickle runs code.
UNPICKLING_MODULES = {"pickle", "_pickle", "cloudpickle", "dill", "marshal", "shelve", "joblib"}
UNPICKLING_CALLS = {"torch.load", "np.load", "numpy.load", "eval", "exec", "yaml.load"}

LOADER = textwrap.dedent(
    """
    import json, pickle, sys
    import numpy as np
    import torch
    import fixup_rl

    armed = []

    def hook(event, args):
        if armed and event == "pickle.find_class":
            raise RuntimeError(f"unpickled {args}")

    def refuse(*args, **kwargs):
        raise RuntimeError("an unpickling function was called")

    sys.addaudithook(hook)
    pickle.load = pickle.loads = torch.load = refuse
    armed.append(True)

    policy = fixup_rl.load_policy(sys.argv[1])
    observations = np.array(json.loads(sys.argv[2]), dtype=np.float32)
    print(json.dumps(policy.predict(observations)[0].tolist()))
    """
)


def test_a_fresh_process_loads_the_export_without_unpickling(
    tmp_path: Path, as_if_trained: Callable, rollout_observations: Callable
) -> None:
    model = SAC(FixupSACPolicy, "Pendulum-v1", policy_kwargs=dict(width=16), device="cpu")
    as_if_trained(model, model.get_env())
    export_policy(model, tmp_path)
    observations = rollout_observations("Pendulum-v1", count=8)

    done = subprocess.run(
        [sys.executable, "-c", LOADER, str(tmp_path), json.dumps(observations.tolist())],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    actions = np.array(json.loads(done.stdout), dtype=np.float32)
    np.testing.assert_array_equal(actions, model.predict(observations, deterministic=True)[0])


def test_the_export_code_calls_no_unpickling_function() -> None:
    # The export package, writer included, never unpickles; only the CLI reads the trusted run.
    for path in Path(fixup_rl.export.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        called = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}

        assert not imported & UNPICKLING_MODULES, path.name
        assert not called & UNPICKLING_CALLS, path.name
