import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.models import Body, SigningAuthorisation
from governance.selectors import signing_mandate_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def committee(demo):
    return Body.objects.get(organisation__slug="soebredden", kind=Body.Kind.OPERATIONS_COMMITTEE)


def url(body):
    return reverse("signing_authorisation", args=[body.pk])


def test_chair_authorises_the_vice_chair_for_a_period(client, persona, committee):
    client.force_login(persona("du-formand"))
    today = timezone.localdate()
    response = client.post(url(committee), {
        "starts_on": today.strftime("%d.%m.%Y"),
        "ends_on": (today + datetime.timedelta(days=14)).strftime("%d.%m.%Y")})
    assert response.status_code == 302
    authorisation = SigningAuthorisation.objects.get(body=committee)
    vice = authorisation.vice_chair
    mandate = signing_mandate_on(body=committee, person=vice, day=today)
    assert mandate.role == "vice_chair_for_chair"
    assert mandate.on_behalf_of == persona("du-formand")
    assert signing_mandate_on(body=committee, person=vice,
                              day=today + datetime.timedelta(days=15)) is None


def test_end_before_start_is_a_field_error(client, persona, committee):
    client.force_login(persona("du-formand"))
    response = client.post(url(committee), {"starts_on": "10.12.2026", "ends_on": "01.12.2026"})
    assert response.status_code == 400
    assert response.context["form"].errors["ends_on"]
    assert not SigningAuthorisation.objects.exists()


def test_only_the_chair_can_authorise(client, persona, committee):
    client.force_login(persona("ob-formand"))
    assert client.get(url(committee)).status_code == 403


def test_other_organisation_cannot_find_the_body(client, persona, committee):
    client.force_login(persona("anden-org"))
    assert client.get(url(committee)).status_code == 404
