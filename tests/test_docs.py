"""The documentation that is generated from code matches the code."""

from pathlib import Path

from cycles.diagrams import state_machines_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_state_machine_diagram_matches_the_models():
    on_disk = (DOCS / "state-machines.md").read_text(encoding="utf-8")
    assert on_disk == state_machines_markdown(), (
        "docs/state-machines.md is out of date: run "
        "`python manage.py state_diagram > docs/state-machines.md`")


def test_every_documented_transition_exists():
    text = (DOCS / "state-machines.md").read_text(encoding="utf-8")
    for transition in ["submit", "close_review", "recommend", "publish", "return_to_draft",
                       "register_presentation", "evaluate"]:
        assert f": {transition}" in text


def test_every_reminder_setting_is_documented_for_deployment():
    import re

    settings_source = (DOCS.parent / "config" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r'env_\w+\(\s*"(NOTIFICATIONS_\w+)"', settings_source))
    assert len(names) >= 6
    deployment = (DOCS / "deployment.md").read_text(encoding="utf-8")
    assert sorted(name for name in names if f"`{name}`" not in deployment) == []
