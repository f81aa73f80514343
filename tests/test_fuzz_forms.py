"""Hostile input against every HTML form: Hypothesis sends generated data to every route of
permissions/routes.py that takes a POST, to every address a page's form posts to (the login
page and the language switch without signing in), and to every filter form (GET).

For each route the test finds a persona allowed to use it on a real demo object — one it may
act on now (its role and the object's state), else one the matrix allows — reads the form's
real field names (and the choices of its selects, radios and buttons) from the pages that show
it, and sends dictionaries of those fields with hostile values: empty, whitespace, huge, NUL
bytes, unicode, numbers out of range, dates such as 31.02.2026, ids of objects in the other
organisation, several values for one field, fields left out and unknown fields added. The
answer is never a 5xx. A new form route is fuzzed without touching this file.

A targeted test checks what an invalid form does: 400, the field's error on the page, and
nothing written (rows and audit entries counted before and after); regression tests pin what
the fuzzing found.

Each example runs in a rolled-back savepoint (tests/fuzzing.py): every example starts from the
same demo data, and the run is reproducible (derandomize).
"""

import itertools
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from hypothesis import given
from hypothesis import strategies as st
from viewflow.workflow.models import Task

from cycles.models import AnnualPlan, FollowUp, Initiative, RolloutPlan
from permissions.routes import LOGIN, ROUTES, Access, Target
from tests import test_route_permissions as route_test
from tests.fuzzing import (
    Reach,
    follow_up_with_the_board,
    fuzz_settings,
    hostile_values,
    plans_in_every_state,
    rolled_back,
)
from tests.pages import html

# The route test's objects: plans, cases, rollouts, tasks, delegations, meetings, saved
# filters and calendar addresses of department A, department B and the other organisation
# (its fixture, reused here).
targets = route_test.targets
PERSONAS = route_test.PERSONAS

# Examples per form (about 60 of them); a button without fields gets only unknown ones.
EXAMPLES = 7
EXAMPLES_WITHOUT_FIELDS = 3


# --- the forms on a page ---------------------------------------------------------------------

class FormParser(HTMLParser):
    """The forms of a page: (method, action) → {field name: [values the page offers]}."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url = page_url
        self.forms: dict[tuple[str, str], dict[str, list[str]]] = {}
        self._fields: dict[str, list[str]] | None = None
        self._method = "get"
        self._select: str | None = None
        self._ids: dict[str, tuple[str, str]] = {}  # form id → its key
        self._elsewhere: dict[str, dict[str, list[str]]] = {}  # fields with form="id"

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._method = (attrs.get("method") or "get").lower()
            action = urlsplit(attrs.get("action") or self.page_url).path
            self._fields = self.forms.setdefault((self._method, action), {})
            if attrs.get("id"):
                self._ids[attrs["id"]] = (self._method, action)
            return
        if tag in ("input", "select", "textarea", "button") and attrs.get("form"):
            # a field outside its form, tied to it by the form's id
            fields = self._elsewhere.setdefault(attrs["form"], {})
            self._add(fields, attrs)
            return
        if self._fields is None:
            return
        if tag in ("button", "input") and attrs.get("formaction"):
            # a button that sends its form somewhere else
            action = urlsplit(attrs["formaction"]).path
            self._add(self.forms.setdefault((self._method, action), dict(self._fields)), attrs)
            return
        if tag == "select":
            self._select = attrs.get("name")
            self._fields.setdefault(self._select or "", [])
        elif tag == "option" and self._select:
            self._fields[self._select].append(attrs.get("value") or "")
        elif tag in ("input", "textarea", "button"):
            self._add(self._fields, attrs)

    def _add(self, fields, attrs):
        name = attrs.get("name")
        if not name or name == "csrfmiddlewaretoken":
            return
        values = fields.setdefault(name, [])
        if attrs.get("value") not in (None, ""):
            values.append(attrs["value"])

    def elsewhere(self) -> dict[tuple[str, str], dict[str, list[str]]]:
        return {self._ids[form_id]: fields for form_id, fields in self._elsewhere.items()
                if form_id in self._ids}

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None


def forms_on(response, page_url: str) -> dict[tuple[str, str], dict[str, list[str]]]:
    if response.status_code >= 300 or "html" not in response.get("Content-Type", ""):
        return {}
    parser = FormParser(page_url)
    parser.feed(html(response))
    for form_id, fields in parser.elsewhere().items():
        for name, values in fields.items():
            parser.forms[form_id].setdefault(name, []).extend(values)
    return parser.forms


def route_name(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


# --- which routes take a POST, as whom, on what -------------------------------------------------

COLLECTIONS = {Target.PLAN: "plans", Target.FOLLOW_UP: "follow-ups",
               Target.ROLLOUT: "rollouts", Target.TASK: "tasks"}
# The API's name of the action a page's route takes, where the route's name does not say it.
ACTIONS = {"initiative_create": "edit", "initiative_edit": "edit", "initiative_delete": "edit",
           "theme_justification": "edit", "plan_edit": "edit", "plan_presentation":
           "register-presentation", "rollout_presentation": "register-presentation",
           "follow_up_board_remark": "board-remark", "follow_up_board_remark_answer": "answer",
           "task_comment": "comment"}
# The page that shows an object (and the forms of its POST-only actions).
DETAIL = {Target.PLAN: "cycles:plan_detail", Target.FOLLOW_UP: "cycles:follow_up_detail",
          Target.ROLLOUT: "cycles:rollout_detail", Target.TASK: "workflows:task_detail"}
MODELS = {Target.PLAN: AnnualPlan, Target.FOLLOW_UP: FollowUp, Target.ROLLOUT: RolloutPlan,
          Target.TASK: Task}


def action_of(name: str) -> str:
    short = name.split(":")[-1]
    if short in ACTIONS:
        return ACTIONS[short]
    for prefix in ("plan_", "follow_up_", "rollout_", "task_"):
        short = short.removeprefix(prefix)
    return short.replace("_", "-")


def post_routes(login_pages: dict[str, dict]) -> dict[str, tuple]:
    """Route name → (guard, parameters) of every route that takes a POST: its guard says so,
    or a page's form posts to it."""
    routes = {name: (guard, params)
              for name, (guard, params) in route_test.guarded_routes().items()
              if not name.startswith("v1:") and "POST" in dict(guard.checks())}
    every = route_test.guarded_routes()
    for forms in login_pages.values():
        for method, action in forms:
            name = route_name(action)
            if method == "post" and name in every and not name.startswith("v1:"):
                routes.setdefault(name, every[name])
    return routes


