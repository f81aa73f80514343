from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_choice, env_int, env_list


def test_booleans_accept_the_usual_spellings_and_refuse_others():
    assert env_bool("X", False, environ={"X": "yes"}) is True
    assert env_bool("X", True, environ={"X": "0"}) is False
    assert env_bool("X", True, environ={}) is True
    with pytest.raises(ImproperlyConfigured, match="X='maybe' is not a boolean"):
        env_bool("X", False, environ={"X": "maybe"})


def test_integers_are_checked_against_their_bounds():
    assert env_int("N", 5, environ={"N": "300"}, minimum=300) == 300
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("N", 5, environ={"N": "ten"})
    with pytest.raises(ImproperlyConfigured, match="below the minimum 300"):
        env_int("N", 5, environ={"N": "10"}, minimum=300)


def test_lists_split_on_commas():
    assert env_list("H", [], environ={"H": "a.dk, b.dk,,"}) == ["a.dk", "b.dk"]


def test_postgres_urls_become_django_settings():
    db = database_from_url("postgres://app:s%40cret@db.local:5433/aarshjul?sslmode=require",
                           base_dir=Path("/srv"))
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "aarshjul", "app", "s@cret", "db.local", "5433")
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_sqlite_paths_are_relative_to_the_project_or_absolute():
    assert database_from_url("sqlite:///var/x.sqlite3", base_dir=Path("/srv"))["NAME"] == \
        "/srv/var/x.sqlite3"
    assert database_from_url("sqlite:////data/x.sqlite3", base_dir=Path("/srv"))["NAME"] == \
        "/data/x.sqlite3"


@pytest.mark.parametrize(("url", "message"), [
    ("mysql://x/y", "not supported"),
    ("postgres://host/", "names no database"),
    ("postgres://u:pw@host:notaport/db", "invalid port"),
])
def test_bad_database_urls_fail_loudly_without_leaking_the_password(url, message):
    with pytest.raises(ImproperlyConfigured, match=message) as error:
        database_from_url(url, base_dir=Path("/srv"))
    assert "pw" not in str(error.value)


def test_choices_accept_any_case_and_name_the_allowed_values():
    levels = ["DEBUG", "INFO", "WARNING"]
    assert env_choice("L", "INFO", levels, environ={"L": "warning"}) == "WARNING"
    with pytest.raises(ImproperlyConfigured, match="L='loud' is not one of DEBUG, INFO"):
        env_choice("L", "INFO", levels, environ={"L": "loud"})
