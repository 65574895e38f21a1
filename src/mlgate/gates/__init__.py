"""Validation gates: challenger against champion, slices, data checks, budgets and drift."""
