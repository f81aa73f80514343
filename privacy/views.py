"""``/me/data/``: the signed-in person's own data. GET explains what is in it; POST (a button)
downloads it as JSON, ``aarshjul-<username>-<date>.json``, and records the export in the audit
trail."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from privacy.selectors import EXPORT_SECTIONS, person_data_json
from privacy.services import person_data_export


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def my_data(request):
    person = request.user
    if request.method == "POST":
        data = person_data_export(actor=person, person=person, via="page")
        response = HttpResponse(person_data_json(data),
                                content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True,
            filename=f"aarshjul-{person.username}-{timezone.localdate().isoformat()}.json")
        return response
    return render(request, "privacy/my_data.html", {"sections": EXPORT_SECTIONS})
