from django.contrib import admin
from django.urls import include, path
from django.views.decorators.cache import cache_control
from django.views.generic import TemplateView

from scheduler.people.views import my_settings

admin.site.site_header = "Callrota administration"
admin.site.site_title = "Callrota"
admin.site.index_title = "Schedule, queues and audit"

# Browsers ask for /favicon.ico on every first visit; an SVG answers it without a static-files set-up.
favicon = cache_control(max_age=86400)(TemplateView.as_view(template_name="favicon.svg", content_type="image/svg+xml"))

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("feeds/", include("scheduler.feeds_urls")),
    path("integrations/", include("queues.ringplan.urls")),
    path("favicon.ico", favicon, name="favicon"),
    path("settings/", my_settings, name="my_settings"),
    path("my-schedule/", include("scheduler.requests.urls")),
    path("", include("scheduler.receptionist.urls")),
]
