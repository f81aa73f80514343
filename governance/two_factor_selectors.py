"""Two-factor reads: a person's authenticator, recovery codes and who requires it of them."""

from dataclasses import dataclass, field

from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from permissions.two_factor import organisations_requiring_two_factor_of


@dataclass(frozen=True)
class TwoFactorStatus:
    device: TOTPDevice | None  # the confirmed authenticator: two-factor is on
    pending: TOTPDevice | None  # a set-up under way
    recovery_codes_left: int = 0
    required_by: list = field(default_factory=list)  # organisations requiring it of them

    @property
    def enabled(self) -> bool:
        return self.device is not None


def has_authenticator(*, person) -> bool:
    """Whether the person has set up two-factor (one query)."""
    return TOTPDevice.objects.filter(user=person, confirmed=True).exists()


def two_factor_status_for(*, person) -> TwoFactorStatus:
    """The person's own two-factor status: their devices (one query), the recovery codes left
    (one) and the organisations that require it of them (see
    ``organisations_requiring_two_factor_of``)."""
    devices = list(TOTPDevice.objects.filter(user=person).order_by("-confirmed", "-pk"))
    device = next((d for d in devices if d.confirmed), None)
    pending = next((d for d in devices if not d.confirmed), None) if device is None else None
    left = StaticToken.objects.filter(device__user=person).count() if device else 0
    return TwoFactorStatus(device=device, pending=pending, recovery_codes_left=left,
                           required_by=organisations_requiring_two_factor_of(person=person))
