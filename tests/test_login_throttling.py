"""Login throttling (django-axes): a username is locked out from an address after five wrong
passwords, for 15 minutes, on the page and on the API's token endpoint alike."""

import datetime

import pytest
import time_machine
from django.test import Client

from fixtures.demo import DEMO_PASSWORD
from tests.clock import at

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 11, 2)


def sign_in(client: Client, password: str, *, address: str = "10.0.0.1"):
    return client.post("/login/", {"username": "ab-formand", "password": password},
                       REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")


def test_five_wrong_passwords_pause_that_username_from_that_address(demo):
    client = Client()
    with time_machine.travel(at(DAY, 9), tick=False):
        for _ in range(4):
            assert sign_in(client, "wrong").status_code == 200  # the form again, with an error
        locked = sign_in(client, "wrong")
        assert locked.status_code == 429
        assert "Too many failed sign-in attempts. Wait 15 minutes" in locked.content.decode()
        # Even the right password waits now; another address is not affected.
        assert sign_in(client, DEMO_PASSWORD).status_code == 429
        assert sign_in(Client(), DEMO_PASSWORD, address="10.0.0.2").status_code == 302
    with time_machine.travel(at(DAY, 9) + datetime.timedelta(minutes=16), tick=False):
        assert sign_in(client, DEMO_PASSWORD).status_code == 302


def test_the_api_token_endpoint_is_throttled_too(demo):
    client = Client()
    with time_machine.travel(at(DAY, 9), tick=False):
        for _ in range(5):
            client.post("/api/v1/auth/token/", {"username": "ab-formand", "password": "x"},
                        REMOTE_ADDR="10.0.0.3")
        response = client.post("/api/v1/auth/token/",
                               {"username": "ab-formand", "password": DEMO_PASSWORD},
                               REMOTE_ADDR="10.0.0.3", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.json()["detail"]


def test_a_successful_sign_in_resets_the_count(demo):
    client = Client()
    with time_machine.travel(at(DAY, 9), tick=False):
        for _ in range(4):
            sign_in(client, "wrong")
        assert sign_in(client, DEMO_PASSWORD).status_code == 302
        client.logout()
        for _ in range(4):
            assert sign_in(client, "wrong").status_code == 200
