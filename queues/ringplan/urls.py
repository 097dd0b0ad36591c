"""URL routes of the provider integrations: webhooks."""

from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("ringplan/webhook/", views.ringplan_webhook, name="ringplan-webhook"),
]
