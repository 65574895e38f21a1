"""The pull-request check: stages, pipeline, rendering."""
