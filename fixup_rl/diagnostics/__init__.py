"""Diagnostics: the Fixup theory, measured on your own networks.

Three measurements, each a function of its own, and a report that runs them all over depths
and residual schemes (``python -m fixup_rl.diagnostics``, or ``fixup-rl diagnose``):

- :func:`signal_propagation`: the output std, the gradient norms with respect to the input and
  to the first layer, and every residual branch's output, at init;
- :func:`output_change`: how far a few optimizer steps move the network's output, the size of
  a learning step, which Fixup keeps independent of depth;
- :func:`batch_coupling`: whether an SB3 policy's output for one observation depends on the
  rest of its batch (BatchNorm in train mode does; Fixup never does).

Zhang, Dauphin & Ma, "Fixup Initialization: Residual Learning Without Normalization",
ICLR 2019, https://arxiv.org/abs/1901.09321
"""

from fixup_rl.diagnostics.batch_coupling import batch_coupling
from fixup_rl.diagnostics.checks import check_report
from fixup_rl.diagnostics.cli import add_diagnose_arguments, main, run_diagnose
from fixup_rl.diagnostics.files import to_json, write_results
from fixup_rl.diagnostics.signal_propagation import signal_propagation
from fixup_rl.diagnostics.sweep import DiagnoseConfig, run_diagnostics
from fixup_rl.diagnostics.table import print_report
from fixup_rl.diagnostics.update_size import (
    output_change,
    variant_output_change,
    variant_param_groups,
)

__all__ = [
    "DiagnoseConfig",
    "add_diagnose_arguments",
    "batch_coupling",
    "check_report",
    "main",
    "output_change",
    "print_report",
    "run_diagnose",
    "run_diagnostics",
    "signal_propagation",
    "to_json",
    "variant_output_change",
    "variant_param_groups",
    "write_results",
]
