"""The Celery application.

Production runs a worker and beat against Redis (CELERY_BROKER_URL). Without a broker the
tasks run eagerly in the calling process (demo and tests); see config/settings.py.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("aarshjul")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
