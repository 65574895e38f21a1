"""The scoring server that runs inside the published image (``mlgate serve``)."""
