from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Agent, CallQueue, QueueMembership


class MembershipInline(admin.TabularInline):
    model = QueueMembership
    extra = 0
    fields = ["queue", "agent", "accepting", "observed_at"]
    readonly_fields = ["accepting", "observed_at"]
    autocomplete_fields = ["queue", "agent"]


@admin.register(CallQueue)
class CallQueueAdmin(SimpleHistoryAdmin):
    list_display = ["name", "provider_id", "provider", "min_staff", "editable_member_status", "enforce"]
    list_filter = ["provider", "editable_member_status", "enforce"]
    search_fields = ["name", "provider_id"]
    inlines = [MembershipInline]


@admin.register(Agent)
class AgentAdmin(SimpleHistoryAdmin):
    list_display = ["name", "provider_id", "provider", "user", "off_shift_dnd", "dnd_status", "dnd_observed_at"]
    list_filter = ["provider", "off_shift_dnd", "dnd_status"]
    search_fields = ["name", "provider_id", "user__username"]
    readonly_fields = ["dnd_status", "dnd_observed_at"]
    autocomplete_fields = ["user"]
    inlines = [MembershipInline]


@admin.register(QueueMembership)
class QueueMembershipAdmin(admin.ModelAdmin):
    list_display = ["queue", "agent", "accepting", "observed_at"]
    list_filter = ["queue", "accepting"]
    search_fields = ["queue__name", "queue__provider_id", "agent__name", "agent__provider_id"]
    readonly_fields = ["accepting", "observed_at"]
    autocomplete_fields = ["queue", "agent"]
    list_select_related = ["queue", "agent"]


from . import admin_overrides  # noqa: E402,F401
