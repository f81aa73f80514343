"""The two-factor pages: status and set-up, verify (step-up), recovery codes, turning it off.

Thin views: parse the code form (400 with a field error for a malformed code), call the service
(``governance.two_factor_services``), and answer a refused code with the form again: 400 for a
wrong code, 429 while the device is throttled. A verified code marks the session verified
(``django_otp.login``). Secrets and recovery codes are never cached.
"""

import re
from base64 import b32encode

import django_otp
import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from governance import two_factor_services as services
from governance.two_factor import safe_next, session_verified
from governance.two_factor_forms import CodeForm
from governance.two_factor_selectors import has_authenticator, two_factor_status_for

QR_SIZE = 224  # px


def qr_code_svg(text: str, *, label: str) -> str:
    """``text`` as a QR code: inline SVG markup (no image library, no style attribute)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage,
                        error_correction=qrcode.constants.ERROR_CORRECT_M)
    svg = image.to_string(encoding="unicode")
    svg = re.sub(r'^<svg width="[^"]*" height="[^"]*"',
                 f'<svg width="{QR_SIZE}" height="{QR_SIZE}"', svg, count=1)
    return svg.replace("<svg ", str(format_html('<svg class="qr-code" role="img" '
                                                'aria-label="{}" ', label)), 1)


def grouped(text: str, size: int = 4, separator: str = " ") -> str:
    """``"abcdefgh"`` → ``"abcd efgh"``: easier to read and to type."""
    return separator.join(text[i:i + size] for i in range(0, len(text), size))


def _next(request) -> str | None:
    return safe_next(request, request.POST.get("next") or request.GET.get("next"))


def _with_next(name: str, next_url: str | None) -> str:
    from urllib.parse import urlencode

    url = reverse(name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _refused(form: CodeForm, error: ValidationError) -> int:
    """The service's refusal as the code field's error; the answer's status."""
    for message in error.message_dict.get("code", error.messages):
        form.add_error("code", message)
    return 429 if getattr(error, "throttled", False) else 400


def _render_status(request, *, status: int = 200, confirm_form=None, renew_form=None,
                   error: str | None = None):
    state = two_factor_status_for(person=request.user)
    next_url = _next(request)
    context = {"state": state, "next": next_url, "verified": session_verified(request),
               "error": error, "confirm_form": None, "renew_form": None}
    if state.pending is not None:
        context["confirm_form"] = confirm_form or CodeForm(initial={"next": next_url},
                                                           recovery=False)
        context["secret"] = grouped(b32encode(state.pending.bin_key).decode())
        context["qr_code"] = mark_safe(qr_code_svg(  # noqa: S308 (generated markup, escaped label)
            state.pending.config_url,
            label=_("QR code for your authenticator app")))
    if state.enabled:
        context["renew_form"] = renew_form or CodeForm(auto_id="renew_%s")
    return render(request, "governance/two_factor.html", context, status=status)


@never_cache
@login_required
def two_factor_status(request):
    """Two-factor on or off, who requires it; set-up (QR code, secret, confirm) when started."""
    return _render_status(request)


@never_cache
@login_required
@require_POST
def two_factor_setup(request):
    """Start set-up: a new secret, shown on the status page until a code confirms it."""
    try:
        services.two_factor_setup_start(actor=request.user)
    except ValidationError as error:
        return _render_status(request, status=400, error=" ".join(error.messages))
    return redirect(_with_next("two_factor:status", _next(request)))


@never_cache
@login_required
@require_POST
def two_factor_confirm(request):
    """Confirm set-up with a code from the app; the recovery codes are shown once, now."""
    form = CodeForm(request.POST, recovery=False)
    if not form.is_valid():
        return _render_status(request, status=400, confirm_form=form)
    try:
        enabled = services.two_factor_enable(actor=request.user, code=form.cleaned_data["code"])
    except ValidationError as error:
        return _render_status(request, status=_refused(form, error), confirm_form=form)
    django_otp.login(request, enabled.device)
    messages.success(request, _("Two-factor is on. This session is verified."))
    return render(request, "governance/two_factor_codes.html", {
        "codes": [grouped(code, separator="-") for code in enabled.recovery_codes], "next": _next(request)})


@never_cache
@login_required
@require_POST
def two_factor_recovery_codes(request):
    """Ten new recovery codes for a current code; the old ones stop working."""
    form = CodeForm(request.POST, auto_id="renew_%s")
    if not form.is_valid():
        return _render_status(request, status=400, renew_form=form)
    try:
        codes = services.recovery_codes_renew(actor=request.user,
                                              code=form.cleaned_data["code"])
    except ValidationError as error:
        return _render_status(request, status=_refused(form, error), renew_form=form)
    return render(request, "governance/two_factor_codes.html", {
        "codes": [grouped(code, separator="-") for code in codes], "next": None})


@never_cache
@login_required
def two_factor_verify(request):
    """Step-up: a code from the app (or a recovery code) verifies this session."""
    next_url = _next(request)
    if not has_authenticator(person=request.user):
        return redirect(_with_next("two_factor:status", next_url))
    form = CodeForm(request.POST if request.method == "POST" else None,
                    initial={"next": next_url})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                device = services.two_factor_verify(actor=request.user,
                                                    code=form.cleaned_data["code"])
            except ValidationError as error:
                status = _refused(form, error)
            else:
                django_otp.login(request, device)
                messages.success(request, _("This session is verified."))
                if isinstance(device, StaticDevice):
                    left = device.token_set.count()
                    messages.warning(request, ngettext(
                        "You used a recovery code: %(count)d is left.",
                        "You used a recovery code: %(count)d are left.", left) % {"count": left})
                return redirect(next_url or "two_factor:status")
    return render(request, "governance/two_factor_verify.html", {
        "form": form, "next": next_url, "verified": session_verified(request),
    }, status=status)


@never_cache
@login_required
def two_factor_disable(request):
    """Turn two-factor off, for a current code."""
    if not has_authenticator(person=request.user):
        return redirect("two_factor:status")
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.two_factor_disable(actor=request.user, code=form.cleaned_data["code"])
            except ValidationError as error:
                status = _refused(form, error)
            else:
                messages.success(request, _("Two-factor is off."))
                return redirect("two_factor:status")
    return render(request, "governance/two_factor_disable.html", {
        "form": form, "state": two_factor_status_for(person=request.user),
    }, status=status)
