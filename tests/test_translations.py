"""Danish first, English complete: every UI string has a Danish translation, compiled."""

from pathlib import Path

from django.utils import translation

PO = Path(__file__).resolve().parents[1] / "locale" / "da" / "LC_MESSAGES" / "django.po"


def _entries(text: str) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for each entry of a .po file; plural forms use msgstr[0]. An
    entry with a context (``msgctxt``) has its msgid as ``context\x04msgid``, the way gettext
    looks it up."""
    entries, msgid, msgstr, fuzzy, current, context = [], None, None, False, None, None

    def unquote(line: str) -> str:
        body = line[line.index('"') + 1:line.rindex('"')]
        return body.replace('\\"', '"').replace("\\n", "\n").replace("\\t", "\t")

    for raw in text.splitlines() + [""]:
        line = raw.strip()
        if not line:
            if msgid is not None:
                key = f"{context}\x04{msgid}" if context is not None and msgid else msgid
                entries.append((key, msgstr or "", fuzzy))
            msgid, msgstr, fuzzy, current, context = None, None, False, None, None
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("msgctxt "):
            context, current = unquote(line), "ctxt"
        elif line.startswith("msgid "):
            msgid, current = unquote(line), "id"
        elif line.startswith("msgstr ") or line.startswith("msgstr[0]"):
            msgstr, current = unquote(line), "str"
        elif line.startswith('"'):
            if current == "ctxt":
                context += unquote(line)
            elif current == "id":
                msgid += unquote(line)
            elif current == "str":
                msgstr += unquote(line)
        elif line.startswith(("msgid_plural", "msgstr[")):
            current = None
    return [(i, s, f) for i, s, f in entries if i]  # the header has an empty msgid


def _translated(key: str) -> str:
    if "\x04" in key:
        context, msgid = key.split("\x04", 1)
        return translation.pgettext(context, msgid)
    return translation.gettext(key)


def test_every_string_has_a_danish_translation():
    entries = _entries(PO.read_text(encoding="utf-8"))
    assert len(entries) > 50
    missing = [msgid for msgid, msgstr, fuzzy in entries if not msgstr or fuzzy]
    assert missing == []


def test_compiled_catalogue_matches_the_po_file():
    """The .mo in the repository is compiled from the current .po (run `make messages`)."""
    with translation.override("da"):
        stale = [msgid for msgid, msgstr, _fuzzy in _entries(PO.read_text(encoding="utf-8"))
                 if "%(" not in msgid and _translated(msgid) != msgstr]
    assert stale == []
