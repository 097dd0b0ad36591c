"""Rosters as CSV through django-import-export: one row per shift, queues and agents by provider id.

The admin's import shows a preview of every row (new, update, skip, error) before anything is
saved; a row that breaks a rule of Shift.clean() is reported with the field and nothing is saved.
Spreadsheet files are formula-safe: a cell a spreadsheet would run (`=`, `+`, `-`, `@`, tab, CR)
is exported behind a quote, as OWASP advises for CSV injection, and the quote is taken off on import.
The YAML schedule format stays in scheduler/schedule/ (manage.py import_schedule).
"""

from import_export import fields, resources, widgets
from import_export.formats import base_formats

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


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"  # what spreadsheets read as "the rest is text"


def escape_cell(value):
    """A cell a spreadsheet would run as a formula, made text with a leading quote; a leading quote is doubled."""
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, TEXT_MARK)):
        return TEXT_MARK + value
    return value


def unescape_cell(value):
    """The cell as it was before escape_cell: exactly the quote it added is taken off."""
    if isinstance(value, str) and value.startswith(TEXT_MARK) and value[1:].startswith((*FORMULA_STARTS, TEXT_MARK)):
        return value[1:]
    return value


def _each_cell(dataset, change):
    """A copy of the tablib dataset with `change` applied to every cell (headers as they are)."""
    return type(dataset)(*(tuple(change(cell) for cell in row) for row in dataset), headers=dataset.headers)


class _FormulaSafe(base_formats.TablibFormat):
    """A spreadsheet format whose cells are escaped on export and unescaped on import."""

    def export_data(self, dataset, **kwargs):
        return super().export_data(_each_cell(dataset, escape_cell), **kwargs)

    def create_dataset(self, in_stream, **kwargs):
        return _each_cell(super().create_dataset(in_stream, **kwargs), unescape_cell)


class SafeCSV(_FormulaSafe, base_formats.CSV):
    pass


class SafeTSV(_FormulaSafe, base_formats.TSV):
    pass


class SafeHTML(_FormulaSafe, base_formats.HTML):  # spreadsheets open HTML tables too
    pass


# HTML cannot be read back (tablib's HTML import fails on any file) and JSON or YAML rosters are the
# schedule file's job (manage.py import_schedule), so a roster comes in as CSV or TSV only.
IMPORT_FORMATS: list[type[base_formats.Format]] = [SafeCSV, SafeTSV]
EXPORT_FORMATS: list[type[base_formats.Format]] = [SafeCSV, SafeTSV, base_formats.JSON, base_formats.YAML, SafeHTML]
