"""Supervisors cancel overrides from admin: an action on the Override list that calls cancel_override.

The Override list itself is queues/admin.py's; this adds the one verb that writes. If no
Override admin is registered, a small read-only one is registered here to carry it.
"""

from django.contrib import admin, messages

from integrations.base import ProviderError
from integrations.providers import default_provider

from .models import Override
from .overrides import cancel_override


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


class OverrideAdmin(admin.ModelAdmin):
    list_display = ["agent", "queue", "accept", "dnd_status", "starts_at", "until", "created_by", "cancelled_at"]
    list_filter = ["queue", "cancelled_at"]
    search_fields = ["agent__name", "agent__provider_id"]
    list_select_related = ["agent", "queue", "created_by"]
    actions = [cancel_overrides]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


if admin.site.is_registered(Override):
    registered = admin.site.get_model_admin(Override)
    registered.actions = [*(registered.actions or ()), cancel_overrides]
else:
    admin.site.register(Override, OverrideAdmin)
