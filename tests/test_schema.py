"""`segc schema`: a JSON Schema of the language, generated from spec.py, that the demo definitions satisfy."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

from compiler import spec
from compiler.cli import main
from compiler.langschema import schema

ROOT = Path(__file__).resolve().parents[1]


def as_editor_sees(value):
    """YAML as a JSON-Schema validator in an editor sees it: dates and timestamps stay strings."""
    if isinstance(value, dict):
        return {k: as_editor_sees(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_editor_sees(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


@pytest.fixture(scope="module")
def validator():
    s = schema()
    Draft7Validator.check_schema(s)
    return Draft7Validator(s)


def errors(validator, data) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(as_editor_sees(data))]


@pytest.mark.parametrize("path", sorted((ROOT / "segments").glob("*.yml")), ids=lambda p: p.name)
def test_demo_definitions_validate(validator, path):
    assert errors(validator, yaml.safe_load(path.read_text(encoding="utf-8"))) == []


def test_starter_project_validates(validator):
    from compiler.cli import STARTER_SEGMENTS, STARTER_SOURCES
    for text in (STARTER_SOURCES, STARTER_SEGMENTS):
        assert errors(validator, yaml.safe_load(text)) == []


@pytest.mark.parametrize("data", [
    {"segmnts": []},  # unknown top-level key
    {"version": 2},
    {"segments": [{"name": "Bad Name", "rule": {"segment": "x"}}]},
    {"segments": [{"name": "x"}]},  # no rule
    {"segments": [{"name": "x", "rule": {"event": "a", "withn": "3d"}}]},  # misspelt key
    {"segments": [{"name": "x", "rule": {"event": "a", "within": "3 days"}}]},  # bad duration
    {"segments": [{"name": "x", "rule": {"attribute": "city", "equals": "Kraków"}}]},  # unknown operator
    {"segments": [{"name": "x", "rule": {"all": []}}]},  # empty list
    {"segments": [{"name": "x", "rule": {"attribute": "age", "between": [1]}}]},
    {"segments": [{"name": "x", "rule": {"attribute": "city", "eq": "A"},
                   "examples": [{"name": "e", "expect": "yes"}]}]},
    {"scores": [{"name": "s", "rules": [{"points": 1, "when": {"segment": "x"}, "cap": -1}]}]},
    {"scores": [{"name": "s", "rules": [], "decay": {"half_life": "1mo"}}]},
    {"rfm": [{"name": "r", "stream": "orders", "monetary": "amount", "bins": 1}]},
    {"sources": {"contacts": {"relation": "contacts", "key": "id"}}},  # relation needs schema.table
    {"sources": {"contacts": {"relation": "raw.contacts", "key": "id", "columns": {"a": "varchar"}}}},
    {"syncs": [{"name": "s", "segment": "x", "destination": "d"}]},  # no identifier
])
def test_obvious_mistakes_are_flagged(validator, data):
    assert errors(validator, data)


def _properties(node, out):
    """Every (key, property schema) pair anywhere in the schema."""
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            out.append((key, value))
        for value in node.values():
            _properties(value, out)
    elif isinstance(node, list):
        for value in node:
            _properties(value, out)
    return out


def test_generated_from_spec_tables_with_descriptions():
    s = schema()
    assert set(s["properties"]) == set(spec.TOP_LEVEL)
    condition_forms = {branch["title"] for branch in s["definitions"]["condition"]["anyOf"]}
    assert condition_forms | {"stream"} >= set(spec.CONDITION_FORMS)
    attribute = next(b for b in s["definitions"]["condition"]["anyOf"] if b["title"] == "attribute")
    assert set(attribute["properties"]) - {"attribute"} == set(spec.ALL_OPERATORS)
    event = next(b for b in s["definitions"]["condition"]["anyOf"] if b["title"] == "event")
    assert set(event["properties"]) == set(spec.EVENT) and set(spec.AGGREGATES) <= set(event["properties"])
    assert s["definitions"]["duration"]["pattern"] == spec.DURATION_RE.pattern
    assert "list" in json.dumps(attribute["properties"]["has"]["description"])
    # every key of every construct is documented (hover text in the editor)
    undocumented = sorted({key for key, prop in _properties(s, []) if not prop.get("description")})
    assert undocumented == []


def test_cli_writes_the_schema(tmp_path, capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schema()
    target = tmp_path / "segc.schema.json"
    assert main(["schema", "--output", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == schema()
