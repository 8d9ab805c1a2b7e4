"""Optimizers with PyTorch semantics the reference code relies on."""
