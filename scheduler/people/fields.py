"""Form fields for times: a wall time whose zone the form names itself, and the zone picked from a list."""

from datetime import UTC

from django import forms
from django.utils import timezone

from scheduler import recurrence

from . import zone_choices


class WallTimeField(forms.DateTimeField):
    """A date and time as typed: parsed without the viewer's zone, so the form applies its own zone to it.

    Parsed in the viewer's zone, a wall time that zone skips (02:30 on a spring-forward day) would be
    refused before the form could read it in the zone it was meant in.
    """

    def to_python(self, value):
        with timezone.override(UTC):
            return super().to_python(value)


class ZoneField(forms.ChoiceField):
    """An IANA zone picked from a list, the schedule's own zones first; a typed-in name that is no zone is
    refused with the model's own message (naming the fix), and a stored one this system no longer knows is
    kept in the list, marked, so the page shows what is stored instead of silently choosing another."""

    def __init__(self, *, stored: str = "", **kwargs):
        super().__init__(**kwargs)
        choices = [(zone, zone) for zone in zone_choices()]
        if stored and stored not in dict(choices):
            choices.insert(0, (stored, f"{stored} (not a time zone: choose another)"))
        self.choices = [("", "---------")] + choices

    def validate(self, value):
        if value and not self.valid_value(value):
            try:
                recurrence.zone(value)
            except ValueError as error:  # "unknown timezone 'X': use an IANA name such as Europe/Kyiv"
                raise forms.ValidationError(str(error)) from None
        super().validate(value)
