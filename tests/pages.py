"""Helpers for page tests: sign a test client in as a persona, read a response's HTML, and
make a test module's client ask for English pages."""

import pytest


def as_(client, persona, username: str):
    """``client`` signed in as the persona ``username``."""
    client.force_login(persona(username))
    return client


def html(response) -> str:
    return response.content.decode()


def english_pages():
    """An autouse fixture for a module: ``_english = english_pages()``."""

    @pytest.fixture(autouse=True)
    def _english(client):
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    return _english
