"""Celery: beat runs :func:`retention_task` daily (config/settings.py CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from privacy import services


@shared_task(name="privacy.apply_retention", ignore_result=True)
def retention_task() -> dict:
    """Apply the retention periods; returns the counts per kind (no personal data)."""
    return services.retention_apply()
