"""The operations programme, its themes, and the annual plans with their state machine."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from governance.models import Department, OperationsArea, Organisation


class OperationsProgramme(models.Model):
    """A multi-year operations programme (driftsprogram), e.g. "Driftsprogram 2023–2027"."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
        related_name="programmes",
    )
    name = models.CharField(_("name"), max_length=200)
    first_year = models.PositiveSmallIntegerField(_("first year"))
    last_year = models.PositiveSmallIntegerField(_("last year"))

    class Meta:
        verbose_name = _("operations programme")
        verbose_name_plural = _("operations programmes")
        ordering = ["organisation_id", "-first_year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_year__gte=F("first_year")),
                name="cycles_operationsprogramme_year_order",
            ),
            models.UniqueConstraint(
                fields=["organisation", "first_year"],
                name="cycles_operationsprogramme_unique_start",
            ),
        ]

    def __str__(self):
        return self.name


class Theme(models.Model):
    """One of a programme's themes (temaer); initiatives are grouped under them."""

    programme = models.ForeignKey(
        OperationsProgramme, verbose_name=_("operations programme"), on_delete=models.PROTECT,
        related_name="themes",
    )
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=200)
    purpose = models.TextField(_("purpose"), blank=True)

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["programme_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "number"], name="cycles_theme_unique_number"
            ),
        ]

    def __str__(self):
        return f"{self.number}. {self.title}"


class AnnualPlan(FSMModelMixin, models.Model):
    """A year's plan (årsplan) of initiatives under the programme's themes.

    ``state`` is a protected state machine: only the transition methods below change it, and
    only the services in cycles/services.py call them (with the row locked and a
    :class:`PlanTransition` row written in the same transaction).
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        FOLLOW_UP_GROUP_REVIEW = "follow_up_group_review", _("review by the follow-up group")
        OPERATIONS_COMMITTEE = "operations_committee", _("with the operations committee")
        ORGANISATION_BOARD = "organisation_board", _("with the organisation board")
        PUBLISHED = "published", _("published")
        PRESENTED = "presented", _("presented to the representatives' council")
        EVALUATED = "evaluated", _("evaluated")

    REVIEW_STATES = (State.FOLLOW_UP_GROUP_REVIEW, State.OPERATIONS_COMMITTEE,
                     State.ORGANISATION_BOARD)

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
        related_name="annual_plans",
    )
    programme = models.ForeignKey(
        OperationsProgramme, verbose_name=_("operations programme"), on_delete=models.PROTECT,
        related_name="annual_plans",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    state = FSMField(_("state"), max_length=32, choices=State.choices, default=State.DRAFT,
                     protected=True, db_index=True)
    # The latest snapshot of the content, and the one the organisation board approved.
    current_revision = models.ForeignKey(
        "PlanRevision", verbose_name=_("current revision"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )
    approved_revision = models.ForeignKey(
        "PlanRevision", verbose_name=_("approved revision"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )
    # Raised on every content change; a revision records the version it was taken at.
    content_version = models.PositiveIntegerField(_("content version"), default=0)
    follow_up_group_recommendation = models.TextField(
        _("the follow-up group's recommendation"), blank=True)
    operations_committee_recommendation = models.TextField(
        _("the operations committee's recommendation"), blank=True)
    organisation_board_decision = models.TextField(
        _("the organisation board's decision"), blank=True)
    presented_on = models.DateField(_("presented on"), null=True, blank=True)
    presentation_minutes_reference = models.CharField(
        _("minutes reference"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("annual plan")
        verbose_name_plural = _("annual plans")
        ordering = ["organisation_id", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "year"],
                                    name="cycles_annualplan_one_per_year"),
        ]

    def __str__(self):
        return self.title

    # --- guards --------------------------------------------------------------------------
    def submit_blockers(self) -> list[str]:
        """Readable reasons the plan cannot be submitted yet; empty when it can."""
        from cycles.selectors import plan_submit_blockers

        return plan_submit_blockers(plan=self)

    def can_be_submitted(self) -> bool:
        return not self.submit_blockers()

    def step_round(self, step: str) -> int:
        """How many times the plan has entered ``step``: 1 the first time, 2 after a return."""
        return self.transitions.filter(to_state=step).count()

    def has_approved_board_sign_off(self) -> bool:
        """The board's chair approved the current revision since the plan last came to them."""
        return self.sign_offs.filter(
            step=self.State.ORGANISATION_BOARD, decision=SignOff.Decision.APPROVE,
            revision_id=self.current_revision_id,
            round=self.step_round(self.State.ORGANISATION_BOARD),
        ).exists()

    # --- transitions (called only by cycles.services) -------------------------------------
    @transition(field=state, source=State.DRAFT, target=State.FOLLOW_UP_GROUP_REVIEW,
                conditions=[can_be_submitted])
    def submit(self):
        pass

    @transition(field=state, source=State.FOLLOW_UP_GROUP_REVIEW,
                target=State.OPERATIONS_COMMITTEE)
    def close_review(self):
        pass

    @transition(field=state, source=State.OPERATIONS_COMMITTEE,
                target=State.ORGANISATION_BOARD)
    def recommend(self):
        pass

    @transition(field=state, source=State.ORGANISATION_BOARD, target=State.PUBLISHED,
                conditions=[has_approved_board_sign_off])
    def publish(self):
        pass

    @transition(field=state, source=list(REVIEW_STATES), target=State.DRAFT)
    def return_to_draft(self):
        # The texts of this round go; they stay in the transition log and the sign-offs.
        self.follow_up_group_recommendation = ""
        self.operations_committee_recommendation = ""
        self.organisation_board_decision = ""

    @transition(field=state, source=State.PUBLISHED, target=State.PRESENTED)
    def register_presentation(self):
        pass

    @transition(field=state, source=State.PRESENTED, target=State.EVALUATED)
    def evaluate(self):
        pass


