"""Each person's time zone: the one every page and admin list shows her times in.

Chosen in order: this session's pick on a supervisor page (?tz=, remembered), her own setting
(PersonZone), else the zone most shifts use. A stored zone that is not a zone any more is never
skipped silently: the page says so, naming the field, and shows the schedule's zone meanwhile.
"""

from dataclasses import dataclass
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings

from queues.admin import VIEWER_ZONE_SESSION_KEY
from scheduler import recurrence
from scheduler.models import PersonZone
from scheduler.selectors import schedule_zones

SESSION_KEY = VIEWER_ZONE_SESSION_KEY  # the zone a viewer picked on a supervisor page (?tz=), in her session
FIELD = "Time zone (My settings)"


@dataclass(frozen=True)
class ViewerZone:
    tz: ZoneInfo
    source: str  # "session" (picked on a page), "person" (her setting) or "schedule" (the default)
    problem: str = ""  # why her own setting was not used, naming the field and the fix


def schedule_zone() -> ZoneInfo:
    """The zone most shifts use (the server's when there are none): every person's default."""
    try:
        return recurrence.zone(schedule_zones()[0])
    except ValueError:  # a shift's zone gone from tzdata: the shift's own page names it
        return recurrence.zone(settings.TIME_ZONE)


def zone_choices() -> list[str]:
    """Every IANA zone, the schedule's own first (most used first): the picker's list."""
    every = available_timezones()
    zones = [zone for zone in schedule_zones() if zone in every]  # not a shift's zone gone from tzdata
    return zones + sorted(every - set(zones))


def stored_zone(user) -> str:
    """The zone name she chose in her settings, or '' for the schedule's."""
    if not getattr(user, "is_authenticated", False):
        return ""
    return PersonZone.objects.filter(user=user).values_list("timezone", flat=True).first() or ""


def viewer_zone(user, session_pick: str | None = None) -> ViewerZone:
    """The zone this person's pages are shown in, and what is wrong with her setting if it cannot be used."""
    if session_pick:
        try:
            return ViewerZone(recurrence.zone(session_pick), "session")
        except ValueError:
            pass  # a pick is only ever stored valid; a zone gone from tzdata falls through to her setting
    name = stored_zone(user)
    if not name:
        return ViewerZone(schedule_zone(), "schedule")
    try:
        return ViewerZone(recurrence.zone(name), "person")
    except ValueError as error:
        default = schedule_zone()
        return ViewerZone(default, "schedule", f"{FIELD}: {error}. Showing times in {default.key} until it is fixed.")


def set_zone(user, name: str) -> PersonZone:
    """Store her zone ('' for the schedule's); ValueError naming the zone if it is not an IANA zone."""
    if name:
        recurrence.zone(name)
    person, _ = PersonZone.objects.update_or_create(user=user, defaults={"timezone": name})
    return person
