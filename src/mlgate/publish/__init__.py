"""Delivery: build context, docker build, smoke test, push with digest, release and deploy."""
