"""mlgate: MLOps discipline on every pull request of a machine-learning repository."""

__version__ = "0.1.0"
