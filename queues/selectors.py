"""Reads of the telephony-side entities that the pages above share."""

from .models import Agent


def agent_of_login(user) -> Agent | None:
    """The active agent this login acts as, or None: an agent who has left acts for no one."""
    return Agent.objects.filter(user=user, active=True).first()
