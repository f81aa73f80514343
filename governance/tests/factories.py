"""Small builders for governance tests, all through the services."""

import datetime
import itertools

from governance import services

_numbers = itertools.count(1)


def organisation(slug: str = "org"):
    org = services.organisation_create(actor=None, name=f"Boligforening {slug}",
                                       short_name=slug, slug=slug)
    services.organisation_bodies_create(actor=None, organisation=org)
    return org


def department(org, *, area=None, households=120):
    n = next(_numbers)
    area = area or services.operations_area_create(actor=None, organisation=org, number=n,
                                                   name=f"Område {n}")
    return services.department_create(actor=None, operations_area=area, number=n,
                                      name=f"Afdeling {n}", households=households)


def person(username: str):
    return services.person_create(actor=None, username=username, first_name=username.title(),
                                  last_name="Testesen")


def d(text: str) -> datetime.date:
    """A date written the Danish way: d("31.05.2026")."""
    return datetime.datetime.strptime(text, "%d.%m.%Y").date()  # noqa: DTZ007
