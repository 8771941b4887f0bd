"""torchshape-lint: find tensor shape mismatches in PyTorch model code without running it."""

__version__ = "0.1.0"
