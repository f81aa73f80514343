"""Reads of the audit trail: the entries of an object, a person and an organisation, pages of
them as people read them, the check of an organisation's chain, and who may see which.

Every list is a queryset with the actor and organisation joined, newest first; a page of it
(:func:`audit_page`) costs the same number of queries whether the trail holds ten entries or
ten thousand (see audit.display for the names it reads).
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone

from audit.chain import Break, Stored, chain_of, verify
from audit.display import entry_rows
from audit.models import AuditChain, AuditEntry
from governance.models import Membership, Organisation, Person, StaffAssignment
from permissions.matrix import Action
from permissions.selectors import can, permitted_actions, visible_organisations

PAGE_SIZE = 50


def _entries() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.select_related("actor", "organisation")


def _ids_as_text(queryset) -> QuerySet:
    """The rows' ids as text, to compare with ``AuditEntry.object_id`` in SQL."""
    return queryset.order_by().annotate(text_id=Cast("pk", CharField())).values("text_id")


def _about(model, queryset) -> Q:
    return Q(object_type=model._meta.label_lower, object_id__in=_ids_as_text(queryset))


def _parts_of(obj) -> Q:
    """Entries about the parts of ``obj`` that have no page of their own: a plan's initiatives
    and the tasks of its flow; a follow-up's tasks."""
    from viewflow.workflow.models import Task

    from cycles.models import AnnualPlan, FollowUp, Initiative

    if isinstance(obj, AnnualPlan):
        initiative = Initiative._meta.label_lower
        # Initiatives deleted since are found by the plan their entries name.
        return (_about(Initiative, Initiative.objects.filter(plan=obj))
                | Q(object_type=initiative, summary__plan=obj.pk)
                | _about(Task, Task.objects.filter(mandate__plan=obj,
                                                   mandate__follow_up__isnull=True)))
    if isinstance(obj, FollowUp):
        return _about(Task, Task.objects.filter(mandate__follow_up=obj))
    return Q(pk__in=[])


def audit_entries_for_object(*, obj) -> QuerySet[AuditEntry]:
    """The entries about ``obj`` and its parts (see :func:`_parts_of`), newest first."""
    about = Q(object_type=obj._meta.label_lower, object_id=str(obj.pk)) | _parts_of(obj)
    return _entries().filter(about).order_by("-pk")


def _mandates_of(person: Person) -> Q:
    from workflows.models import Delegation

    return (_about(Membership, Membership.objects.filter(person=person))
            | _about(StaffAssignment, StaffAssignment.objects.filter(person=person))
            | _about(Delegation, Delegation.objects.filter(Q(person=person)
                                                           | Q(substitute=person))))


def audit_entries_for_person(*, person: Person, organisation_ids=None
                             ) -> QuerySet[AuditEntry]:
    """What ``person`` did, and what was done to them, their terms of office, staff roles and
    substitutes; newest first. ``organisation_ids``: only those organisations' entries (for an
    operations secretary: not the person's sign-ins or other organisations)."""
    entries = _entries().filter(Q(actor=person)
                                | Q(object_type=Person._meta.label_lower,
                                    object_id=str(person.pk))
                                | _mandates_of(person))
    if organisation_ids is not None:
        entries = entries.filter(organisation_id__in=list(organisation_ids))
    return entries.order_by("-pk")


def _start_of(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the installation's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def audit_entries_for_organisation(*, organisation: Organisation,
                                   since: datetime.date | None = None,
                                   until: datetime.date | None = None, action: str = "",
                                   actor: Person | None = None) -> QuerySet[AuditEntry]:
    """The organisation's trail (its hash chain), newest first, filtered: the period from
    ``since`` to ``until`` (whole days, Copenhagen time, both included); ``action`` a code
    (``plan.submit``) or a group ending in a dot (``plan.``); ``actor`` who did it."""
    entries = _entries().filter(chain=chain_of(organisation.pk))
    if since is not None:
        entries = entries.filter(occurred_at__gte=_start_of(since))
    if until is not None:
        entries = entries.filter(occurred_at__lt=_start_of(until + datetime.timedelta(days=1)))
    if action.endswith("."):
        entries = entries.filter(action__startswith=action)
    elif action:
        entries = entries.filter(action=action)
    if actor is not None:
        entries = entries.filter(actor=actor)
    return entries.order_by("-sequence")


