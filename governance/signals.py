"""The one signal governance sends: a mandate started or ended (after the commit).

Receivers (workflows) move open tasks to the mandate's new holder. Governance knows nothing of
tasks; this keeps the dependency pointing one way.
"""

from django.dispatch import Signal

# Sent with ``organisation_id`` after a membership or staff assignment changed.
mandates_changed = Signal()
