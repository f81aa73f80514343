"""The Celery application.

Production runs a worker and beat against Redis (CELERY_BROKER_URL). Without a broker the
tasks run eagerly in the calling process (demo and tests); see config/settings.py.
"""

import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("aarshjul")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_to_start_without_production_settings(**kwargs):
    from django.conf import settings

    from config.env import ensure_startable

    ensure_startable(settings)
