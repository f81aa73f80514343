"""The signal cycles sends when deadlines may have moved.

``deadlines_changed`` is sent, inside the writing transaction, with ``organisation_id`` after a
meeting was created, changed or cancelled, or a step's deadline rule was saved. Receivers
(workflows) recompute the due dates of the organisation's open tasks; cycles knows nothing of
tasks, so the dependency keeps pointing one way.
"""

from django.dispatch import Signal

deadlines_changed = Signal()
