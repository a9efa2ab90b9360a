"""Ready-made agents: SB3 algorithms with Fixup networks and per-task recipes.

Each algorithm of :data:`ALGOS` has a recipe file (``recipes/<algo>.yml``) with
hyperparameters per env id, adapted from rl-baselines3-zoo. :func:`resolve_config` turns a
recipe entry and overrides into a plain configuration; :func:`make_agent` builds the model and
its env::

    from fixup_rl.agents import make_agent, resolve_config

    config = resolve_config("ppo", "Pendulum-v1", depth=4)
    model, env = make_agent("ppo", "Pendulum-v1", depth=4)
    model.learn(config["n_timesteps"])
"""

from fixup_rl.agents.config import hidden_layers, resolve_config
from fixup_rl.agents.factory import algo_class, build_agent, make_agent, make_env
from fixup_rl.agents.recipes import RECIPES_DIR, Recipe, load_recipe, recipe_path
from fixup_rl.agents.schema import ALGOS, NETS

__all__ = [
    "ALGOS",
    "NETS",
    "RECIPES_DIR",
    "Recipe",
    "algo_class",
    "build_agent",
    "hidden_layers",
    "load_recipe",
    "make_agent",
    "make_env",
    "recipe_path",
    "resolve_config",
]