class Form:
    """One form to fuzz: its route, the persona, the method and address, and the fields with
    the values the page offers."""

    def __init__(self, name, username, url, fields, method="POST"):
        self.name, self.username, self.url, self.fields = name, username, url, fields
        self.method = method

    def __repr__(self):
        who = self.username or "anonymous"
        return f"{self.name} as {who}: {self.method} {self.url} {sorted(self.fields)}"


def candidates(name, guard, params, world, method="POST", limit=4) -> list[tuple[str, object]]:
    """Up to ``limit`` (username, object) pairs allowed to use the route: first those that
    may take its action on the object now, then those the matrix allows."""
    return list(itertools.islice(_candidates(name, guard, params, world, method), limit))


def _candidates(name, guard, params, world, method):
    collection = COLLECTIONS.get(guard.target)
    ready = (world.reach.ready.get((collection, action_of(name)), [])
             if collection and method == "POST" else [])
    model = MODELS.get(guard.target)
    if model is not None and ready:
        objects = model.objects.in_bulk([pk for _, pk in ready])
        for username, pk in ready:
            if "remark_pk" not in params or objects[pk].board_remarks.exists():
                yield username, objects[pk]
    checks = dict(guard.checks())
    # a route a page posts to whose guard names only GET: its GET rule decides
    actions = checks.get(method, checks[guard.method])
    for username in PERSONAS:
        for _label, obj, outcome in route_test.outcomes(world.people[username], guard, actions,
                                                        world.targets):
            if outcome == "allowed" and ("remark_pk" not in params
                                         or obj.board_remarks.exists()):
                yield username, obj


def find_form(client, name, guard, params, world) -> Form | None:
    """The first allowed persona and object for which a page shows the route's form."""
    fallback = None
    for username, obj in candidates(name, guard, params, world):
        url = reverse(name) if obj is None else route_test.url_for(name, params, obj)
        pages = [url] if "GET" in dict(guard.checks()) else []
        if guard.target in DETAIL:
            target = getattr(obj, "plan", obj) if guard.target == Target.PLAN else obj
            pages.append(reverse(DETAIL[guard.target], args=[target.pk]))
        forms = dict(world.login_pages.get(username, {}))
        for page in pages:
            forms.update(world.forms_on_page(client, username, page))
        if ("post", url) in forms:
            return Form(name, username, url, forms["post", url])
        fallback = fallback or Form(name, username, url, {})
    return fallback


