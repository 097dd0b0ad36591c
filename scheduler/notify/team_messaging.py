"""RingCentral Team Messaging: one post in the configured chat, naming who it is for.

Sent through the RingCentral client, so it has the client's auth, pacing and retries. A chat is shared, so a
message goes once, addressed to the people it is for; those who muted this channel are not named.
"""

from django.contrib.auth.models import User

from integrations.ringcentral.client import client_from_settings


class TeamMessagingChannel:
    name = "team_messaging"

    def __init__(self, chat_id: str):
        self.chat_id = chat_id

    def send(self, *, to: list[User], subject: str, body: str) -> None:
        """One post: the people it is for, the subject in bold, then the body."""
        names = ", ".join(user.get_full_name() or user.get_username() for user in to)
        client_from_settings().post_to_chat(self.chat_id, f"For {names}: **{subject}**\n{body}")
