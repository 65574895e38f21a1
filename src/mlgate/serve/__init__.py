"""The scoring server that runs inside the published image (``mlgate serve``)."""

# Request bodies above this size are refused with 413 (``--max-request-bytes``).
DEFAULT_MAX_REQUEST_BYTES = 10 * 1024 * 1024
