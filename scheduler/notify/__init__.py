"""Telling people things: one small interface, one adapter per channel.

A channel delivers a subject and a body to some users; `notify` sends through every configured channel and
never lets one channel's failure stop another or the caller (a missed email must not undo an approval).
"""

import logging
from collections.abc import Iterable
from typing import Protocol

from django.conf import settings
from django.contrib.auth.models import User

from scheduler.models import NotificationMute

from .email import EmailChannel
from .team_messaging import TeamMessagingChannel

log = logging.getLogger(__name__)


class Channel(Protocol):
    name: str

    def send(self, *, to: list[User], subject: str, body: str) -> None: ...


def channels() -> list[Channel]:
    """The channels configured for this installation, email first; a person may mute any of them."""
    configured: list[Channel] = [EmailChannel()]
    if settings.RC_TEAM_MESSAGING_CHAT_ID:
        configured.append(TeamMessagingChannel(settings.RC_TEAM_MESSAGING_CHAT_ID))
    return configured


def notify(*, users: Iterable[User], subject: str, body: str) -> None:
    """Send one message to these users by every configured channel; a failing channel is logged, not raised."""
    to = [user for user in users if user.is_active]
    if not to:
        return
    muted = set(NotificationMute.objects.filter(user__in=to).values_list("user_id", "channel"))
    for channel in channels():
        listening = [user for user in to if (user.pk, channel.name) not in muted]
        if not listening:
            continue
        try:
            channel.send(to=listening, subject=subject, body=body)
        except Exception:  # noqa: BLE001 - one channel's outage must not stop the others or the caller
            log.exception("notification by %s failed: %s", channel.name, subject)
