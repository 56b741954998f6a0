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


def dtype(name: str) -> Any:
    return getattr(torch(), name)


def to_value(tensor: Any) -> np.ndarray:
    """A tensor as a numpy float64 array (0-d for a number)."""
    return tensor.detach().to(torch().float64).numpy().copy()
