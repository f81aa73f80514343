"""The one signal governance sends: a mandate started or ended (after the commit).

Receivers (workflows) move open tasks to the mandate's new holder. Governance knows nothing of
tasks; this keeps the dependency pointing one way.
"""

from django.dispatch import Signal

# Sent after a membership or staff assignment changed, with ``organisation_id`` and either
# ``body_id`` (a seat in that body) or ``staff_role`` (a staff assignment with that role).
mandates_changed = Signal()
