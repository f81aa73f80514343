"""Hostile input against every API operation: schemathesis generates requests from the
OpenAPI schema (/api/schema/, drf-spectacular) and sends them through the WSGI application, in
the test's process and transaction.

Two passes, each one test that runs Hypothesis on every operation in turn and lists every
operation that failed:

* signed in (token authentication) as a demo persona, with data that fits the schema and data
  that does not (wrong types, missing and extra fields, huge strings, NUL bytes, unicode).
  Path ids are mostly swapped for objects the persona may act on now or can see (tests/
  fuzzing.py ``Reach``; plans in every step of the cycle), ids in bodies half of the time for
  real ones of either organisation, so the requests get past "not found" and "not allowed"
  into validation and the services. Never a 5xx; the status code is one the operation
  documents, and the content type and the body match the schema.
* without credentials: every operation answers 401 (the public token endpoint 400), never a
  5xx.

Each example runs in a rolled-back savepoint (tests/fuzzing.py), so all start from the same
demo data, and the run is reproducible (``derandomize``). Schemathesis' own pytest loader
(``schemathesis.pytest.from_fixture``) does not run under pytest 9.2 (it sets the removed
``Node._nodeid``), so the operations' strategies (``operation.as_strategy``) are driven here.
"""

import functools
import re

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.urls import Resolver404, resolve
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import test_route_permissions as route_test
from tests.fuzzing import (
    Reach,
    connections_kept_open,
    fuzz_settings,
    plans_in_every_state,
    rolled_back,
)

# The route test's objects: plans, cases, rollouts, tasks, delegations of department A,
# department B and the other organisation (its fixture, reused here).
targets = route_test.targets
PERSONAS = route_test.PERSONAS

# Examples per operation (61 of them): the writes get the most.
WRITE_EXAMPLES = 10
READ_EXAMPLES = 4
ANONYMOUS_EXAMPLES = 2


@functools.cache
def raw_schema() -> dict:
    """The OpenAPI document, fetched once per process through the WSGI application."""
    return schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler()).raw_schema


def load_schema():
    schema = schemathesis.openapi.from_dict(raw_schema())
    schema.app = WSGIHandler()
    return schema


class World:
    """Tokens of every persona; per collection the objects each persona can see, and per
    action the objects each persona may take it on now (role and state); real values for
    bodies."""

    def __init__(self):
        from rest_framework.authtoken.models import Token

        from cycles.models import BoardRemark, Initiative, PlanRevision, Theme
        from governance.models import Department, OperationsArea, Organisation, Person

        reach = Reach(PERSONAS)
        self.tokens = {p.username: Token.objects.get_or_create(user=p)[0].key
                       for p in reach.people}
        self.visible, self.ready = reach.visible, reach.ready
        # second path parameters, by the first one: a case's board remarks, revision numbers
        self.within = {"remark_pk": {}, "number": {}}
        for follow_up_id, remark_id in BoardRemark.objects.values_list("follow_up_id", "pk"):
            self.within["remark_pk"].setdefault(follow_up_id, []).append(remark_id)
        for plan_id, number in PlanRevision.objects.values_list("plan_id", "number"):
            self.within["number"].setdefault(plan_id, []).append(number)
        everyone = list(Person.objects.values_list("pk", flat=True))
        initiatives = list(Initiative.objects.values_list("pk", flat=True))
        # body field → real values (of every organisation: ids elsewhere must read as unknown)
        self.body_values = {
            "initiative": initiatives, "merged_into": initiatives,
            "theme": list(Theme.objects.values_list("pk", flat=True)),
            "owner": everyone, "person": everyone, "substitute": everyone, "to": everyone,
            "operations_areas": list(OperationsArea.objects.values_list("pk", flat=True)),
            "departments": list(Department.objects.values_list("pk", flat=True)),
            "organisation": list(Organisation.objects.values_list("pk", flat=True)),
            "expected_sha256": list(PlanRevision.objects.values_list("sha256", flat=True)),
            "password": ["demo"],  # the demo personas' password: signing goes all the way
        }


@pytest.fixture
def world(targets):
    """The demo with the route test's objects and plans in every step."""
    plans_in_every_state()
    return World()


@pytest.fixture(autouse=True)
def _in_process(settings):
    """The WSGI application runs in the test's thread and transaction: it keeps the test's
    database connection open, and a server error raises its exception (with its traceback in
    the report) instead of answering 500."""
    settings.DEBUG_PROPAGATE_EXCEPTIONS = True
    with connections_kept_open():
        yield


# The action an operation takes, for the names that differ from the path's last part.
ACTIONS = {"initiatives": "edit", "theme-justification": "edit", "board-remarks": "board-remark",
           "comments": "comment", "{id}": "edit"}


