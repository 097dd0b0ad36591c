"""The Celery app: configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery

from scheduler import broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler.settings")
broker.install()  # the embedded broker, safe when the worker and beat start at once

app = Celery("callrota")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
