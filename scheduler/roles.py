"""The "Supervisor" group: exactly the rights to run a phone team from the admin, kept in one list."""

from django.contrib.auth.models import Group, Permission

SUPERVISOR = "Supervisor"

# (app label, codename). Schedules are edited; the telephony side is read, or changed only through
# the hold page and actions, which audit; the audit history is read-only for everyone.
SUPERVISOR_PERMISSIONS = [
    *(
        ("scheduler", f"{verb}_{model}")
        for model in ("shift", "timeoff", "occurrencechange")
        for verb in ("add", "change", "delete", "view")
    ),
    *(("scheduler", code) for code in ("view_board", "hold_agent", "reconcile_now", "sync_queues", "issue_feed")),
    ("scheduler", "decide_request"),  # the pending requests page, and publishing open shifts
    ("scheduler", "view_schedulerequest"),
    ("scheduler", "view_openshift"),
    ("scheduler", "view_requestlogentry"),
    *(("scheduler", f"{verb}_requestrule") for verb in ("add", "change", "view")),
    ("scheduler", "view_feedtoken"),
    ("scheduler", "change_feedtoken"),  # only to revoke links (the admin's one action); every field is read-only
    ("queues", "view_callqueue"),
    ("queues", "change_callqueue"),  # min staff and enforcement are the supervisor's to set
    # A queue's opening hours and closed dates, the inlines of its admin page.
    *(
        ("queues", f"{verb}_{model}")
        for model in ("openingrange", "closeddate")
        for verb in ("add", "change", "delete", "view")
    ),
    ("queues", "view_agent"),
    ("queues", "change_agent"),  # off-shift DnD and the receptionist login
    ("queues", "view_queuemembership"),
    ("queues", "view_override"),
    ("queues", "change_override"),  # only to cancel one (queues/admin_overrides.py); the form stays read-only
    ("queues", "view_auditentry"),
    ("queues", "view_reconcilerun"),
    ("integrations", "view_provideridentity"),  # the adherence page lives on the provider identities' admin
    # The agent form's login picker asks the user admin for view permission; supervisors link receptionists.
    ("auth", "view_user"),
    # Each person's time zone: a supervisor sets her team's (scheduler/people).
    *(("scheduler", f"{verb}_personzone") for verb in ("add", "change", "view")),
]


def ensure_supervisor_group() -> Group:
    """Create the group if missing and set its permissions to exactly SUPERVISOR_PERMISSIONS (idempotent)."""
    group, _ = Group.objects.get_or_create(name=SUPERVISOR)
    wanted = Permission.objects.none()
    for app_label, codename in SUPERVISOR_PERMISSIONS:
        wanted |= Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    group.permissions.set(wanted)
    return group