def aim(case, data, world: World) -> str:
    """Choose the persona and the objects in the path: mostly an object the persona may act
    on now, or one it can see, else any real one or the generated value; real ids in the body
    half of the time. Returns the persona's username."""
    parts = case.operation.path.strip("/").split("/")[2:]  # after api/v1/
    collection = parts[0]
    names = [name for name in re.findall(r"{(\w+)}", case.operation.path)
             if name in (case.path_parameters or {})]
    username = data.draw(st.sampled_from(PERSONAS), label="persona")
    if names:
        action = ACTIONS.get(parts[-1], parts[-1])
        if parts[-1] == "answer":
            collection, action = "follow-ups", "answer"
        choices = [world.ready.get((collection, action), []) if case.method != "GET" else [],
                   world.visible.get(collection, [])]
        # 0: may act, 1: can see, 2: anyone's, 3: generated (Hypothesis leans to 0)
        choice = data.draw(st.integers(0, 3), label="ready, visible, anyone's or generated")
        pairs = next((c for c in choices[choice:] if c), []) if choice < 2 else []
        if choice == 2:
            pairs = [(username, pk) for _, pk in world.visible.get(collection, [])]
        if pairs:
            username, case.path_parameters[names[0]] = data.draw(st.sampled_from(pairs),
                                                                 label=names[0])
        for name in names[1:]:  # a board remark of the case, a revision of the plan
            first = case.path_parameters[names[0]]
            within = world.within[name].get(first) if isinstance(first, int) else None
            if within and choice < 3:
                case.path_parameters[name] = data.draw(st.sampled_from(within), label=name)
    if isinstance(case.body, dict):
        case.body = _real_body(case.body, data, world)
    return username


def _real_body(value, data, world: World):
    if isinstance(value, list):
        return [_real_body(item, data, world) for item in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        pool = world.body_values.get(key)
        if pool and not data.draw(st.booleans(), label=f"{key}: real (False) or generated"):
            chosen = data.draw(st.sampled_from(pool), label=key)
            result[key] = [chosen] if isinstance(item, list) else chosen
        else:
            result[key] = _real_body(item, data, world)
    return result


def anonymous_answer(path: str) -> int:
    """What a caller without credentials gets: 401, or 404 for an address that does not
    exist — also one with a format suffix no renderer has (``/bodies/1.5/``: DRF negotiates
    the format before it authenticates)."""
    try:
        match = resolve(path)
    except Resolver404:
        return 404
    if match.kwargs.get("format") not in (None, "json", "api"):
        return 404
    return 401


def fuzz_every_operation(schema, check, *, examples) -> None:
    """Run ``check(case, data)`` on generated cases of every operation, positive (fits the
    schema) and negative (does not); ``examples(operation)`` says how many. Every operation
    runs; the failure lists each one whose check failed."""
    failures = []
    for result in schema.get_all_operations():
        failures.extend(fuzz_operation(result.ok(), check, examples))
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


def fuzz_operation(operation, check, examples) -> list[str]:
    """One operation's examples; its failure, if any, as one line of the report."""
    cases = st.one_of(*(operation.as_strategy(generation_mode=mode)
                        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)))

    @fuzz_settings(examples(operation))
    @given(case=cases, data=st.data())
    def run(case, data):
        check(case, data)

    try:
        run()
    except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - reported by the caller
        return [f"{operation.label}: {type(error).__name__}: {error}"]
    return []


def test_no_operation_answers_a_server_error_to_a_signed_in_persona(world):
    def check(case, data):
        username = aim(case, data, world)
        with rolled_back():
            response = case.call(headers={"Authorization": f"Token {world.tokens[username]}"})
        case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                  content_type_conformance,
                                                  response_schema_conformance])

    fuzz_every_operation(load_schema(), check, examples=lambda operation: (
        READ_EXAMPLES if operation.method.upper() == "GET" else WRITE_EXAMPLES))


def test_every_operation_answers_401_without_credentials(db):
    def check(case, data):
        with rolled_back():
            response = case.call()
        case.validate_response(response, checks=[not_a_server_error, status_code_conformance])
        if case.operation.path == "/api/v1/auth/token/":  # public: signs in
            assert response.status_code in (400, 429), response.status_code
        else:
            assert response.status_code == anonymous_answer(case.formatted_path), (
                case.formatted_path, response.status_code)

    fuzz_every_operation(load_schema(), check, examples=lambda operation: ANONYMOUS_EXAMPLES)


# --- what the fuzzing made explicit ---------------------------------------------------------------

@pytest.mark.parametrize("page", ["abc", "0", "-1", "999", str(2**70)])
def test_a_page_that_does_not_exist_is_bad_input_naming_page(client, persona, page):
    client.force_login(persona("sekretaer"))

    response = client.get("/api/v1/plans/", {"page": page})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["page"]


def test_every_operation_documents_the_errors_it_can_answer(db):
    """401 unless public, 400 when it reads input, 404 on one object, 415 with a body: the
    codes the fuzz test above checks answers against."""
    paths = raw_schema()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            label = f"{method.upper()} {path}"
            assert path == "/api/v1/auth/token/" or "401" in codes, label
            if "{" in path:
                assert "404" in codes, label
            if "requestBody" in operation:
                assert {"400", "415"} <= codes, label
    assert {"200", "400", "429"} <= set(paths["/api/v1/auth/token/"]["post"]["responses"])


@pytest.mark.parametrize("key", ["a\x00b", "x" * 5000, "æøå", "0" * 39, "G" * 40])
def test_a_token_no_key_can_be_answers_401(client, demo, key):
    """A NUL byte in the key failed the token query on PostgreSQL: 500 on every endpoint.
    (gunicorn refuses such a header itself; runserver and other servers pass it on.)"""
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_real_token_still_signs_in(client, persona):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=persona("ab-formand"))

    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200
    assert response.json()["username"] == "ab-formand"
