"""Forms of the receptionist pages. Each names the agent it acts for, so the view can refuse anyone else's."""

from datetime import datetime, timedelta

from django import forms

from integrations.base import ProviderName
from queues.models import Agent, DndStatus, Override, QueueMembership

PROVIDER_ID_LENGTH = Agent._meta.get_field("provider_id").max_length
DURATIONS = [
    ("", "until my schedule changes"),
    ("30", "for 30 minutes"),
    ("60", "for 1 hour"),
    ("120", "for 2 hours"),
    ("240", "for 4 hours"),
]


class AgentActionForm(forms.Form):
    # The acting agent's provider id, checked against the login.
    agent = forms.CharField(widget=forms.HiddenInput, max_length=PROVIDER_ID_LENGTH)
    duration = forms.TypedChoiceField(choices=DURATIONS, required=False, coerce=int, empty_value=None)
    # Set by the confirm step: she has read that the change leaves an open queue below its min staff.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, agent: Agent, **kwargs):
        super().__init__(*args, **kwargs)
        self.acting = agent

    def until(self, at: datetime) -> datetime | None:
        """The chosen end, or None for 'until my schedule changes'."""
        minutes = self.cleaned_data.get("duration")
        return at + timedelta(minutes=minutes) if minutes else None

    def hold(self) -> dict:
        """What to hold, as place_override's keyword arguments."""
        raise NotImplementedError


class ToggleForm(AgentActionForm):
    queue = forms.CharField(widget=forms.HiddenInput, max_length=PROVIDER_ID_LENGTH)
    accept = forms.TypedChoiceField(choices=[("on", "Take calls"), ("off", "Stop taking calls")], coerce="on".__eq__)

    def clean_queue(self):
        queue_id = self.cleaned_data["queue"]
        membership = (
            QueueMembership.objects.filter(agent=self.acting, queue__provider_id=queue_id)
            .select_related("queue")
            .first()
        )
        if membership is None:
            raise forms.ValidationError(f"you are not a member of queue {queue_id}; pick one of the queues listed.")
        if not membership.queue.editable_member_status:
            raise forms.ValidationError(
                f"{membership.queue.name} does not let its members change their own status at "
                f"{ProviderName(membership.queue.provider).label}; ask a supervisor to change it for you."
            )
        return membership.queue

    def hold(self) -> dict:
        return {"queue": self.cleaned_data["queue"], "accept": self.cleaned_data["accept"]}


class AwayForm(AgentActionForm):
    status = forms.ChoiceField(
        choices=[(DndStatus.DO_NOT_ACCEPT_DEPARTMENT_CALLS, "Step away"), (DndStatus.TAKE_ALL_CALLS, "I'm back")]
    )

    def hold(self) -> dict:
        return {"dnd_status": self.cleaned_data["status"]}


class CancelForm(forms.Form):
    agent = forms.CharField(widget=forms.HiddenInput, max_length=PROVIDER_ID_LENGTH)
    override = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, agent: Agent, **kwargs):
        super().__init__(*args, **kwargs)
        self.acting = agent

    def clean_override(self):
        """The override; the view refuses one that belongs to another agent."""
        override = Override.objects.filter(pk=self.cleaned_data["override"]).select_related("agent", "queue").first()
        if override is None:
            raise forms.ValidationError("that override no longer exists; reload the page.")
        return override