class Initiative(models.Model):
    """A concrete initiative (indsats) of a plan, under one theme."""

    class Scope(models.TextChoices):
        ORGANISATION = "organisation", _("the whole organisation")
        AREAS = "areas", _("chosen operations areas")
        DEPARTMENTS = "departments", _("chosen departments")

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        ONGOING = "ongoing", _("ongoing")
        DONE = "done", _("done")
        DROPPED = "dropped", _("dropped")

    plan = models.ForeignKey(AnnualPlan, verbose_name=_("annual plan"), on_delete=models.PROTECT,
                             related_name="initiatives")
    theme = models.ForeignKey(Theme, verbose_name=_("theme"), on_delete=models.PROTECT,
                              related_name="initiatives")
    position = models.PositiveIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        "governance.Person", verbose_name=_("owner"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="owned_initiatives",
    )
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices,
                             default=Scope.ORGANISATION)
    operations_areas = models.ManyToManyField(
        OperationsArea, verbose_name=_("operations areas"), blank=True, related_name="+")
    departments = models.ManyToManyField(
        Department, verbose_name=_("departments"), blank=True, related_name="+")
    planned_start = models.DateField(_("planned start"), null=True, blank=True)
    planned_end = models.DateField(_("planned end"), null=True, blank=True)
    target = models.TextField(_("target and indicator"), blank=True)
    expected_saving = models.DecimalField(_("expected saving (kr.)"), max_digits=14,
                                          decimal_places=2, null=True, blank=True)
    realised_saving = models.DecimalField(_("realised saving (kr.)"), max_digits=14,
                                          decimal_places=2, null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.PLANNED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    origin = models.ForeignKey(
        "self", verbose_name=_("continues"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="continuations",
        help_text=_("The initiative of an earlier year that this one continues."),
    )

    class Meta:
        verbose_name = _("initiative")
        verbose_name_plural = _("initiatives")
        ordering = ["plan_id", "theme__number", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"],
                                    name="cycles_initiative_unique_position"),
            models.CheckConstraint(condition=Q(progress__lte=100),
                                   name="cycles_initiative_progress_percent"),
            models.CheckConstraint(
                condition=Q(planned_end__isnull=True) | Q(planned_start__isnull=True)
                | Q(planned_end__gte=F("planned_start")),
                name="cycles_initiative_period_order",
            ),
            models.CheckConstraint(
                condition=Q(expected_saving__isnull=True) | Q(expected_saving__gte=0),
                name="cycles_initiative_expected_saving_positive",
            ),
        ]

    def __str__(self):
        return self.title


class ThemeJustification(models.Model):
    """Why a plan has no initiative under a theme this year."""

    plan = models.ForeignKey(AnnualPlan, on_delete=models.CASCADE,
                             related_name="theme_justifications")
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("justification"))

    class Meta:
        verbose_name = _("theme justification")
        verbose_name_plural = _("theme justifications")
        constraints = [
            models.UniqueConstraint(fields=["plan", "theme"],
                                    name="cycles_themejustification_one_per_theme"),
        ]

    def __str__(self):
        return f"{self.plan}: {self.theme}"


