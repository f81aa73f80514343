"""Organisations, their operations areas, departments, bodies and the people in them.

The organisation is the tenant boundary: nothing of one organisation is ever visible to another
organisation's users. Mandates (a membership of a body, or a staff assignment) carry their own
period, so "who holds which mandate on day D" is a query, not a stored flag.

Periods are inclusive: a membership with ``ends_on = 31.05.2026`` is held on 31.05.2026 and not on
01.06.2026. ``ends_on = NULL`` means open-ended.
"""

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import connections, models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

from permissions.matrix import DEPARTMENT_PERMISSIONS, ORGANISATION_PERMISSIONS


class Person(AbstractUser):
    """Someone who uses Årshjul: a member of staff or a resident-elected member.

    GDPR: only what the cycle needs — name, e-mail, optional phone and language.
    """

    class Language(models.TextChoices):
        DANISH = "da", _("Danish")
        ENGLISH = "en", _("English")

    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.DANISH
    )

    objects = UserManager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["first_name", "last_name", "username"]

    def __str__(self):
        return self.get_full_name() or self.username


class Organisation(models.Model):
    """A non-profit housing organisation (almen boligorganisation): the tenant."""

    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=40)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    administrator = models.CharField(
        _("administering organisation"), max_length=200, blank=True,
        help_text=_("E.g. KAB, when the organisation is administered by another."),
    )
    require_two_factor_for_signers = models.BooleanField(
        _("require two-factor for signers"), default=False,
        help_text=_("Everyone who signs, approves, returns or publishes on behalf of a body "
                    "must confirm with a code from an authenticator app first."),
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        # The matrix's organisation-scope actions, granted per organisation to mandate groups.
        permissions = ORGANISATION_PERMISSIONS

    def __str__(self):
        return self.name


class OperationsArea(models.Model):
    """An operations area (driftsområde): a group of departments served by one staff team."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
        related_name="operations_areas",
    )
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("operations area")
        verbose_name_plural = _("operations areas")
        ordering = ["organisation_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "number"], name="governance_operationsarea_unique_number"
            ),
        ]

    def __str__(self):
        return self.name


class Department(models.Model):
    """A department (afdeling): a housing estate with its own budget and department board."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
        related_name="departments",
    )
    operations_area = models.ForeignKey(
        OperationsArea, verbose_name=_("operations area"), on_delete=models.PROTECT,
        related_name="departments",
    )
    number = models.PositiveIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    households = models.PositiveIntegerField(_("households"))
    financial_year_start_month = models.PositiveSmallIntegerField(
        _("first month of the financial year"), default=1,
        help_text=_("1 = January. Most departments use the calendar year."),
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["organisation_id", "number"]
        # The matrix's department-scope actions, granted per department to mandate groups.
        permissions = DEPARTMENT_PERMISSIONS
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "number"], name="governance_department_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(financial_year_start_month__gte=1, financial_year_start_month__lte=12),
                name="governance_department_financial_year_month",
            ),
            models.CheckConstraint(
                condition=Q(households__gte=1), name="governance_department_households_positive"
            ),
        ]

    def __str__(self):
        return _("Dept. %(number)s %(name)s") % {"number": self.number, "name": self.name}

    @property
    def board_size(self) -> int:
        """The statutory board size by households: 3, 5, 7 or 9 members."""
        from governance.lib import department_board_size

        return department_board_size(self.households)


