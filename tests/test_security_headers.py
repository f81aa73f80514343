"""Security headers on every page: Content-Security-Policy, framing, referrer, sniffing, the
request id; and with production settings HSTS, HTTPS redirect and secure cookies."""

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_pages_carry_a_strict_content_security_policy_and_the_other_headers(client):
    response = client.get("/login/")
    policy = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
                      "form-action 'self'"):
        assert directive in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert len(response["X-Request-ID"]) == 32


def test_a_malformed_request_id_from_outside_is_replaced(client):
    response = client.get("/login/", HTTP_X_REQUEST_ID="<script>")
    assert response["X-Request-ID"] != "<script>" and len(response["X-Request-ID"]) == 32


def test_only_the_api_documentation_may_load_redoc_from_its_cdn(client):
    docs = client.get("/api/docs/")["Content-Security-Policy"]
    assert "https://cdn.jsdelivr.net" in docs and "frame-ancestors 'none'" in docs
    assert "cdn.jsdelivr.net" not in client.get("/login/")["Content-Security-Policy"]


def test_the_api_answers_with_the_same_headers(client):
    response = client.get("/api/v1/me/")
    assert response.status_code in (401, 403)
    assert "default-src 'self'" in response["Content-Security-Policy"]


@override_settings(DEBUG=False, SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31_536_000,
                   SECURE_HSTS_INCLUDE_SUBDOMAINS=True, SECURE_HSTS_PRELOAD=True,
                   SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True,
                   SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
                   ALLOWED_HOSTS=["testserver"])
def test_production_settings_redirect_to_https_and_send_hsts_and_secure_cookies():
    client = Client()
    assert client.get("/login/").status_code == 301
    response = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == \
        "max-age=31536000; includeSubDomains; preload"
    assert response.cookies["csrftoken"]["secure"]
    assert response.cookies["csrftoken"]["samesite"] == "Lax"


def test_a_session_left_alone_for_half_an_hour_is_signed_out(demo, client, persona):
    import datetime

    import time_machine

    from tests.clock import at

    start = at(datetime.date(2026, 11, 2), 9)
    with time_machine.travel(start, tick=False):
        client.force_login(persona("sekretaer"))
        assert client.get("/").status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=29), tick=False):
        assert client.get("/").status_code == 200  # activity: the clock starts again
    with time_machine.travel(start + datetime.timedelta(minutes=58), tick=False):
        assert client.get("/").status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=89), tick=False):
        response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_cookie_holding_a_nul_character_is_ignored_not_a_server_error(client, persona):
    client.force_login(persona("ab-formand"))
    client.cookies["sessionid"] = "abc\x00def"
    client.cookies["csrftoken"] = "x\x00y"
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
