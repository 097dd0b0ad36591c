"""Calendar feeds: /feeds/agent/<token>.ics and /feeds/queue/<token>.ics."""

from django.urls import path

from .feeds import feed_view

urlpatterns = [
    path("agent/<str:token>.ics", feed_view, {"kind": "agent"}, name="agent-feed"),
    path("queue/<str:token>.ics", feed_view, {"kind": "queue"}, name="queue-feed"),
]
