"""The receptionist pages."""

from django.urls import path

from . import views

app_name = "queues"
urlpatterns = [
    path("", views.my_queues_page, name="my_queues"),
    path("toggle/", views.toggle, name="toggle"),
    path("away/", views.away, name="away"),
    path("cancel/", views.cancel, name="cancel"),
]
