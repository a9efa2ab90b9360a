"""The Fixup rescaling rule."""

from __future__ import annotations

from fixup_rl._validation import check_int


def fixup_scale(num_blocks: int, m: int) -> float:
    """Return the factor by which Fixup shrinks the He-initialized branch layers.

    With ``L = num_blocks`` residual branches of ``m`` weight layers each, every branch layer
    but the last is initialized with He (Kaiming) normal init and then multiplied by

    .. math:: L^{-1 / (2m - 2)}

    (the last layer of each branch starts at zero). For ``m = 2`` this is ``L^-1/2``, for the
    bottleneck form ``m = 3`` it is ``L^-1/4``. With this factor one gradient step changes the
    output of the whole network by an amount that does not grow with depth.

    Zhang, Dauphin & Ma, "Fixup Initialization: Residual Learning Without Normalization",
    ICLR 2019, https://arxiv.org/abs/1901.09321 (rule 2 of the Fixup recipe).

    :param num_blocks: ``L``, the number of residual blocks of the network (>= 1)
    :param m: the number of weight layers in each residual branch (>= 2)
    :return: ``num_blocks ** (-1 / (2 * m - 2))``
    """
    num_blocks = check_int("num_blocks", num_blocks, minimum=1)
    m = check_int("m", m, minimum=2)
    return float(num_blocks ** (-1.0 / (2 * m - 2)))