class Body(models.Model):
    """A governing body (organ): a board, committee, group or council."""

    class Kind(models.TextChoices):
        REPRESENTATIVE_COUNCIL = "representative_council", _("representatives' council")
        ORGANISATION_BOARD = "organisation_board", _("organisation board")
        OPERATIONS_COMMITTEE = "operations_committee", _("operations committee")
        FOLLOW_UP_GROUP = "follow_up_group", _("follow-up group")
        DEPARTMENT_BOARD = "department_board", _("department board")

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
        related_name="bodies",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    department = models.OneToOneField(
        Department, verbose_name=_("department"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="board",
    )

    class Meta:
        verbose_name = _("body")
        verbose_name_plural = _("bodies")
        ordering = ["organisation_id", "kind", "name"]
        constraints = [
            # A department board belongs to exactly one department; no other body does.
            models.CheckConstraint(
                condition=(
                    Q(kind="department_board", department__isnull=False)
                    | (~Q(kind="department_board") & Q(department__isnull=True))
                ),
                name="governance_body_department_iff_department_board",
            ),
            # One council, organisation board, committee and follow-up group per organisation.
            models.UniqueConstraint(
                fields=["organisation", "kind"],
                condition=~Q(kind="department_board"),
                name="governance_body_one_per_kind",
            ),
        ]

    def __str__(self):
        return self.name


class DateRange(Func):
    """PostgreSQL ``daterange(starts_on, ends_on, '[]')``: the inclusive term of office."""

    function = "DATERANGE"
    template = "%(function)s(%(expressions)s, '[]')"
    output_field = models.DateField()


class PostgresOnlyExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint that exists on PostgreSQL and is skipped elsewhere.

    SQLite has no exclusion constraints; there the service layer enforces the same rule
    (see governance.services). Validation (admin forms) likewise runs only on PostgreSQL.
    """

    def constraint_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using="default"):
        if connections[using].vendor != "postgresql":
            return
        super().validate(model, instance, exclude=exclude, using=using)


class MandatePeriodQuerySet(models.QuerySet):
    def current_on(self, day):
        """Rows whose period includes ``day`` (inclusive at both ends)."""
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day), starts_on__lte=day)


class Membership(models.Model):
    """A person's seat in a body for a term of office (valgperiode)."""

    class Role(models.TextChoices):
        CHAIR = "chair", _("chair")
        VICE_CHAIR = "vice_chair", _("vice-chair")
        MEMBER = "member", _("member")
        ALTERNATE = "alternate", _("alternate")
        STAFF_REPRESENTATIVE = "staff_representative", _("staff representative")
        APPOINTED_MEMBER = "appointed_member", _("appointed member")

    SINGLE_HOLDER_ROLES = (Role.CHAIR, Role.VICE_CHAIR)

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="memberships"
    )
    body = models.ForeignKey(
        Body, verbose_name=_("body"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True,
                               help_text=_("The last day of the term. Empty: open-ended."))

    objects = MandatePeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["body_id", "role", "starts_on"]
        indexes = [
            models.Index(fields=["person", "starts_on"], name="governance_membership_person"),
            models.Index(fields=["body", "role", "starts_on"], name="governance_membership_body"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="governance_membership_period_order",
            ),
            # At most one chair and one vice-chair per body on any day.
            PostgresOnlyExclusionConstraint(
                name="governance_membership_one_holder",
                expressions=[
                    ("body", RangeOperators.EQUAL),
                    ("role", RangeOperators.EQUAL),
                    (DateRange("starts_on", "ends_on"), RangeOperators.OVERLAPS),
                ],
                condition=Q(role__in=["chair", "vice_chair"]),
                violation_error_message=_(
                    "The body already has a holder of this role in the period."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.person} – {self.get_role_display()}, {self.body}"


class StaffAssignment(models.Model):
    """A member of staff's role in an organisation or one of its operations areas."""

    class Role(models.TextChoices):
        OPERATIONS_MANAGER = "operations_manager", _("head of operations")
        SERVICE_MANAGER = "service_manager", _("service manager")
        OPERATIONS_SECRETARY = "operations_secretary", _("operations secretary")
        ASSISTANT_SITE_MANAGER = "assistant_site_manager", _("assistant operations lead")
        SERVICE_WORKER = "service_worker", _("service worker")

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT,
        related_name="staff_assignments",
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
        related_name="staff_assignments",
    )
    operations_area = models.ForeignKey(
        OperationsArea, verbose_name=_("operations area"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="staff_assignments",
        help_text=_("Empty: the whole organisation."),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)

    objects = MandatePeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff assignment")
        verbose_name_plural = _("staff assignments")
        ordering = ["organisation_id", "operations_area_id", "role", "starts_on"]
        indexes = [
            models.Index(fields=["person", "starts_on"], name="governance_staff_person"),
            models.Index(fields=["operations_area", "role"], name="governance_staff_area_role"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="governance_staffassignment_period_order",
            ),
        ]

    def __str__(self):
        scope = self.operations_area or self.organisation
        return f"{self.person} – {self.get_role_display()}, {scope}"


class SigningAuthorisation(models.Model):
    """The chair authorises the vice-chair to sign on the chair's behalf for a period."""

    body = models.ForeignKey(Body, verbose_name=_("body"), on_delete=models.PROTECT,
                             related_name="signing_authorisations")
    chair = models.ForeignKey(Person, verbose_name=_("chair"), on_delete=models.PROTECT,
                              related_name="+")
    vice_chair = models.ForeignKey(Person, verbose_name=_("vice-chair"),
                                   on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = MandatePeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("signing authorisation")
        verbose_name_plural = _("signing authorisations")
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")),
                                   name="governance_signingauthorisation_period_order"),
        ]

    def __str__(self):
        return f"{self.vice_chair} → {self.chair}, {self.body}"
