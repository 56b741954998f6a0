"""The one place torch is imported, on first use."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def torch() -> Any:
    import torch as _torch

    _torch.set_num_threads(1)  # tiny graphs: threads only add latency
    return _torch


def dtype(name: str) -> Any:
    return getattr(torch(), name)


def to_value(tensor: Any) -> float | tuple:
    """A tensor as a float, or nested tuples of floats."""
    data = tensor.detach().tolist()
    return _tuples(data)


def _tuples(data: Any) -> Any:
    return tuple(_tuples(d) for d in data) if isinstance(data, list) else float(data)
