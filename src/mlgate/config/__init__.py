"""mlgate.yaml: loading, schema validation with precise errors, and the typed result."""
