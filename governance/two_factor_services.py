"""Two-factor writes: set up an authenticator app, verify a code, recovery codes, turn it off,
and an organisation's requirement. Every change and every refused code is audited.

A person has at most one authenticator (a django-otp ``TOTPDevice``: a pending one while set-up
is under way, ``confirmed`` once a code from the app has been accepted) and one set of ten
single-use recovery codes (a ``StaticDevice`` with its tokens). A code is six digits from the
app or one recovery code; each device throttles wrong codes itself (django-otp: the n-th
consecutive failure makes the device refuse every code for 2^(n-1) seconds).

Entries about a person's second factor go in the global audit chain (they belong to no
organisation) and hold ids only.
"""

import math
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import audit_record
from governance.models import Organisation

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
TOTP_CODE = re.compile(r"\d{6}")
RECOVERY_CODE = re.compile(r"[a-z2-7]{8}")


class CodeRefused(ValidationError):
    """A code that was not accepted: wrong, malformed, or asked while the device is throttled
    (``wait_seconds`` until it takes codes again). A field error on ``code``."""

    def __init__(self, message: str, *, wait_seconds: int = 0):
        super().__init__({"code": [message]})
        self.wait_seconds = wait_seconds

    @property
    def throttled(self) -> bool:
        return self.wait_seconds > 0


def normalise_code(code: str) -> str:
    """``" 123 456 "`` → ``"123456"``; ``"ABCD-EFGH"`` → ``"abcdefgh"``."""
    return re.sub(r"[\s-]", "", code or "").lower()


@dataclass(frozen=True)
class Enabled:
    device: TOTPDevice
    recovery_codes: list[str]


@dataclass(frozen=True)
class _Outcome:
    device: Device | None
    method: str  # "totp" or "recovery"
    reason: str = ""  # why refused: "wrong_code", "throttled", "malformed", "no_device"
    wait_seconds: int = 0


def _refusal(outcome: _Outcome, *, setup: bool = False) -> CodeRefused:
    if outcome.reason == "throttled":
        return CodeRefused(
            ngettext("Too many wrong codes. Wait %(seconds)d second and try again.",
                     "Too many wrong codes. Wait %(seconds)d seconds and try again.",
                     outcome.wait_seconds)
            % {"seconds": outcome.wait_seconds}, wait_seconds=outcome.wait_seconds)
    if outcome.reason == "no_device" and setup:
        return CodeRefused(_("No set-up is under way. Start the set-up again."))
    if outcome.reason == "no_device":
        return CodeRefused(_("Two-factor is not set up for you."))
    if setup:
        return CodeRefused(_("The code is not correct. Enter the six digits your "
                             "authenticator app shows now."))
    return CodeRefused(_("The code is not correct. Enter the six digits your authenticator "
                         "app shows now, or one of your recovery codes."))


def _wait_seconds(device) -> int:
    allowed, info = device.verify_is_allowed()
    if allowed or not info or "locked_until" not in info:
        return 0
    return max(1, math.ceil((info["locked_until"] - timezone.now()).total_seconds()))


def _check(person, code: str, *, pending: bool = False) -> _Outcome:
    """Try ``code`` on the person's device, locked for the check (call inside a transaction).
    Six digits go to the authenticator (the pending one with ``pending``), anything else to
    the recovery codes; a recovery code is used up when it is accepted."""
    code = normalise_code(code)
    if TOTP_CODE.fullmatch(code):
        method = "totp"
        device = (TOTPDevice.objects.select_for_update()
                  .filter(user=person, confirmed=not pending).order_by("pk").first())
    elif RECOVERY_CODE.fullmatch(code) and not pending:
        method = "recovery"
        device = StaticDevice.objects.select_for_update().filter(user=person).first()
    else:
        return _Outcome(None, "", reason="malformed")
    if device is None:
        return _Outcome(None, method, reason="no_device")
    wait = _wait_seconds(device)
    if wait:
        return _Outcome(None, method, reason="throttled", wait_seconds=wait)
    if not device.verify_token(code):  # counts the failure on the device (throttling)
        return _Outcome(None, method, reason="wrong_code")
    return _Outcome(device, method)


def _audit_refusal(person, outcome: _Outcome, *, stage: str) -> None:
    audit_record(actor=person, action="two_factor.verify_failed", obj=person,
                 summary={"stage": stage, "method": outcome.method, "reason": outcome.reason})


