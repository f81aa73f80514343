from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from governance.selectors import person_mandates_on


@login_required
def home(request):
    """The landing page: the person's current roles (the task inbox joins it later)."""
    mandates = person_mandates_on(person=request.user)
    by_organisation: dict = {}
    for mandate in mandates:
        by_organisation.setdefault(mandate.organisation, []).append(mandate)
    return render(request, "governance/home.html", {
        "mandates_by_organisation": by_organisation,
    })
