"""Every request in its viewer's zone: admin lists, templates and supervisor pages render in it."""

from django.utils import timezone

from . import SESSION_KEY, viewer_zone


class PersonZoneMiddleware:
    """Activate the signed-in person's zone for the request (after AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)  # the login page and feeds show no local times
        request.viewer_zone = viewer_zone(user, request.session.get(SESSION_KEY))
        timezone.activate(request.viewer_zone.tz)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def zone(request):
    """Template context: the viewer's zone and any problem with her setting (shown on every page)."""
    found = getattr(request, "viewer_zone", None)
    return {"viewer_zone": found.tz if found else None, "zone_problem": found.problem if found else ""}
