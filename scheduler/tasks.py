"""Celery tasks: thin shells around the domain functions."""

import socket

from celery import shared_task


@shared_task
def ping() -> dict:
    """Answer from a worker: proves the broker and the result backend carry a round trip."""
    return {"pong": True, "worker": socket.gethostname()}
