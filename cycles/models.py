"""The operations programme and its themes; the annual cycle's plans build on them."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from governance.models import Organisation


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
