"""An SB3 callback that logs what the residual blocks of a Fixup policy are doing.

Fixup starts every residual branch at zero, so a deep network begins as a shallow one and
grows its branches during training. :class:`FixupMetricsCallback` makes that visible in
TensorBoard (or any SB3 logger output): each Fixup block's scalar multiplier, how large each
branch's output is relative to the residual stream it is added to, and each block's gradient
norm.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.buffers import BaseBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from torch import nn

from fixup_rl._validation import check_int
from fixup_rl.nn.fixup_block import FixupBlock
from fixup_rl.nn.impala_cnn import ImpalaCNN
from fixup_rl.nn.residual_mlp import ResidualMLP

Observations = torch.Tensor | dict[str, torch.Tensor]

# Module-path components that carry no information in a metric name, and short forms of the rest.
_DROPPED = {"mlp_extractor", "latent_pi", "mu", "extractors", "net", "cnn"}
_RENAMED = {
    "policy_net": "pi",
    "value_net": "vf",
    "features_extractor": "features",
    "pi_features_extractor": "pi_features",
    "vf_features_extractor": "vf_features",
}


class FixupMetricsCallback(BaseCallback):
    """Log the state of every residual network in the policy under ``fixup/``.

    Every residual network of the policy (each :class:`~fixup_rl.ResidualMLP` and
    :class:`~fixup_rl.ImpalaCNN`, target networks excluded) is named by a shortened module path:
    ``pi`` and ``vf`` for the towers of :class:`~fixup_rl.FixupActorCriticPolicy`, ``actor``
    and ``critic.qf0``, ``critic.qf1`` for SAC and TD3, ``features`` for a
    :class:`~fixup_rl.FixupMlpExtractor` or :class:`~fixup_rl.FixupCnnExtractor`. For a network
    ``<net>`` and its block ``i`` (0-based, counted over the whole network) it records:

    - ``fixup/<net>/block<i>/scale``: the Fixup block's scalar multiplier (Fixup blocks only);
    - ``fixup/<net>/block<i>/branch_ratio``: ``||branch(x)|| / ||x||`` over a probe batch, where
      ``x`` is the block's input and ``branch(x)`` its residual branch's output (the norms are
      taken over the whole batch); 0 for a Fixup block at initialization;
    - ``fixup/<net>/block<i>/grad_norm``: the L2 norm of the gradients that SB3's last
      ``train()`` left on the block's parameters (absent before the first update). For PPO and
      A2C these are the gradients after clipping. SAC and TD3 backpropagate the actor's loss
      through the critics without stepping them, so the critics' values include that part;
    - ``fixup/<net>/branch_ratio_mean`` and ``fixup/<net>/grad_norm_max``: the mean branch
      ratio and the largest gradient norm over all blocks of the network.

    The probe batch is up to ``probe_size`` (64) observations evenly spaced over the latest
    rollout (PPO, A2C) or the filled part of the replay buffer (SAC, TD3), prepared as SB3
    prepares training batches: replay-buffer observations are normalized with the
    ``VecNormalize`` wrapper, if any, and the critics read the stored actions. The policy runs
    on it in eval mode under ``torch.no_grad()``, with forward hooks on the blocks; it samples
    nothing, creates no gradients and consumes no random numbers, and every module's train/eval
    mode is restored afterwards, so training is exactly the same with and without the callback.

    Updates are counted by the model's ``_n_updates`` (PPO counts one per epoch, A2C one per
    rollout, SAC and TD3 one per gradient step). The first measurement is taken as soon as the
    buffer holds observations (before any update, for the initial state), then again each time
    ``_n_updates`` has grown by ``log_every`` since the last one: at the end of each rollout for
    on-policy algorithms, after each environment step for off-policy ones. Values are written at
    SB3's next ``dump`` (``log_interval`` of ``learn()``); a second measurement before that
    replaces the first. Per-block values are left out of the stdout table (they still reach
    TensorBoard, CSV and JSON); the per-network summaries are shown there too.

    :param log_every: measure every ``log_every`` policy updates (an integer >= 1)
    :param max_blocks: record per-block values for at most this many blocks per network, evenly
        spaced from the first block to the last (None: every block); the summaries always cover
        every block
    :param verbose: 1 to print the monitored networks when training starts, 2 to also print a
        line at each measurement
    """

    #: The largest number of observations in the probe batch.
    probe_size: int = 64

    def __init__(self, log_every: int = 10, max_blocks: int | None = None, verbose: int = 0):
        super().__init__(check_int("verbose", verbose, minimum=0))
        self.log_every = check_int("log_every", log_every, minimum=1)
        if max_blocks is not None:
            check_int("max_blocks", max_blocks, minimum=1)
        self.max_blocks = max_blocks
        self.networks: dict[str, nn.Module] = {}
        self._last_logged: int | None = None

    def _init_callback(self) -> None:
        self.networks = find_residual_networks(self.model.policy)
        self._last_logged = None
        if not self.networks:
            warnings.warn(
                "FixupMetricsCallback found no ResidualMLP or ImpalaCNN in the policy "
                f"{type(self.model.policy).__name__}, so it will log nothing; use a fixup_rl "
                "policy or a Fixup features extractor",
                stacklevel=2,
            )
        elif self.verbose >= 1:
            names = ", ".join(self.networks)
            print(
                f"FixupMetricsCallback: logging {names} under fixup/ every {self.log_every} updates"
            )

    def _on_step(self) -> bool:
        # Off-policy algorithms train between steps; on-policy ones only after a rollout, when
        # the rollout buffer is complete.
        if isinstance(self.model, OffPolicyAlgorithm):
            self._maybe_log()
        return True

    def _on_rollout_end(self) -> None:
        self._maybe_log()

    def compute_metrics(self) -> dict[str, float]:
        """Measure the policy now and return the values the callback would record.

        Branch ratios are missing while the model's buffer holds no observations.

        :return: the metrics, keyed by their ``fixup/...`` names
        """
        return self._metrics(self._probe())

    def _maybe_log(self) -> None:
        n_updates = self.model._n_updates
        due = self._last_logged is None or n_updates - self._last_logged >= self.log_every
        if not self.networks or not due:
            return
        probe = self._probe()
        if probe is None:
            return

        for key, value in self._metrics(probe).items():
            per_block = "/block" in key
            self.logger.record(key, value, exclude="stdout" if per_block else None)
        self._last_logged = n_updates
        if self.verbose >= 2:
            print(f"FixupMetricsCallback: measured at update {n_updates}")

    def _metrics(self, probe: tuple[Observations, torch.Tensor | None] | None) -> dict[str, float]:
        ratios = {} if probe is None else self._branch_ratios(*probe)
        metrics: dict[str, torch.Tensor] = {}
        for name, network in self.networks.items():
            blocks = list(network.blocks)
            grad_norms = [_grad_norm(block) for block in blocks]

            for i in evenly_spaced(len(blocks), self.max_blocks):
                prefix = f"fixup/{name}/block{i}"
                if isinstance(blocks[i], FixupBlock):
                    metrics[f"{prefix}/scale"] = blocks[i].scale.detach()[0]
                if blocks[i] in ratios:
                    metrics[f"{prefix}/branch_ratio"] = ratios[blocks[i]]
                if grad_norms[i] is not None:
                    metrics[f"{prefix}/grad_norm"] = grad_norms[i]

            measured = [ratios[block] for block in blocks if block in ratios]
            if measured:
                metrics[f"fixup/{name}/branch_ratio_mean"] = torch.stack(measured).mean()
            present = [norm for norm in grad_norms if norm is not None]
            if present:
                metrics[f"fixup/{name}/grad_norm_max"] = torch.stack(present).max()

        if not metrics:
            return {}
        # One transfer from the device for all values, rather than one per value (float32, as
        # MPS has no float64).
        values = torch.stack([value.float() for value in metrics.values()]).tolist()
        return dict(zip(metrics, values, strict=True))

    def _probe(self) -> tuple[Observations, torch.Tensor | None] | None:
        # The probe batch and, for replay buffers, the actions stored with it; None if empty.
        replay_buffer = getattr(self.model, "replay_buffer", None)
        if replay_buffer is not None:
            rows = _replay_rows(replay_buffer)
            if len(rows) == 0:
                return None
            observations = _select(replay_buffer.observations, rows, self.probe_size)
            vec_normalize = self.model.get_vec_normalize_env()
            if vec_normalize is not None:
                observations = vec_normalize.normalize_obs(observations)
            actions = _select(replay_buffer.actions, rows, self.probe_size)
            return _to_torch(replay_buffer, observations), replay_buffer.to_torch(actions)

        rollout_buffer = getattr(self.model, "rollout_buffer", None)
        if rollout_buffer is None:
            return None
        # The rollout buffer holds the observations as the policy saw them (VecNormalize
        # already applied). After train() SB3 has flattened its arrays to (steps * envs, ...).
        if getattr(rollout_buffer, "generator_ready", False):
            rows = None
        else:
            filled = rollout_buffer.buffer_size if rollout_buffer.full else rollout_buffer.pos
            if filled == 0:
                return None
            rows = np.arange(filled)
        observations = _select(rollout_buffer.observations, rows, self.probe_size)
        return _to_torch(rollout_buffer, observations), None

    def _branch_ratios(
        self, observations: Observations, actions: torch.Tensor | None
    ) -> dict[nn.Module, torch.Tensor]:
        policy = self.model.policy
        ratios: dict[nn.Module, torch.Tensor] = {}

        def measure(block: nn.Module, args: tuple[Any, ...], output: torch.Tensor) -> None:
            x = args[0]
            trunk = torch.linalg.vector_norm(x).clamp_min(torch.finfo(x.dtype).tiny)
            ratios[block] = torch.linalg.vector_norm(block.branch(x)) / trunk

        blocks = [block for network in self.networks.values() for block in network.blocks]
        handles = [block.register_forward_hook(measure) for block in blocks]
        modes = {module: module.training for module in policy.modules()}
        try:
            policy.train(False)
            with torch.no_grad():
                _run_policy(policy, observations, actions)
        finally:
            for handle in handles:
                handle.remove()
            for module, training in modes.items():
                module.training = training
        return ratios


def find_residual_networks(policy: nn.Module) -> dict[str, nn.Module]:
    """Find the ResidualMLP and ImpalaCNN networks of a policy, named by shortened module paths.

    Target networks (any path component ending in ``_target``) are left out: they are copies
    that never receive gradients. Names that would clash after shortening keep the full path.

    :param policy: the policy (or any module)
    :return: the networks by name, in module order
    """
    found = [
        (path, module)
        for path, module in policy.named_modules()
        if isinstance(module, (ResidualMLP, ImpalaCNN))
        and not any(part.endswith("_target") for part in path.split("."))
    ]
    short = [_short_name(path) for path, _ in found]
    return {
        name if short.count(name) == 1 else path: module
        for name, (path, module) in zip(short, found, strict=True)
    }


def evenly_spaced(n: int, k: int | None) -> list[int]:
    """Return ``k`` indices evenly spaced from ``0`` to ``n - 1`` (all ``n`` if ``k`` is None).

    :param n: the number of items
    :param k: how many to keep
    :return: sorted distinct indices, including the first and (for ``k >= 2``) the last
    """
    if k is None or k >= n:
        return list(range(n))
    return sorted({round(float(i)) for i in np.linspace(0, n - 1, k)})


def _short_name(path: str) -> str:
    parts = [_RENAMED.get(part, part) for part in path.split(".")]
    kept = [part for part in parts if part not in _DROPPED and not part.isdigit()]
    return ".".join(kept) or path or "net"


def _replay_rows(buffer: BaseBuffer) -> np.ndarray:
    # The rows SB3 samples from: while the buffer is full, the row at `pos` is left out, as its
    # transition may be incomplete.
    if buffer.full:
        return (np.arange(1, buffer.buffer_size) + buffer.pos) % buffer.buffer_size
    return np.arange(buffer.pos)


def _select(
    stored: np.ndarray | dict[str, np.ndarray], rows: np.ndarray | None, size: int
) -> np.ndarray | dict[str, np.ndarray]:
    # Stored arrays are (buffer_size, n_envs, ...), or already flat when rows is None.
    if isinstance(stored, dict):
        return {key: _select(array, rows, size) for key, array in stored.items()}
    flat = stored if rows is None else stored[rows].reshape(-1, *stored.shape[2:])
    picked = np.linspace(0, len(flat) - 1, min(size, len(flat))).round().astype(int)
    return flat[np.unique(picked)]


def _to_torch(buffer: BaseBuffer, observations: np.ndarray | dict[str, np.ndarray]) -> Observations:
    if isinstance(observations, dict):
        return {key: buffer.to_torch(array) for key, array in observations.items()}
    return buffer.to_torch(observations)


def _run_policy(
    policy: BasePolicy, observations: Observations, actions: torch.Tensor | None
) -> None:
    # Deterministic passes through every network that trains: actor (or Q-network) and critic.
    if isinstance(policy, ActorCriticPolicy):
        policy.get_distribution(observations)
        policy.predict_values(observations)
        return
    policy._predict(observations, deterministic=True)
    critic = getattr(policy, "critic", None)
    if isinstance(critic, nn.Module) and actions is not None:
        critic(observations, actions)


def _grad_norm(block: nn.Module) -> torch.Tensor | None:
    grads = [param.grad.detach() for param in block.parameters() if param.grad is not None]
    if not grads:
        return None
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
