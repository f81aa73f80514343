"""Sign-ins and failed sign-ins go into the audit trail (global chain: a person may belong to
several organisations). A failed attempt records whether the username exists, never the
password and not the typed name of an unknown user (it may be someone's e-mail address)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from audit.services import audit_record
from governance.models import Person


@receiver(user_logged_in, dispatch_uid="governance.audit_login")
def audit_login(sender, request, user, **kwargs):
    with transaction.atomic():
        audit_record(actor=user, action="auth.login", obj=user)


@receiver(user_logged_out, dispatch_uid="governance.audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        with transaction.atomic():
            audit_record(actor=user, action="auth.logout", obj=user)


@receiver(user_login_failed, dispatch_uid="governance.audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    person = Person.objects.filter(username=credentials.get("username", "")).first()
    with transaction.atomic():
        audit_record(actor=None, action="auth.login_failed", obj=person or Person(pk=0),
                     summary={"known_user": person is not None,
                              "person": person.pk if person else None})
