"""DVC and MLflow: mlgate reads their files and stores; neither is ever required."""
