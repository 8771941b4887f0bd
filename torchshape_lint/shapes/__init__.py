"""Dimensions, PyTorch's shape formulas, and the table of layers."""
