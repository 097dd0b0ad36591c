"""Forms of the request pages: each turns what a person typed into the arguments of one service."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms

from queues.models import Agent
from scheduler.models import Shift
from scheduler.recurrence import to_utc


class TimeOffForm(forms.Form):
    """Whole days (first to last day), or part of one day (from and to times on the first day)."""

    first_day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Empty: the first day only."
    )
    from_time = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}), help_text="Part of a day: from…"
    )
    to_time = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}), help_text="…to.")
    reason = forms.CharField(max_length=200, required=False)

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", "the last day is before the first: pick a later last day or leave it empty")
        if bool(data.get("from_time")) != bool(data.get("to_time")):
            self.add_error("to_time", "part of a day needs both a from and a to time (or neither, for whole days)")
        return data

    def span(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC span asked for, DST-safe: whole days run from local midnight to local midnight."""
        data = self.cleaned_data
        first, last = data["first_day"], data.get("last_day") or data["first_day"]
        if data.get("from_time"):
            end_day = first if data["to_time"] > data["from_time"] else first + timedelta(days=1)
            return to_utc(first, data["from_time"], tz), to_utc(end_day, data["to_time"], tz)
        return to_utc(first, time(0), tz), to_utc(last + timedelta(days=1), time(0), tz)


class OfferForm(forms.Form):
    shift = forms.ModelChoiceField(queryset=Shift.objects.none(), widget=forms.HiddenInput)
    occurrence = forms.DateField(widget=forms.HiddenInput)
    colleague = forms.ModelChoiceField(
        queryset=Agent.objects.filter(active=True), required=False, empty_label="anyone eligible"
    )
    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, agent: Agent, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shift"].queryset = Shift.objects.filter(agents=agent)  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("deny", "Deny")])
    note = forms.CharField(max_length=500, required=False)


class PublishForm(forms.Form):
    shift = forms.ModelChoiceField(queryset=Shift.objects.all())
    occurrence = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    seats = forms.IntegerField(min_value=1, max_value=50, initial=1)