def _recovery_codes_replace(person) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=person, defaults={"name": RECOVERY_NAME})
    device.token_set.all().delete()
    device.throttle_reset(commit=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


# --- set-up -------------------------------------------------------------------------------

@transaction.atomic
def two_factor_setup_start(*, actor) -> TOTPDevice:
    """A new secret for the person's authenticator app, pending until a code confirms it.
    Starting again replaces a pending secret; an authenticator in use is replaced only after
    two-factor is turned off."""
    if TOTPDevice.objects.filter(user=actor, confirmed=True).exists():
        raise ValidationError(_("Two-factor is already on. Turn it off first to set up "
                                "another authenticator app."))
    TOTPDevice.objects.filter(user=actor, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=actor, name=AUTHENTICATOR_NAME, confirmed=False)
    audit_record(actor=actor, action="two_factor.setup_start", obj=actor,
                 summary={"device": device.pk})
    return device


def two_factor_enable(*, actor, code: str) -> Enabled:
    """Confirm the pending authenticator with a code from the app: two-factor is on, with ten
    new recovery codes (returned once, to be shown once). A wrong code is counted and
    audited, and raises :class:`CodeRefused`."""
    with transaction.atomic():
        outcome = _check(actor, code, pending=True)
        if outcome.device is None:
            _audit_refusal(actor, outcome, stage="setup")
        else:
            device = outcome.device
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _recovery_codes_replace(actor)
            audit_record(actor=actor, action="two_factor.enable", obj=actor,
                         summary={"device": device.pk, "recovery_codes": len(codes)})
    if outcome.device is None:  # the refusal is recorded (committed) before the error
        raise _refusal(outcome, setup=True)
    return Enabled(device=device, recovery_codes=codes)


# --- use ----------------------------------------------------------------------------------

def two_factor_verify(*, actor, code: str) -> Device:
    """Check a code (from the app, or a recovery code, which is then used up) and return the
    device that accepted it, for ``django_otp.login``. Refusals are audited and raise
    :class:`CodeRefused`."""
    with transaction.atomic():
        outcome = _check(actor, code)
        if outcome.device is None:
            _audit_refusal(actor, outcome, stage="verify")
        else:
            summary = {"method": outcome.method}
            if outcome.method == "recovery":
                summary["recovery_codes_left"] = outcome.device.token_set.count()
            audit_record(actor=actor, action="two_factor.verify", obj=actor, summary=summary)
    if outcome.device is None:
        raise _refusal(outcome)
    return outcome.device


def recovery_codes_renew(*, actor, code: str) -> list[str]:
    """Ten new recovery codes in place of the old ones, for a current code."""
    with transaction.atomic():
        outcome = _check(actor, code)
        if outcome.device is None:
            _audit_refusal(actor, outcome, stage="recovery_codes")
        else:
            codes = _recovery_codes_replace(actor)
            audit_record(actor=actor, action="two_factor.recovery_codes_renew", obj=actor,
                         summary={"method": outcome.method, "recovery_codes": len(codes)})
    if outcome.device is None:
        raise _refusal(outcome)
    return codes


def two_factor_disable(*, actor, code: str) -> None:
    """Turn two-factor off for a current code (from the app or a recovery code): the
    authenticator and the recovery codes are deleted, and the session is no longer verified.
    Allowed while an organisation requires it: the person then cannot sign there until they
    set it up again (this is also how a lost or new phone is replaced)."""
    with transaction.atomic():
        outcome = _check(actor, code)
        if outcome.device is None:
            _audit_refusal(actor, outcome, stage="disable")
        else:
            TOTPDevice.objects.filter(user=actor).delete()
            StaticDevice.objects.filter(user=actor).delete()  # and its tokens
            audit_record(actor=actor, action="two_factor.disable", obj=actor,
                         summary={"method": outcome.method})
    if outcome.device is None:
        raise _refusal(outcome)


# --- the organisation's requirement --------------------------------------------------------

@transaction.atomic
def organisation_require_two_factor(*, actor, organisation: Organisation,
                                    required: bool) -> Organisation:
    """Require (or stop requiring) two-factor of the organisation's signers."""
    locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
    before = locked.require_two_factor_for_signers
    if before == required:
        return locked
    locked.require_two_factor_for_signers = required
    locked.save(update_fields=["require_two_factor_for_signers"])
    organisation.require_two_factor_for_signers = required
    audit_record(actor=actor, action="organisation.two_factor_requirement", obj=locked,
                 organisation=locked,
                 summary={"before": before, "after": required})
    return locked