class PlanRevision(models.Model):
    """An immutable snapshot of a plan's content: canonical JSON and its SHA-256."""

    plan = models.ForeignKey(AnnualPlan, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(_("number"))
    content = models.JSONField(_("content"))
    canonical = models.TextField(_("canonical JSON"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    content_version = models.PositiveIntegerField(_("content version"))
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey("governance.Person", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")

    class Meta:
        verbose_name = _("plan revision")
        verbose_name_plural = _("plan revisions")
        ordering = ["plan_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"],
                                    name="cycles_planrevision_unique_number"),
            models.UniqueConstraint(fields=["plan", "sha256"],
                                    name="cycles_planrevision_unique_content"),
        ]

    def __str__(self):
        return f"{self.plan} r{self.number} ({self.sha256[:10]})"

    @property
    def short_hash(self) -> str:
        return self.sha256[:10]


class PlanTransition(models.Model):
    """The transition log: one row per state change, written with it."""

    plan = models.ForeignKey(AnnualPlan, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(_("from"), max_length=32, choices=AnnualPlan.State.choices)
    to_state = models.CharField(_("to"), max_length=32, choices=AnnualPlan.State.choices)
    actor = models.ForeignKey("governance.Person", verbose_name=_("actor"),
                              on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    acting_as = models.CharField(_("acting as"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    reason = models.TextField(_("reason"), blank=True)
    revision = models.ForeignKey(PlanRevision, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")

    class Meta:
        verbose_name = _("plan transition")
        verbose_name_plural = _("plan transitions")
        ordering = ["plan_id", "occurred_at", "pk"]

    def __str__(self):
        return f"{self.plan}: {self.from_state} → {self.to_state}"


class SignOff(models.Model):
    """A chair's signature on a decision step, bound to the exact revision it was given on.

    Append-only. A sign-off whose revision is no longer the plan's current revision is stale:
    shown as such, never deleted.
    """

    class Decision(models.TextChoices):
        APPROVE = "approve", _("approve")
        RETURN = "return", _("return")
        ABSTAIN = "abstain", _("abstain")

    class Mandate(models.TextChoices):
        CHAIR = "chair", _("chair")
        VICE_CHAIR_FOR_CHAIR = "vice_chair_for_chair", _("vice-chair on behalf of the chair")

    plan = models.ForeignKey(AnnualPlan, on_delete=models.PROTECT, related_name="sign_offs")
    step = models.CharField(_("step"), max_length=32, choices=AnnualPlan.State.choices)
    body = models.ForeignKey("governance.Body", verbose_name=_("body"),
                             on_delete=models.PROTECT, related_name="+")
    signer = models.ForeignKey("governance.Person", verbose_name=_("signed by"),
                               on_delete=models.PROTECT, related_name="sign_offs")
    mandate = models.CharField(_("mandate"), max_length=32, choices=Mandate.choices)
    on_behalf_of = models.ForeignKey("governance.Person", verbose_name=_("on behalf of"),
                                     on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices)
    comment = models.TextField(_("comment"), blank=True)
    revision = models.ForeignKey(PlanRevision, on_delete=models.PROTECT, related_name="sign_offs")
    revision_sha256 = models.CharField(_("revision SHA-256"), max_length=64)
    # The how-many-th time the plan was at this step: a plan sent back and resubmitted
    # unchanged comes back on the same revision and must be signed again.
    round = models.PositiveIntegerField(_("round"))
    signed_at = models.DateTimeField(_("signed at"))

    class Meta:
        verbose_name = _("sign-off")
        verbose_name_plural = _("sign-offs")
        ordering = ["plan_id", "signed_at", "pk"]
        constraints = [
            # Backstop against a double submit: one approval each time the plan is at a step.
            models.UniqueConstraint(
                fields=["plan", "step", "round"], condition=Q(decision="approve"),
                name="cycles_signoff_one_approval_per_round",
            ),
            models.CheckConstraint(condition=Q(round__gte=1),
                                   name="cycles_signoff_round_positive"),
        ]

    def __str__(self):
        return f"{self.get_step_display()}: {self.get_decision_display()} ({self.signer})"

    @property
    def is_stale(self) -> bool:
        return self.revision_id != self.plan.current_revision_id


class PlanComment(models.Model):
    """A follow-up group member's comment during the review."""

    plan = models.ForeignKey(AnnualPlan, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey("governance.Person", on_delete=models.PROTECT, related_name="+")
    initiative = models.ForeignKey(Initiative, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="comments")
    text = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("created"))
    revision = models.ForeignKey(PlanRevision, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["plan_id", "created_at", "pk"]

    def __str__(self):
        return f"{self.author}: {self.text[:40]}"


class InitiativeEvaluation(models.Model):
    """The follow-up group's year-end verdict on one initiative."""

    class Decision(models.TextChoices):
        CONTINUE = "continue", _("continue next year")
        CLOSE = "close", _("close")
        MERGE = "merge", _("merge into another initiative")
        RESCOPE = "rescope", _("continue with a new scope")

    plan = models.ForeignKey(AnnualPlan, on_delete=models.PROTECT, related_name="evaluations")
    initiative = models.OneToOneField(Initiative, on_delete=models.PROTECT,
                                      related_name="evaluation")
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices)
    reason = models.TextField(_("reason"))
    merged_into = models.ForeignKey(Initiative, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="merged_from")
    successor = models.ForeignKey(Initiative, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    evaluated_by = models.ForeignKey("governance.Person", on_delete=models.PROTECT,
                                     related_name="+")
    evaluated_at = models.DateTimeField(_("evaluated at"))

    class Meta:
        verbose_name = _("initiative evaluation")
        verbose_name_plural = _("initiative evaluations")

    def __str__(self):
        return f"{self.initiative}: {self.get_decision_display()}"


# --- Rollout and half-yearly follow-up (per department) ----------------------------------

class CycleSettings(models.Model):
    """An organisation's settings for the cycle; defaults apply where none are stored."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE,
                                        related_name="cycle_settings")
    h1_due_month = models.PositiveSmallIntegerField(_("first half: due month"), default=6)
    h1_due_day = models.PositiveSmallIntegerField(_("first half: due day"), default=30)
    h2_due_month = models.PositiveSmallIntegerField(_("second half: due month"), default=12)
    h2_due_day = models.PositiveSmallIntegerField(_("second half: due day"), default=15)
    closes_on_customary_days = models.BooleanField(
        _("closed on 5 June, 24 and 31 December"), default=True,
        help_text=_("Deadlines on these days move to the business day before."))

    class Meta:
        verbose_name = _("cycle settings")
        verbose_name_plural = _("cycle settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(h1_due_month__gte=1, h1_due_month__lte=12,
                            h2_due_month__gte=1, h2_due_month__lte=12,
                            h1_due_day__gte=1, h1_due_day__lte=31,
                            h2_due_day__gte=1, h2_due_day__lte=31),
                name="cycles_cyclesettings_valid_due_dates"),
        ]

    def __str__(self):
        return str(self.organisation)


class MeetingKind(models.TextChoices):
    BOARD_MEETING = "board_meeting", _("board meeting")
    NETWORK_MEETING = "network_meeting", _("network meeting")


class RolloutPlan(models.Model):
    """A published plan's initiatives for one department, presented to its board.

    The presentation is an acknowledgement, not an approval.
    """

    plan = models.ForeignKey(AnnualPlan, verbose_name=_("annual plan"),
                             on_delete=models.PROTECT, related_name="rollout_plans")
    department = models.ForeignKey(Department, verbose_name=_("department"),
                                   on_delete=models.PROTECT, related_name="rollout_plans")
    created_at = models.DateTimeField(_("created"))
    presented_on = models.DateField(_("presented on"), null=True, blank=True)
    meeting_kind = models.CharField(_("meeting"), max_length=16, choices=MeetingKind.choices,
                                    blank=True)
    presenter = models.ForeignKey("governance.Person", verbose_name=_("presented by"),
                                  on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    board_remarks = models.TextField(_("the board's remarks"), blank=True)

    class Meta:
        verbose_name = _("rollout plan")
        verbose_name_plural = _("rollout plans")
        ordering = ["plan_id", "department__number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "department"],
                                    name="cycles_rolloutplan_one_per_department"),
            models.CheckConstraint(
                condition=Q(presented_on__isnull=True) | ~Q(meeting_kind=""),
                name="cycles_rolloutplan_presentation_has_meeting"),
        ]

    def __str__(self):
        return f"{self.plan} – {self.department}"


class RolloutEntry(models.Model):
    """One initiative in a department's rollout plan, with its planned timing there."""

    rollout = models.ForeignKey(RolloutPlan, on_delete=models.CASCADE, related_name="entries")
    initiative = models.ForeignKey(Initiative, on_delete=models.PROTECT, related_name="+")
    planned_start = models.DateField(_("planned start"), null=True, blank=True)
    planned_end = models.DateField(_("planned end"), null=True, blank=True)

    class Meta:
        verbose_name = _("rollout entry")
        verbose_name_plural = _("rollout entries")
        constraints = [
            models.UniqueConstraint(fields=["rollout", "initiative"],
                                    name="cycles_rolloutentry_one_per_initiative"),
        ]

    def __str__(self):
        return f"{self.rollout}: {self.initiative}"


class FollowUp(FSMModelMixin, models.Model):
    """The half-yearly follow-up of a published plan in one department: a case."""

    class Half(models.TextChoices):
        H1 = "H1", _("first half")
        H2 = "H2", _("second half")

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        IN_PREPARATION = "in_preparation", _("in preparation")
        READY_FOR_BOARD = "ready_for_board", _("ready for the board")
        PRESENTED = "presented", _("presented to the board")
        CLOSED = "closed", _("closed")

    plan = models.ForeignKey(AnnualPlan, verbose_name=_("annual plan"),
                             on_delete=models.PROTECT, related_name="follow_ups")
    department = models.ForeignKey(Department, verbose_name=_("department"),
                                   on_delete=models.PROTECT, related_name="follow_ups")
    half = models.CharField(_("half year"), max_length=2, choices=Half.choices)
    due_on = models.DateField(_("due"))
    state = FSMField(_("state"), max_length=16, choices=State.choices, default=State.SCHEDULED,
                     protected=True)
    summary = models.TextField(_("summary for the board"), blank=True)
    presented_on = models.DateField(_("presented on"), null=True, blank=True)
    meeting_kind = models.CharField(_("meeting"), max_length=16, choices=MeetingKind.choices,
                                    blank=True)
    minutes_reference = models.CharField(_("minutes reference"), max_length=200, blank=True)
    acknowledged_by = models.ForeignKey("governance.Person", verbose_name=_("acknowledged by"),
                                        on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["plan_id", "half", "department__number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "department", "half"],
                                    name="cycles_followup_one_per_half"),
        ]
        indexes = [
            models.Index(fields=["state", "due_on"], name="cycles_followup_state_due"),
        ]

    def __str__(self):
        return f"{self.department}, {self.get_half_display()} {self.plan.year}"

    def ready_blockers(self) -> list[str]:
        from cycles.selectors import follow_up_ready_blockers

        return follow_up_ready_blockers(follow_up=self)

    def can_go_to_board(self) -> bool:
        return not self.ready_blockers()

    def close_blockers(self) -> list[str]:
        from cycles.selectors import follow_up_close_blockers

        return follow_up_close_blockers(follow_up=self)

    def can_be_closed(self) -> bool:
        return not self.close_blockers()

    @transition(field=state, source=State.SCHEDULED, target=State.IN_PREPARATION)
    def start_preparation(self):
        pass

    @transition(field=state, source=State.IN_PREPARATION, target=State.READY_FOR_BOARD,
                conditions=[can_go_to_board])
    def mark_ready(self):
        pass

    @transition(field=state, source=State.READY_FOR_BOARD, target=State.IN_PREPARATION)
    def return_to_preparation(self):
        pass

    @transition(field=state, source=State.READY_FOR_BOARD, target=State.PRESENTED)
    def acknowledge(self):
        pass

    @transition(field=state, source=State.PRESENTED, target=State.CLOSED,
                conditions=[can_be_closed])
    def close(self):
        pass


class FollowUpTransition(models.Model):
    """The follow-up's transition log: one row per state change, written with it."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.PROTECT,
                                  related_name="transitions")
    from_state = models.CharField(_("from"), max_length=16, choices=FollowUp.State.choices)
    to_state = models.CharField(_("to"), max_length=16, choices=FollowUp.State.choices)
    actor = models.ForeignKey("governance.Person", verbose_name=_("actor"),
                              on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    acting_as = models.CharField(_("acting as"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("follow-up transition")
        verbose_name_plural = _("follow-up transitions")
        ordering = ["follow_up_id", "occurred_at", "pk"]

    def __str__(self):
        return f"{self.follow_up}: {self.from_state} → {self.to_state}"


class FollowUpRemark(models.Model):
    """Staff's remark on one initiative in one department's follow-up."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("not started")
        ONGOING = "ongoing", _("ongoing")
        DONE = "done", _("done")
        DROPPED = "dropped", _("dropped")

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="remarks")
    initiative = models.ForeignKey(Initiative, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.NOT_STARTED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    text = models.TextField(_("remark"), blank=True)

    class Meta:
        verbose_name = _("remark")
        verbose_name_plural = _("remarks")
        constraints = [
            models.UniqueConstraint(fields=["follow_up", "initiative"],
                                    name="cycles_followupremark_one_per_initiative"),
            models.CheckConstraint(condition=Q(progress__lte=100),
                                   name="cycles_followupremark_progress_percent"),
        ]

    def __str__(self):
        return f"{self.follow_up}: {self.initiative}"


class BoardRemark(models.Model):
    """The department board's own remark on a follow-up; staff must answer each one."""

    class Answer(models.TextChoices):
        NOTED = "noted", _("noted")
        WILL_ACT = "will_act", _("will act")
        WONT_ACT = "wont_act", _("will not act")

    follow_up = models.ForeignKey(FollowUp, on_delete=models.PROTECT,
                                  related_name="board_remarks")
    author = models.ForeignKey("governance.Person", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("remark"))
    created_at = models.DateTimeField(_("created"))
    answer = models.CharField(_("answer"), max_length=16, choices=Answer.choices, blank=True)
    answer_text = models.TextField(_("answer text"), blank=True)
    answered_by = models.ForeignKey("governance.Person", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("board remark")
        verbose_name_plural = _("board remarks")
        ordering = ["follow_up_id", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(answer="") | Q(answered_by__isnull=False),
                name="cycles_boardremark_answer_has_author"),
            models.CheckConstraint(
                condition=~Q(answer="wont_act") | ~Q(answer_text=""),
                name="cycles_boardremark_wont_act_has_reason"),
        ]

    def __str__(self):
        return f"{self.follow_up}: {self.text[:40]}"


class Meeting(models.Model):
    """A meeting of a body: the date the governance calendar and the step deadlines hang on.

    Moving or cancelling a meeting moves the deadlines that depend on it (cycles.deadlines) and
    raises ``sequence``, so calendar subscribers see the change (RFC 5545 SEQUENCE).
    """

    class Kind(models.TextChoices):
        ORDINARY = "ordinary", _("ordinary meeting")
        EXTRAORDINARY = "extraordinary", _("extraordinary meeting")
        NETWORK = "network", _("network meeting")

    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"),
                                     on_delete=models.PROTECT, related_name="meetings")
    body = models.ForeignKey("governance.Body", verbose_name=_("body"),
                             on_delete=models.PROTECT, related_name="meetings")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices,
                            default=Kind.ORDINARY)
    date = models.DateField(_("date"))
    starts_at = models.TimeField(_("starts at"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    plan = models.ForeignKey(
        AnnualPlan, verbose_name=_("annual plan on the agenda"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="meetings",
        help_text=_("The plan this meeting treats; its step deadlines count from this meeting."))
    note = models.TextField(_("note"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    sequence = models.PositiveIntegerField(
        _("revision"), default=0,
        help_text=_("Raised whenever the date, time or place changes or the meeting is "
                    "cancelled."))
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["date", "starts_at", "pk"]
        indexes = [
            models.Index(fields=["organisation", "date"], name="cycles_meeting_org_date"),
            models.Index(fields=["body", "date"], name="cycles_meeting_body_date"),
        ]

    def __str__(self):
        return f"{self.body} {self.date:%d.%m.%Y}"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class StepDeadline(models.Model):
    """An organisation's deadline rule for one step of the cycle (defaults in cycles.deadlines).

    ``meeting``: ``offset_business_days`` from the first meeting of ``body_kind`` that treats
    the plan (negative: before it). ``fixed``: ``fixed_day``.``fixed_month`` of the plan's (or
    case's) year plus ``fixed_year_offset``. ``follow_up``: ``offset_business_days`` from the
    follow-up case's due date. A date that is not a business day moves to the one before.
    """

    class Basis(models.TextChoices):
        MEETING = "meeting", _("relative to a meeting")
        FIXED = "fixed", _("fixed date")
        FOLLOW_UP = "follow_up", _("relative to the follow-up's due date")
        NONE = "none", _("no deadline")

    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"),
                                     on_delete=models.CASCADE, related_name="step_deadlines")
    step = models.CharField(_("step"), max_length=32)
    basis = models.CharField(_("deadline"), max_length=16, choices=Basis.choices)
    body_kind = models.CharField(_("meeting of"), max_length=32, blank=True)
    offset_business_days = models.SmallIntegerField(
        _("business days"), default=0,
        help_text=_("Negative: before the meeting or due date; positive: after."))
    fixed_month = models.PositiveSmallIntegerField(_("month"), null=True, blank=True)
    fixed_day = models.PositiveSmallIntegerField(_("day"), null=True, blank=True)
    fixed_year_offset = models.SmallIntegerField(
        _("year"), default=0, help_text=_("0: the plan's year; -1: the year before."))

    class Meta:
        verbose_name = _("step deadline")
        verbose_name_plural = _("step deadlines")
        ordering = ["organisation_id", "step"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "step"],
                                    name="cycles_stepdeadline_one_per_step"),
            models.CheckConstraint(
                condition=~Q(basis="meeting") | ~Q(body_kind=""),
                name="cycles_stepdeadline_meeting_has_body_kind"),
            models.CheckConstraint(
                condition=~Q(basis="fixed") | Q(fixed_month__gte=1, fixed_month__lte=12,
                                                fixed_day__gte=1, fixed_day__lte=31),
                name="cycles_stepdeadline_fixed_has_date"),
        ]

    def __str__(self):
        return f"{self.organisation}: {self.step}"
