"""My schedule: the agent's request pages."""

from django.urls import path

from . import views

app_name = "requests"
urlpatterns = [
    path("", views.my_schedule, name="my_schedule"),
    path("time-off/", views.time_off, name="time_off"),
    path("offer/", views.offer, name="offer"),
    path("offers/<int:pk>/accept/", views.accept, name="accept"),
    path("open-shifts/<int:pk>/claim/", views.claim, name="claim"),
    path("requests/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("notifications/", views.mute, name="mute"),
]
