"""The one place torch is imported, on first use."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np


@cache
def torch() -> Any:
    import torch as _torch

    _torch.set_num_threads(1)  # tiny graphs: threads only add latency
    return _torch


def warm_up() -> None:
    """Import torch and what judging imports on first use (a vector-Jacobian
    product pulls in torch.fx and sympy, 0.6 s; test points need numpy.random):
    the app does this in a worker, so no keystroke ever waits for it."""
    import numpy.random  # noqa: F401 - test points are drawn with it

    t = torch()
    x = t.ones((), requires_grad=True)
    t.autograd.grad(x * 2, x, grad_outputs=t.ones(()))


def dtype(name: str) -> Any:
    return getattr(torch(), name)


def to_value(tensor: Any) -> np.ndarray:
    """A tensor as a numpy float64 array (0-d for a number)."""
    return tensor.detach().to(torch().float64).numpy().copy()
