"""Data drift: per-column tests on cacheable reference summaries, one vectorised pass per column."""