def crawl(client, world) -> dict[tuple[str, str], Form]:
    """Every form on one page of each GET route, as a persona allowed to see the page:
    (method, route name) → the first form found that sends to that route. Finds the filter
    forms (GET) and POST forms of routes whose guard names only GET (a chair's signing
    authorisation)."""
    found = {}
    for name, (guard, params) in sorted(route_test.guarded_routes().items()):
        if name.startswith("v1:") or "GET" not in dict(guard.checks()):
            continue
        for username, obj in candidates(name, guard, params, world, method="GET", limit=1):
            url = reverse(name) if obj is None else route_test.url_for(name, params, obj)
            for (method, action), fields in world.forms_on_page(client, username, url).items():
                target = route_name(action)
                if target and not target.startswith("v1:"):
                    found.setdefault((method, target), Form(target, username, action, fields,
                                                            method=method.upper()))
    return found


# --- the world ---------------------------------------------------------------------------------

class World:
    """The demo with the route test's objects, plans in every step and a follow-up with its
    board; who may reach what; the forms on the pages every signed-in person has."""

    def __init__(self, client, targets):
        from governance.models import Person

        self.targets = dict(targets)
        plans = plans_in_every_state()
        follow_up_with_the_board()
        # plans in every step first: the pages then show every form (the diff of two
        # revisions, the sign-off, the evaluation)
        self.targets[Target.PLAN] = [*plans.items(), *targets[Target.PLAN]]
        self.reach = Reach(PERSONAS)
        self.people = {p.username: p for p in Person.objects.filter(username__in=PERSONAS)}
        # the forms on the pages every signed-in person has (inbox, lists, settings), as a
        # member of staff and as a board chair
        self.login_pages = {}
        login_routes = [name for name, (guard, params) in route_test.guarded_routes().items()
                        if guard.access in (Access.LOGIN, Access.ANY_ORGANISATION)
                        and guard.method == "GET" and not params
                        and not name.startswith("v1:")]
        self._pages: dict[tuple[str, str], dict] = {}
        self._signed_in: str | None = None
        for username in ("sekretaer", "ab-formand"):
            forms = {}
            for name in login_routes:
                forms.update(self.forms_on_page(client, username, reverse(name)))
            self.login_pages[username] = forms
        self.foreign_ids = other_organisation_ids()

    def sign_in(self, client, username: str | None, *, again: bool = False) -> None:
        """``client`` as ``username`` (``None``: signed out), signing in only on a change
        unless ``again`` (a form may have changed the session)."""
        if again or username != self._signed_in:
            if username is None:
                client.logout()
            else:
                client.force_login(self.people[username])
            self._signed_in = username

    def forms_on_page(self, client, username: str, url: str) -> dict:
        """The forms on a page as the persona sees it (each page read once)."""
        if (username, url) not in self._pages:
            self.sign_in(client, username)
            with rolled_back():
                self._pages[username, url] = forms_on(client.get(url), url)
        return self._pages[username, url]


def public_forms(client, world) -> list[Form]:
    """The forms of the pages anyone may open (the login page; every page's language
    switch), sent without signing in."""
    world.sign_in(client, None)
    forms = {}
    for name, guard in sorted(ROUTES.items()):
        if guard.access != Access.PUBLIC or name.startswith("v1:"):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # needs a token in the address (calendar feed, unsubscribe)
            continue
        with rolled_back():
            found = forms_on(client.get(url), url)
        for (method, action), fields in found.items():
            target = route_name(action)
            if method == "post" and ROUTES.get(target, LOGIN).access == Access.PUBLIC:
                forms.setdefault(target, Form(target, None, action, fields))
    return list(forms.values())


def other_organisation_ids() -> list[int]:
    """Ids of objects of the other organisation: people, departments, areas, bodies, plans,
    initiatives, themes and the organisation itself."""
    from cycles.models import Theme
    from fixtures.demo import OTHER_SLUG
    from governance.models import Body, Department, OperationsArea, Organisation, Person

    other = Organisation.objects.get(slug=OTHER_SLUG)
    ids = {other.pk}
    for rows in (Department.objects.filter(organisation=other),
                 OperationsArea.objects.filter(organisation=other),
                 Body.objects.filter(organisation=other),
                 AnnualPlan.objects.filter(organisation=other),
                 Initiative.objects.filter(plan__organisation=other),
                 Theme.objects.filter(programme__organisation=other),
                 Person.objects.filter(memberships__body__organisation=other)):
        ids.update(rows.values_list("pk", flat=True)[:5])
    return sorted(ids)


def form_data(form: Form, ids: list[int], extra=("unexpected",)) -> st.SearchStrategy[dict]:
    """Dictionaries of the form's fields (each may be left out) with a value the page offers,
    a hostile value, or several values; now and then fields the form does not have."""

    def value(offered):
        single = hostile_values(ids)
        if offered:
            single = st.one_of(st.sampled_from(offered), single)
        return st.one_of(single, st.lists(single, min_size=2, max_size=3))

    optional = {name: value(offered) for name, offered in form.fields.items()}
    for name in extra:
        optional.setdefault(name, value({"export": ["csv", "xlsx"]}.get(name, [])))
    return st.fixed_dictionaries({}, optional=optional)


