"""Who needs a second factor, and for what: the one rule of the optional two-factor.

An organisation may require two-factor verification (a code from an authenticator app,
django-otp TOTP) of everyone who signs off or approves on behalf of one of its bodies
(``Organisation.require_two_factor_for_signers``). "Signing off" is this list of matrix
actions, each a decision a body is bound by or one that makes the plan official:

* ``plan.sign.*`` — the committee's recommendation and the board's approval, with the hash of
  the revision signed;
* ``plan.return.*`` — a body's decision to send the plan back to draft (the "returned"
  decision of a sign-off step, and the follow-up group's return);
* ``plan.close_review`` — the follow-up group's recommendation that ends its review;
* ``plan.publish`` — the operations secretary makes the approved plan official and rolls it out;
* ``plan.evaluate`` — the follow-up group's year-end verdicts, which decide what goes on
  into next year's draft;
* ``follow_up.acknowledge`` — the department board's chair acknowledges the half-yearly
  follow-up on the board's behalf.

Not on the list: preparing, commenting, remarks and answers, registering a presentation (a
fact, not a decision), and sending a follow-up back to preparation (staff do that too, and it
decides nothing: the case comes back to the board).

The rule does not look at the session; ``governance.two_factor`` asks it and checks whether
the request is verified.
"""

import datetime

from django.utils import timezone

from permissions.matrix import MATRIX, Action

SIGNER_ACTIONS: frozenset[Action] = frozenset({
    Action.PLAN_SIGN_COMMITTEE,
    Action.PLAN_SIGN_BOARD,
    Action.PLAN_RETURN_FROM_REVIEW,
    Action.PLAN_RETURN_FROM_COMMITTEE,
    Action.PLAN_RETURN_FROM_BOARD,
    Action.PLAN_CLOSE_REVIEW,
    Action.PLAN_PUBLISH,
    Action.PLAN_EVALUATE,
    Action.FOLLOW_UP_ACKNOWLEDGE,
})


def two_factor_required_for(*, person, organisation, action: Action) -> bool:
    """Whether ``person`` must be verified with a second factor to take ``action`` in
    ``organisation`` (an ``Organisation``). The caller has checked that they may take it."""
    if person is None or not person.is_authenticated:
        return False
    return action in SIGNER_ACTIONS and organisation.require_two_factor_for_signers


def organisations_requiring_two_factor_of(*, person, day: datetime.date | None = None) -> list:
    """The organisations whose signer actions ``person`` holds on ``day`` and which require
    two-factor for them (for the person's two-factor page). A query for the organisations
    and two per organisation that requires it (the person's roles there)."""
    from permissions.selectors import (
        permitted_actions,
        roles_in_organisation,
        visible_organisations,
    )

    if not person.is_authenticated:
        return []
    day = day or timezone.localdate()
    requiring = []
    for organisation in visible_organisations(user=person, day=day).filter(
            require_two_factor_for_signers=True).order_by("name"):
        roles = roles_in_organisation(user=person, organisation_id=organisation.pk, day=day)
        holds = any(roles & MATRIX[action] for action in SIGNER_ACTIONS)
        if not holds:  # an authorised vice-chair signs for the chair
            holds = bool(SIGNER_ACTIONS & permitted_actions(
                user=person, organisation_id=organisation.pk, day=day))
        if holds:
            requiring.append(organisation)
    return requiring
