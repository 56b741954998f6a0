"""autograd-tutor: learn PyTorch autograd and the chain rule, step by step."""

__version__ = "0.1.0"
