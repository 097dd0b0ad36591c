"""My settings: a person picks the zone her pages are shown in."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from . import SESSION_KEY, schedule_zone, set_zone, stored_zone, zone_choices


class ZoneForm(forms.Form):
    timezone = forms.ChoiceField(label="Time zone", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = schedule_zone().key
        self.fields["timezone"].choices = [("", f"The zone most shifts use ({default})")] + [
            (name, name) for name in zone_choices()
        ]
        self.fields["timezone"].help_text = "Every page and admin list shows your times in this zone."


@login_required
def my_settings(request):
    """Show and change the signed-in person's zone; back to where she came from (?next=) when saved."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    stored = stored_zone(request.user)
    form = ZoneForm(request.POST or None, initial={"timezone": stored})
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["timezone"]
        set_zone(request.user, name)
        request.session.pop(SESSION_KEY, None)  # her setting now wins over a zone picked on a page
        messages.success(request, f"Saved: your times are shown in {name or schedule_zone().key}.")
        return redirect(next_url or "my_settings")
    stale = ""
    if stored and stored not in dict(form.fields["timezone"].choices):
        stale = f"Time zone: your stored zone {stored!r} is not a time zone any more: choose one."
    return render(request, "people/settings.html", {"form": form, "next": next_url, "stale": stale})
