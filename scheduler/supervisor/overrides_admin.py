"""Overrides in admin: read-only (they are placed from the hold page or the receptionist pages, so
they are audited), with the one verb that writes: cancel, through cancel_override."""

from django.contrib import admin, messages

from integrations.base import ProviderError
from integrations.providers import default_provider
from queues.admin import ReadOnlyAdmin
from queues.models import Override
from scheduler.reconcile.overrides import cancel_override


@admin.action(description="Cancel the selected overrides (the schedule takes over at once)")
def cancel_overrides(modeladmin, request, queryset):
    """Cancel each selected override that is still standing, and say what became of it."""
    if not request.user.has_perm("queues.change_override"):
        modeladmin.message_user(request, "You may not cancel overrides.", messages.ERROR)
        return
    provider = default_provider()
    for override in queryset.filter(cancelled_at__isnull=True).select_related("agent", "queue"):
        try:
            outcome = cancel_override(override, actor=request.user, provider=provider)
        except ProviderError as error:  # e.g. signing in to the provider failed before any write
            modeladmin.message_user(request, f"{override}: {error}", messages.ERROR)
            continue
        level = messages.SUCCESS if outcome.applied else messages.WARNING
        modeladmin.message_user(request, f"{override.agent.name}: {outcome.message}", level)


@admin.register(Override)
class OverrideAdmin(ReadOnlyAdmin):
    list_display = ["agent", "queue", "accept", "dnd_status", "starts_at", "until", "created_by", "cancelled_at"]
    list_filter = ["queue", "cancelled_at"]
    search_fields = ["agent__name", "agent__provider_id"]
    list_select_related = ["agent", "queue", "created_by"]
    date_hierarchy = "starts_at"
    actions = [cancel_overrides]
