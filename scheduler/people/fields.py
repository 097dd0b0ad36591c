"""A form field for a wall time whose zone the form names itself, whatever zone the page is shown in."""

from datetime import UTC

from django import forms
from django.utils import timezone


class WallTimeField(forms.DateTimeField):
    """A date and time as typed: parsed without the viewer's zone, so the form applies its own zone to it.

    Parsed in the viewer's zone, a wall time that zone skips (02:30 on a spring-forward day) would be
    refused before the form could read it in the zone it was meant in.
    """

    def to_python(self, value):
        with timezone.override(UTC):
            return super().to_python(value)
