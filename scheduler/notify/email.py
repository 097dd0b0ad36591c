"""Email through Django's email backend: the console by default, SMTP when EMAIL_URL is set."""

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mass_mail


class EmailChannel:
    name = "email"

    def send(self, *, to: list[User], subject: str, body: str) -> None:
        """One email per recipient (so no one sees the others' addresses); users without an address are skipped."""
        messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]) for user in to if user.email]
        send_mass_mail(messages, fail_silently=False)
