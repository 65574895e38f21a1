"""Production monitoring: captured (or exported) production data against the model's reference
and live labels, with the same gates as the pull-request check (``mlgate monitor``)."""
