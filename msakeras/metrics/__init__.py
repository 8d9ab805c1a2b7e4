"""Evaluation metrics (NumPy, MMSA protocol) and result tables."""
