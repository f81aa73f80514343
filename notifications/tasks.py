"""Celery tasks: beat runs :func:`sweep_task` every minute (config/settings.py
CELERY_BEAT_SCHEDULE); the sweep hands the outbox to :func:`deliver_task` on the workers.

Both are safe to run any number of times at once: decisions are unique per key and a row is
claimed by exactly one worker (see notifications/services.py).
"""

import math

from celery import shared_task
from django.conf import settings

from notifications import services

# A worker's share of the outbox per task run; the beat runs the sweep again a minute later.
DELIVERY_TIME_BUDGET_SECONDS = 50.0
MAX_PARALLEL_DELIVERIES = 8


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep_task() -> dict:
    """Decide what is due, build digests, and queue delivery (one task per batch, a few at
    most, so several workers share the outbox)."""
    result = services.run_pass(deliver=False)
    pending = services.pending_count()
    for _ in range(min(MAX_PARALLEL_DELIVERIES,
                       math.ceil(pending / settings.NOTIFICATIONS_BATCH_SIZE))):
        deliver_task.delay()
    return {"decided": result.sweep.decided, "escalated": result.sweep.escalated,
            "digests": result.digests, "interrupted": result.interrupted, "queued": pending}


@shared_task(name="notifications.deliver", ignore_result=True)
def deliver_task() -> dict:
    """Deliver due notifications until none is left or the time budget is spent."""
    return dict(services.deliver_until_empty(time_budget_seconds=DELIVERY_TIME_BUDGET_SECONDS))
