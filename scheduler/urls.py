from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("feeds/", include("scheduler.feeds_urls")),
    path("integrations/", include("queues.ringplan.urls")),
    path("", include("scheduler.receptionist.urls")),
]
