"""The pure helpers behind plan revisions: canonical JSON, its SHA-256 and the content diff.

The golden bytes and hash were computed once and checked independently
(``printf '%s' '<the JSON below>' | sha256sum``); they must never change, because sign-offs and
the year's results carry these hashes.
"""

import json

import pytest

from cycles.lib import Change, canonical_json, content_hash, diff_content, short_hash

CONTENT = {
    "title": "Årsplan for grøn drift",
    "year": 2026,
    "initiatives": [
        {"key": 2, "title": "Bæredygtig økonomi", "saving": "1200.50", "areas": [3, 1]},
        {"key": 1, "title": "Fælles indkøb på Ærø", "saving": None, "areas": []},
    ],
    "summary": None,
    "nested": {"b": [1, [2, "å"]], "a": True},
}

GOLDEN_JSON = (
    '{"initiatives":[{"areas":[3,1],"key":2,"saving":"1200.50","title":"Bæredygtig økonomi"},'
    '{"areas":[],"key":1,"saving":null,"title":"Fælles indkøb på Ærø"}],'
    '"nested":{"a":true,"b":[1,[2,"å"]]},"summary":null,"title":"Årsplan for grøn drift",'
    '"year":2026}'
)
GOLDEN_SHA256 = "4c9cb7ce52f73975932723344625d36ef08510ee0254fd0d20dbe9221364c382"


def test_canonical_json_is_sorted_compact_utf8_with_danish_letters_unescaped():
    assert canonical_json(CONTENT) == GOLDEN_JSON.encode("utf-8")
    assert "Ærø".encode() in canonical_json(CONTENT)
    assert b"\\u00" not in canonical_json(CONTENT)


def test_content_hash_is_the_sha256_of_the_canonical_bytes():
    assert content_hash(CONTENT) == GOLDEN_SHA256


def test_short_hash_is_the_first_ten_hex_digits():
    assert short_hash(GOLDEN_SHA256) == "4c9cb7ce52"


def test_key_order_does_not_change_the_hash():
    reordered = json.loads(json.dumps(CONTENT))
    reordered = {key: reordered[key] for key in reversed(list(reordered))}
    reordered["initiatives"] = [
        {key: item[key] for key in sorted(item, reverse=True)}
        for item in reordered["initiatives"]
    ]
    assert list(reordered) != list(CONTENT)
    assert content_hash(reordered) == GOLDEN_SHA256


def test_whitespace_of_the_source_json_does_not_change_the_hash():
    pretty = json.dumps(CONTENT, indent=4, ensure_ascii=True)
    assert content_hash(json.loads(pretty)) == GOLDEN_SHA256


def test_list_order_is_content_and_changes_the_hash():
    changed = json.loads(json.dumps(CONTENT))
    changed["initiatives"][0]["areas"] = [1, 3]
    assert content_hash(changed) != GOLDEN_SHA256


def test_a_single_changed_letter_changes_the_hash():
    changed = json.loads(json.dumps(CONTENT))
    changed["title"] = "Årsplan for grön drift"
    assert content_hash(changed) != GOLDEN_SHA256


def test_floats_that_are_not_numbers_are_refused():
    with pytest.raises(ValueError):
        canonical_json({"saving": float("nan")})


def _plan(*initiatives):
    return {"title": "Årsplan 2026", "initiatives": list(initiatives)}


def test_diff_of_identical_content_is_empty():
    assert diff_content(CONTENT, json.loads(json.dumps(CONTENT))) == []


def test_diff_matches_initiatives_by_key_not_by_position():
    before = _plan({"key": 1, "title": "Energi"}, {"key": 2, "title": "Service"})
    after = _plan({"key": 2, "title": "Service"}, {"key": 1, "title": "Energi"})
    assert diff_content(before, after) == []


def test_diff_reports_an_added_initiative_once():
    before = _plan({"key": 1, "title": "Energi"}, {"key": 3, "title": "Analyse"})
    after = _plan({"key": 1, "title": "Energi"}, {"key": 2, "title": "Indkøb"},
                  {"key": 3, "title": "Analyse"})
    assert diff_content(before, after) == [
        Change("added", "initiatives[2]", after={"key": 2, "title": "Indkøb"})]


def test_diff_reports_a_removed_initiative_once():
    before = _plan({"key": 1, "title": "Energi"}, {"key": 2, "title": "Indkøb"})
    after = _plan({"key": 1, "title": "Energi"})
    assert diff_content(before, after) == [
        Change("removed", "initiatives[2]", before={"key": 2, "title": "Indkøb"})]


def test_diff_reports_a_changed_field_by_its_path():
    before = _plan({"key": 1, "title": "Energi", "expected_saving": "850000.00"})
    after = _plan({"key": 1, "title": "Energi", "expected_saving": "900000.00"})
    assert diff_content(before, after) == [
        Change("changed", "initiatives[1].expected_saving", before="850000.00",
               after="900000.00")]


def test_diff_reports_top_level_fields_added_removed_and_changed():
    before = {"title": "Årsplan", "summary": "Kort", "schema": 1}
    after = {"title": "Årsplan 2027", "schema": 1, "year": 2027}
    assert diff_content(before, after) == [
        Change("removed", "summary", before="Kort"),
        Change("changed", "title", before="Årsplan", after="Årsplan 2027"),
        Change("added", "year", after=2027),
    ]


def test_diff_of_plain_lists_compares_them_whole():
    before = {"operations_areas": [1, 2]}
    after = {"operations_areas": [1, 3]}
    assert diff_content(before, after) == [
        Change("changed", "operations_areas", before=[1, 2], after=[1, 3])]