def fuzz(client, world, forms: list[Form], send, extra) -> list[str]:
    """Send generated data to every form as its persona; the failures, one per form."""
    failures = []
    for form in forms:
        world.sign_in(client, form.username, again=True)
        try:
            fuzz_one(form.url, send, form_data(form, world.foreign_ids, extra),
                     EXAMPLES if form.fields else EXAMPLES_WITHOUT_FIELDS)
        except Exception as error:  # noqa: BLE001 - listed below
            failures.append(f"{form!r}: {type(error).__name__}: {error}")
    return failures


def fuzz_one(url, send, data_strategy, examples) -> None:
    @fuzz_settings(examples)
    @given(data=data_strategy)
    def run(data):
        with rolled_back():
            response = send(url, data)
        assert response.status_code < 500, (data, response.status_code)

    run()


@pytest.fixture
def world(client, targets):
    return World(client, targets)


def test_no_form_answers_a_server_error(client, world):
    forms, unreachable = [], []
    for name, (guard, params) in sorted(post_routes(world.login_pages).items()):
        form = find_form(client, name, guard, params, world)
        if form is None:
            unreachable.append(name)
        else:
            forms.append(form)
    assert unreachable == [], "no demo persona may use these routes: give them a target"
    crawled = crawl(client, world)
    get_forms = [form for (method, _name), form in crawled.items() if method == "get"]
    assert {"home", "cycles:revision_diff"} <= {form.name for form in get_forms}
    covered = {form.name for form in forms}
    forms += [form for (method, name), form in crawled.items()
              if method == "post" and name not in covered]
    forms += public_forms(client, world)
    assert {"login", "set_language", "signing_authorisation"} <= {form.name for form in forms}
    failures = (fuzz(client, world, forms, client.post, extra=("unexpected", "next"))
                + fuzz(client, world, get_forms, client.get,
                       extra=("unexpected", "page", "export")))
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


# --- what an invalid form does -------------------------------------------------------------------

def test_an_invalid_initiative_answers_400_with_each_fields_error_and_writes_nothing(
        client, persona):
    from audit.models import AuditEntry
    from cycles.models import Theme
    from fixtures.demo import DEMO_SLUG, OTHER_SLUG

    client.force_login(persona("sekretaer"))
    draft = AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=2027)
    other_theme = Theme.objects.filter(programme__organisation__slug=OTHER_SLUG).first()
    before = (Initiative.objects.count(), AuditEntry.objects.count(),
              AnnualPlan.objects.get(pk=draft.pk).content_version)

    response = client.post(reverse("cycles:initiative_create", args=[draft.pk]), {
        "theme": other_theme.pk,  # a theme of the other organisation's programme
        "title": "\x00",
        "scope": "departments",
        "departments": [str(2**70)],  # no id column holds it (SQLite raised OverflowError)
        "planned_start": "31.02.2026",
        "expected_saving": "-1",
        "status": "planned",
        "progress": "-5",
    })

    assert response.status_code == 400
    page = html(response)
    for field in ("theme", "title", "departments", "planned_start", "expected_saving",
                  "progress"):
        assert f'id="id_{field}_error"' in page, field
    assert (Initiative.objects.count(), AuditEntry.objects.count(),
            AnnualPlan.objects.get(pk=draft.pk).content_version) == before


def test_a_revision_number_no_column_holds_is_a_field_error(client, persona):
    from fixtures.demo import DEMO_SLUG

    client.force_login(persona("sekretaer"))
    plan = AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=2026)

    response = client.get(reverse("cycles:revision_diff", args=[plan.pk]),
                          {"a": "1", "b": str(2**70)})

    assert response.status_code == 400
    assert 'id="id_b_error"' in html(response)


@pytest.mark.parametrize(("next_", "goes_to"), [
    ("a b", "/"),  # redirect() read it as a URL pattern's name: NoReverseMatch, a 500
    ("home", "/"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/plans/", "/plans/"),
])
def test_a_forms_next_address_is_followed_only_when_it_is_a_local_path(
        client, persona, next_, goes_to):
    from workflows.services import saved_filter_save

    person = persona("ab-formand")
    saved = saved_filter_save(person=person, name="Mine", query="view=mine")
    client.force_login(person)

    response = client.post(reverse("workflows:saved_filter_delete", args=[saved.pk]),
                           {"next": next_})

    assert response.status_code == 302
    assert response["Location"] == goes_to
