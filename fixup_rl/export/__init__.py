"""Pickle-free export of trained policies: ``policy.json`` plus ``policy.safetensors``.

SB3's ``.zip`` model files hold pickled Python objects, and unpickling a file runs whatever
code it names: load a ``.zip`` only from a source you trust. An export holds plain JSON and
tensors only. :func:`export_policy` (or ``fixup-rl export RUN_DIR``) writes one on the
trusted side; :func:`load_policy` rebuilds the policy from it without unpickling anything,
accepting only the classes and keys it knows, and the rebuilt policy acts exactly like the
original::

    from fixup_rl import load_policy

    policy = load_policy("runs/ppo-Pendulum-v1-fixup-s0-20261203-120000/export/final")
    action, _ = policy.predict(observation)  # the env's raw observation
"""

from fixup_rl.export.fields import PolicyFileError
from fixup_rl.export.loader import load_policy
from fixup_rl.export.policy import ExportedPolicy
from fixup_rl.export.spec import SPEC_FILE, WEIGHTS_FILE
from fixup_rl.export.writer import export_policy

__all__ = [
    "SPEC_FILE",
    "WEIGHTS_FILE",
    "ExportedPolicy",
    "PolicyFileError",
    "export_policy",
    "load_policy",
]
