"""Forms of the two-factor pages: one code field (and where to go next)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.two_factor_services import RECOVERY_CODE, TOTP_CODE, normalise_code


class CodeForm(forms.Form):
    """A code from the authenticator app or, with ``recovery=True``, a recovery code."""

    code = forms.CharField(
        label=_("Code"), max_length=20, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                      "spellcheck": "false", "autocapitalize": "off"}))
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args, recovery: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.recovery = recovery
        if recovery:
            self.fields["code"].help_text = _(
                "The six digits your authenticator app shows now, or one of your recovery "
                "codes.")
        else:
            self.fields["code"].help_text = _("The six digits your authenticator app shows "
                                              "now.")
            self.fields["code"].widget.attrs.update({"inputmode": "numeric"})

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data["code"])
        if TOTP_CODE.fullmatch(code) or (self.recovery and RECOVERY_CODE.fullmatch(code)):
            return code
        if self.recovery:
            raise forms.ValidationError(_("Enter six digits, or a recovery code of eight "
                                          "letters and digits."))
        raise forms.ValidationError(_("Enter the six digits from your authenticator app."))
