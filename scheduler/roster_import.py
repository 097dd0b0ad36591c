"""Rosters as CSV through django-import-export: one row per shift, queues and agents by provider id.

The admin's import shows a preview of every row (new, update, skip, error) before anything is
saved; a row that breaks a rule of Shift.clean() is reported with the field and nothing is saved.
The YAML schedule format stays in scheduler/schedule/ (manage.py import_schedule).
"""

from import_export import fields, resources, widgets

from queues.models import Agent, CallQueue

from .models import Shift


class ProviderIdsWidget(widgets.ManyToManyWidget):
    """Provider ids separated by '|', e.g. 111111111|222222222; an unknown id is a row error naming it."""

    def __init__(self, model):
        super().__init__(model, separator="|", field="provider_id")

    def clean(self, value, row=None, **kwargs):
        ids = [i.strip() for i in str(value or "").split(self.separator) if i.strip()]
        found = self.model.objects.filter(provider_id__in=ids)
        missing = sorted(set(ids) - {o.provider_id for o in found})
        if missing:
            name = self.model._meta.verbose_name
            raise ValueError(f"unknown {name} provider id(s) {', '.join(missing)}: sync queues or add them first")
        return found


class ShiftResource(resources.ModelResource):
    queues = fields.Field(attribute="queues", column_name="queues", widget=ProviderIdsWidget(CallQueue))
    agents = fields.Field(attribute="agents", column_name="agents", widget=ProviderIdsWidget(Agent))

    class Meta:
        model = Shift
        import_id_fields = ["name"]
        fields = [
            *("name", "timezone", "start_time", "end_time", "days", "rrule", "dtstart", "valid_from", "valid_until"),
            *("queues", "agents"),
        ]
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True  # Shift.clean(): the same rules and messages as the admin form
        use_transactions = True


def import_roster(dataset, *, dry_run: bool = False):
    """All or nothing, as the admin does it: check every row first, save only if none has an error."""
    result = ShiftResource().import_data(dataset, dry_run=True)
    if dry_run or result.has_errors() or result.has_validation_errors():
        return result
    return ShiftResource().import_data(dataset, dry_run=False)
