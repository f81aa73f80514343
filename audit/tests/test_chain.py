"""The tamper-evident audit trail: one hash chain per organisation, verify_audit, and on
PostgreSQL a trigger that refuses UPDATE and DELETE."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from audit.chain import GENESIS, Stored, entry_hash, verify
from audit.models import AuditChain, AuditEntry
from audit.services import audit_record
from governance.models import Organisation

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql",
                                 reason="the trigger and row locks are PostgreSQL's")


# --- the pure check ---------------------------------------------------------------------------

def chain_of(count: int) -> list[Stored]:
    entries, previous = [], GENESIS
    for sequence in range(1, count + 1):
        content = {"sequence": sequence, "action": f"step.{sequence}"}
        digest = entry_hash(content, previous)
        entries.append(Stored(sequence * 10, sequence, previous, digest, content))
        previous = digest
    return entries


def test_an_intact_chain_verifies():
    entries = chain_of(4)
    assert verify(entries, head_sequence=4, head_hash=entries[-1].entry_hash) is None


def test_an_edited_entry_is_named():
    entries = chain_of(4)
    edited = Stored(30, 3, entries[2].previous_hash, entries[2].entry_hash, {"sequence": 3,
                                                                              "action": "x"})
    problem = verify([*entries[:2], edited, entries[3]], head_sequence=4,
                     head_hash=entries[-1].entry_hash)
    assert (problem.pk, "edited" in problem.reason) == (30, True)


def test_a_deleted_entry_is_named_by_the_one_after_it():
    entries = chain_of(4)
    problem = verify([entries[0], entries[2], entries[3]], head_sequence=4,
                     head_hash=entries[-1].entry_hash)
    assert (problem.pk, problem.sequence) == (30, 3)
    assert "deleted" in problem.reason


def test_reordered_entries_are_caught():
    entries = chain_of(4)
    # Two entries renumbered so that they swap places in the sequence.
    a, b = entries[1], entries[2]
    reordered = [entries[0], Stored(b.pk, 2, b.previous_hash, b.entry_hash, b.content),
                 Stored(a.pk, 3, a.previous_hash, a.entry_hash, a.content), entries[3]]
    problem = verify(reordered, head_sequence=4, head_hash=entries[-1].entry_hash)
    assert problem.pk == b.pk and "previous hash" in problem.reason


def test_a_deleted_tail_is_caught_by_the_chains_head():
    entries = chain_of(4)
    problem = verify(entries[:3], head_sequence=4, head_hash=entries[-1].entry_hash)
    assert problem.pk is None and "head says 4" in problem.reason


# --- the database ------------------------------------------------------------------------------

def tamper(sql: str, params: list) -> None:
    """Change the table behind the application's back (as an attacker with database access
    would; on PostgreSQL that takes a superuser switching triggers off for the session)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


def test_each_organisations_entries_form_one_chain(demo):
    organisation = Organisation.objects.get(slug="soebredden")
    entries = list(AuditEntry.objects.filter(organisation=organisation).order_by("sequence"))
    assert len(entries) > 50
    assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].previous_hash == GENESIS
    assert all(b.previous_hash == a.entry_hash for a, b in zip(entries, entries[1:],
                                                                strict=False))
    head = AuditChain.objects.get(chain=f"org:{organisation.pk}")
    assert (head.sequence, head.last_hash) == (entries[-1].sequence, entries[-1].entry_hash)


def test_verify_audit_passes_on_the_demo_and_names_the_entry_of_a_tampered_copy(demo, capsys):
    call_command("verify_audit")
    assert "The audit trail is intact" in capsys.readouterr().out
    victim = AuditEntry.objects.filter(action="plan.publish").first() or \
        AuditEntry.objects.order_by("pk")[10]
    tamper("UPDATE audit_auditentry SET summary = %s WHERE id = %s", ['{"x": 1}', victim.pk])
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    assert f"entry {victim.pk} (sequence {victim.sequence})" in str(failure.value)
    assert "edited" in str(failure.value)


def test_verify_audit_names_the_entry_after_a_deleted_one(demo):
    victim = AuditEntry.objects.filter(chain__startswith="org:").order_by("pk")[5]
    following = AuditEntry.objects.get(chain=victim.chain, sequence=victim.sequence + 1)
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    assert f"entry {following.pk} (sequence {following.sequence})" in str(failure.value)


@on_postgres
def test_postgresql_refuses_to_update_or_delete_an_entry(demo):
    entry = AuditEntry.objects.order_by("pk").first()
    for attempt in (lambda: AuditEntry.objects.filter(pk=entry.pk).update(action="x"),
                    lambda: AuditEntry.objects.filter(pk=entry.pk).delete()):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    entry.refresh_from_db()
    assert entry.action != "x"


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_in_one_organisation_append_one_after_the_other():
    organisation = Organisation.objects.create(name="Samtidig", short_name="S", slug="samtidig")
    errors = []

    def write(thread: int):
        try:
            for number in range(5):
                with transaction.atomic():
                    audit_record(actor=None, action=f"test.{thread}.{number}", obj=organisation,
                                 organisation=organisation)
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    entries = list(AuditEntry.objects.filter(organisation=organisation).order_by("sequence"))
    assert [e.sequence for e in entries] == list(range(1, 41))
    call_command("verify_audit", chain=f"org:{organisation.pk}")


def test_an_entry_records_the_request_it_came_from(demo, client, persona):
    client.force_login(persona("ab-formand"))
    response = client.post("/preferences/", {"delivery": "each"},
                           HTTP_X_REQUEST_ID="req-1234567890")
    assert response["X-Request-ID"] == "req-1234567890"
    entry = AuditEntry.objects.order_by("-pk").first()
    assert entry.request_id == "req-1234567890"
    call_command("verify_audit")


def test_sign_ins_and_failed_sign_ins_are_in_the_trail_without_passwords(demo, client):
    from fixtures.demo import DEMO_PASSWORD

    client.post("/login/", {"username": "ab-formand", "password": "wrong"})
    client.post("/login/", {"username": "nobody@example.org", "password": "wrong"})
    client.post("/login/", {"username": "ab-formand", "password": DEMO_PASSWORD})
    failed = list(AuditEntry.objects.filter(action="auth.login_failed").order_by("pk"))
    assert [e.summary["known_user"] for e in failed] == [True, False]
    assert "nobody@example.org" not in str([e.content() for e in failed])
    assert "wrong" not in str([e.content() for e in failed])
    login = AuditEntry.objects.get(action="auth.login")
    assert login.actor.username == "ab-formand" and login.chain == "global"
    call_command("verify_audit")
