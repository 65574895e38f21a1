"""Reproducibility: content-addressed lock of a model's inputs, re-run checks, run records."""
