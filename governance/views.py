from django.contrib import messages as messages_framework
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from governance import services
from governance.forms import SigningAuthorisationForm
from governance.models import Membership, SigningAuthorisation
from governance.selectors import body_chair_on, body_members_on
from permissions.selectors import visible_bodies


@login_required
def signing_authorisation(request, body_pk: int):
    """The chair of a body lets the vice-chair sign on their behalf for a period."""
    body = get_object_or_404(visible_bodies(user=request.user), pk=body_pk)
    chair = body_chair_on(body=body)
    if chair is None or chair.pk != request.user.pk:
        raise PermissionDenied
    vice = body_members_on(body=body).filter(role=Membership.Role.VICE_CHAIR).first()
    form = SigningAuthorisationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if vice is None:
            form.add_error(None, _("The body has no vice-chair to authorise."))
        elif form.is_valid():
            try:
                services.signing_authorisation_grant(
                    actor=request.user, body=body, vice_chair=vice.person,
                    starts_on=form.cleaned_data["starts_on"],
                    ends_on=form.cleaned_data["ends_on"])
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
            else:
                messages_framework.success(request, _("The vice-chair can now sign on your "
                                                      "behalf in the period."))
                return redirect("home")
        status = 400
    authorisations = SigningAuthorisation.objects.filter(body=body).select_related(
        "vice_chair").order_by("-starts_on")
    return render(request, "governance/signing_authorisation.html", {
        "body": body, "vice": vice, "form": form, "authorisations": authorisations,
    }, status=status)


def locked_out(request, credentials=None, *args, **kwargs):
    """Too many wrong passwords for this username from this address (django-axes): 429, with
    when to try again; JSON under /api/."""
    from django.conf import settings
    from django.http import JsonResponse

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _("Too many failed sign-in attempts. Wait %(minutes)d minutes and try again, "
                "or ask the operations secretary to reset your password.") % {
        "minutes": minutes}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)
