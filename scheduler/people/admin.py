"""People's time zones in the admin: a supervisor sets the zone a receptionist's (or her own) pages use."""

from django import forms
from django.contrib import admin

from scheduler.models import PersonZone

from . import schedule_zone, zone_choices


class PersonZoneForm(forms.ModelForm):
    timezone = forms.ChoiceField(label="Time zone", required=False)

    class Meta:
        model = PersonZone
        fields = ["user", "timezone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", f"The zone most shifts use ({schedule_zone().key})")] + [(z, z) for z in zone_choices()]
        stored = self.instance.timezone if self.instance.pk else ""
        if stored and stored not in dict(choices):
            choices.insert(1, (stored, f"{stored} (not a time zone: choose another)"))
        self.fields["timezone"].choices = choices
        self.fields["timezone"].help_text = PersonZone._meta.get_field("timezone").help_text


@admin.register(PersonZone)
class PersonZoneAdmin(admin.ModelAdmin):
    form = PersonZoneForm
    list_display = ["user", "zone"]
    search_fields = ["user__username"]
    ordering = ["user__username"]

    @admin.display(description="time zone", ordering="timezone")
    def zone(self, person: PersonZone) -> str:
        return person.timezone or f"the zone most shifts use ({schedule_zone().key})"
