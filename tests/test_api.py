"""The JSON API: token flow, tenant isolation, the error format, pagination."""

import datetime

import pytest
from rest_framework.test import APIClient

from fixtures.demo import DEMO_PASSWORD
from governance.models import Body, Department, Membership, Organisation

pytestmark = pytest.mark.django_db


def client_for(persona) -> APIClient:
    client = APIClient()
    client.force_authenticate(persona)
    return client


def all_rows(client, url):
    rows, page = [], url
    while page:
        body = client.get(page).json()
        rows += body["results"]
        page = body["next"]
    return rows


def test_token_flow_gives_a_token_that_opens_me(demo):
    client = APIClient()
    response = client.post("/api/v1/auth/token/",
                           {"username": "ab-formand", "password": DEMO_PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    body = me.json()
    assert body["username"] == "ab-formand"
    roles = {(r["role"], r["body_name"]) for r in body["roles"]}
    board = Body.objects.get(memberships__person__username="ab-formand",
                             kind=Body.Kind.DEPARTMENT_BOARD)
    assert ("chair", board.name) in roles
    assert ("member", "Repræsentantskabet") in roles
    assert all(r["starts_on"] and "organisation" in r for r in body["roles"])


def test_wrong_password_answers_400_with_field_errors(demo):
    response = APIClient().post("/api/v1/auth/token/",
                                {"username": "ab-formand", "password": "forkert"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"]["non_field_errors"]
    missing = APIClient().post("/api/v1/auth/token/", {}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()["errors"]) == {"username", "password"}


def test_no_or_bad_token_answers_401(demo):
    assert APIClient().get("/api/v1/me/").status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/organisations/")
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_other_organisation_sees_only_its_own_organisation(demo, persona):
    client = client_for(persona("anden-org"))
    orgs = all_rows(client, "/api/v1/organisations/")
    assert [o["slug"] for o in orgs] == ["havnely"]
    departments = all_rows(client, "/api/v1/departments/")
    havnely = Organisation.objects.get(slug="havnely")
    assert {d["organisation"] for d in departments} == {havnely.pk}
    assert len(departments) == Department.objects.filter(organisation=havnely).count()
    memberships = all_rows(client, "/api/v1/memberships/")
    assert {m["body"] for m in memberships} <= set(
        Body.objects.filter(organisation=havnely).values_list("pk", flat=True))


@pytest.mark.parametrize("collection", ["organisations", "operations-areas", "departments",
                                        "bodies", "memberships"])
def test_rows_of_another_organisation_answer_404_like_missing_rows(demo, persona, collection):
    soebredden = Organisation.objects.get(slug="soebredden")
    row = {
        "organisations": soebredden,
        "operations-areas": soebredden.operations_areas.first(),
        "departments": soebredden.departments.first(),
        "bodies": soebredden.bodies.first(),
        "memberships": Membership.objects.filter(body__organisation=soebredden).first(),
    }[collection]
    client = client_for(persona("anden-org"))
    hidden = client.get(f"/api/v1/{collection}/{row.pk}/")
    missing = client.get(f"/api/v1/{collection}/99999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    # ...while someone in the organisation reads it.
    assert client_for(persona("ab-anden")).get(f"/api/v1/{collection}/{row.pk}/").status_code == 200


def test_collections_are_paginated_and_every_row_has_an_id(demo, persona):
    response = client_for(persona("sekretaer")).get("/api/v1/memberships/?page_size=10")
    body = response.json()
    assert response.status_code == 200
    assert len(body["results"]) == 10
    assert body["count"] > 10 and body["next"]
    assert all(isinstance(row["id"], int) for row in body["results"])
    # Names only: contact details of members are not shared through the API.
    assert set(body["results"][0]["person"]) == {"id", "name"}


def test_memberships_filter_by_day_across_a_term_boundary(demo, persona):
    client = client_for(persona("sekretaer"))
    chair = Membership.objects.filter(role="chair", ends_on__isnull=False,
                                      body__organisation__slug="soebredden").first()
    last_day = chair.ends_on.isoformat()
    held = all_rows(client, f"/api/v1/memberships/?body={chair.body_id}&role=chair"
                            f"&current_on={last_day}")
    assert [m["id"] for m in held] == [chair.pk]
    next_day = (chair.ends_on + datetime.timedelta(days=1)).isoformat()
    after = all_rows(client, f"/api/v1/memberships/?body={chair.body_id}&role=chair"
                             f"&current_on={next_day}")
    assert len(after) == 1 and after[0]["id"] != chair.pk


def test_bad_filter_values_answer_400_with_field_errors(demo, persona):
    client = client_for(persona("sekretaer"))
    response = client.get("/api/v1/memberships/?current_on=31-02-2026&body=abc")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"current_on", "body"}


def test_unknown_api_route_answers_json_404(demo, persona, settings):
    settings.DEBUG = False
    response = client_for(persona("sekretaer")).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_openapi_schema_describes_the_endpoints(demo, persona):
    response = client_for(persona("sekretaer")).get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ["/api/v1/me/", "/api/v1/auth/token/", "/api/v1/departments/{id}/",
                 "/api/v1/memberships/"]:
        assert path in paths
