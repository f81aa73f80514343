"""``/me/data/``: the signed-in person's own data. GET explains what is in it; POST (a button)
downloads it as JSON, ``aarshjul-<username>-<date>.json``, and records the export in the audit
trail."""

import json

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from privacy.selectors import EXPORT_SECTIONS
from privacy.services import person_data_export


def export_filename(person, day) -> str:
    return f"aarshjul-{person.username}-{day.isoformat()}.json"


def export_json(data: dict) -> bytes:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2,
                      sort_keys=False).encode("utf-8")


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def my_data(request):
    person = request.user
    if request.method == "POST":
        data = person_data_export(actor=person, person=person, via="page")
        response = HttpResponse(export_json(data), content_type="application/json; charset=utf-8")
        filename = export_filename(person, timezone.localdate())
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return render(request, "privacy/my_data.html", {"sections": EXPORT_SECTIONS})