def audit_page(*, entries: QuerySet[AuditEntry], number, per_page: int = PAGE_SIZE) -> Page:
    """One page of ``entries`` whose ``object_list`` holds display rows (audit.display):
    a count, the page's entries, the people they name and one query per kind of object."""
    page = Paginator(entries, per_page).get_page(number)
    page.object_list = entry_rows(list(page.object_list))
    return page


# --- the chain ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainStatus:
    chain: str
    entries: int
    head_hash: str
    problem: Break | None

    @property
    def intact(self) -> bool:
        return self.problem is None


def chain_status(*, chain: str, head: AuditChain | None = None) -> ChainStatus:
    """Walk one chain and check every entry's hash and link (audit.chain.verify): two queries,
    the head and the entries (read in chunks)."""
    if head is None:
        head = AuditChain.objects.filter(chain=chain).first()
    entries = (Stored(e.pk, e.sequence, e.previous_hash, e.entry_hash, e.content())
               for e in AuditEntry.objects.filter(chain=chain).order_by("sequence", "pk")
               .iterator(chunk_size=2000))
    problem = verify(entries, head_sequence=head.sequence if head else -1,
                     head_hash=head.last_hash if head else None)
    return ChainStatus(chain=chain, entries=head.sequence if head else 0,
                       head_hash=head.last_hash if head else "", problem=problem)


def audit_chain_status(*, organisation: Organisation) -> ChainStatus:
    chain = chain_of(organisation.pk)
    head = AuditChain.objects.filter(chain=chain).first()
    if head is None:  # nothing recorded yet: an empty chain is intact
        return ChainStatus(chain=chain, entries=0, head_hash="", problem=None)
    return chain_status(chain=chain, head=head)


# --- who may see which --------------------------------------------------------------------

def audit_organisation_get_for_user(*, user, pk: int) -> Organisation:
    """The organisation whose whole trail the user may read (``audit.view``): 404 when the
    user holds no mandate in it (whether it exists or not), 403 when they do but not that."""
    organisation = Organisation.objects.filter(pk=pk).first()
    if organisation is None or not user.is_authenticated:
        raise Http404
    if user.is_superuser:
        return organisation
    permitted = permitted_actions(user=user, organisation_id=organisation.pk)
    if Action.ORGANISATION_VIEW not in permitted:
        raise Http404
    if Action.AUDIT_VIEW not in permitted:
        raise PermissionDenied
    return organisation


def audit_organisations_for_user(*, user) -> list[Organisation]:
    """The organisations whose trail the user may read, by name."""
    return [organisation for organisation in visible_organisations(user=user).order_by("name")
            if user.is_superuser
            or can(user=user, action=Action.AUDIT_VIEW, organisation_id=organisation.pk)]


def mandate_organisation_ids(*, person: Person) -> set[int]:
    """The organisations in which ``person`` holds, held or will hold a mandate."""
    return (set(Membership.objects.filter(person=person)
                .values_list("body__organisation_id", flat=True))
            | set(StaffAssignment.objects.filter(person=person)
                  .values_list("organisation_id", flat=True)))


def audit_person_get_for_user(*, user, pk: int) -> tuple[Person, list[int] | None]:
    """The person whose history the user may read, and the organisations whose entries they
    may see (``None``: all of the person's entries, sign-ins included).

    The person themself (and a superuser) sees everything; whoever may read the audit trail
    of an organisation in which the person holds or held a mandate sees that organisation's
    entries. Anyone else: 404, whether the person exists or not.
    """
    if not user.is_authenticated:
        raise Http404
    person = Person.objects.filter(pk=pk).first()
    if person is None:
        raise Http404
    if user.is_superuser or user.pk == person.pk:
        return person, None
    organisation_ids = sorted(
        organisation_id for organisation_id in mandate_organisation_ids(person=person)
        if can(user=user, action=Action.AUDIT_VIEW, organisation_id=organisation_id))
    if not organisation_ids:
        raise Http404
    return person, organisation_ids
