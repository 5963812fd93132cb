"""Golden tests of what `segc validate` tells a user about a broken project.

Each folder in tests/broken/ is a small project (most link the shared sources in
tests/broken/_shared/) with an `expected.txt` holding the exact output of
`segc validate --project tests/broken/NAME`: every diagnostic with its file, line, column,
code, message, hint and source excerpt, then the count. Run with SEGC_UPDATE_GOLDEN=1 to
rewrite the expected files after a deliberate change, and read the diff before committing.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import pytest
import yaml

from compiler.cli import main
from compiler.errors import CompileError
from compiler.loader import Doc, load_text
from compiler.parse import parse

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "broken"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))
UPDATE = os.environ.get("SEGC_UPDATE_GOLDEN") == "1"
CODE = re.compile(r"SEG\d{3}")


def validate(capsys, project: Path, *args: str) -> tuple[int, str]:
    code = main(["validate", "--project", str(project), *args])
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_broken_project(case, capsys):
    code, output = validate(capsys, case)
    expected = case / "expected.txt"
    if UPDATE:
        expected.write_text(output, encoding="utf-8")
    assert code == 1
    assert "SEG000" not in output, "an internal error: a check crashed"
    assert output == expected.read_text(encoding="utf-8")


def test_json_format_lists_the_same_diagnostics(capsys):
    case = CORPUS / "many_problems_one_pr"
    code, output = validate(capsys, case, "--format", "json")
    found = json.loads(output)
    assert code == 1
    text = (case / "expected.txt").read_text(encoding="utf-8")
    assert [f"{d['file']}:{d['line']}:{d['col']}: error[{d['code']}]" for d in found] == \
        re.findall(r"^(\S+:\d+:\d+: error\[SEG\d+\])", text, re.M)


def test_corpus_covers_every_code():
    emitted = set(CODE.findall("".join(p.read_text() for p in (ROOT / "compiler").glob("*.py")))) - {"SEG000"}
    seen = {c for case in CASES for c in re.findall(r"error\[(SEG\d{3})\]", (case / "expected.txt").read_text())}
    assert len(CASES) >= 40
    assert emitted - seen == set(), "codes no broken project shows"


def test_every_code_is_documented():
    emitted = set(CODE.findall("".join(p.read_text() for p in (ROOT / "compiler").glob("*.py"))))
    documented = set(re.findall(r"^## (SEG\d{3})", (ROOT / "docs" / "errors.md").read_text(), re.M))
    assert emitted == documented


def test_the_demo_project_is_valid(capsys):
    code, output = validate(capsys, ROOT)
    assert (code, output.split(":")[0]) == (0, "ok")


# -- robustness: whatever the YAML holds, validation reports, it never crashes ---------------

KITCHEN_SINK = """\
segments:
  - name: a
    description: d
    tags: [x]
    rule:
      all:
        - {attribute: city, in: [Berlin, Paris], ne: Rome}
        - {attribute: birth_date, age: {between: [30, 40]}}
        - {not: {event: [page_view, email_open], where: {url: {starts_with: /a}}, within: 30d, count: {gte: 2}}}
        - {stream: orders, where: {amount: {gt: 0}}, sum: {of: amount, gte: 10}}
        - {event: add_to_cart, not_followed_by: {event: purchase, within: 1d}}
        - {stream: orders, last: {older_than: 1y}}
    examples:
      - name: e
        contact: {city: Berlin, tags: [x]}
        events: [{event_type: page_view, url: /a, ago: 2d}]
        expect: member
  - name: b
    rule: {any: [{segment: a}, {score: s, grade: [hot]}, {lifecycle: l, stage: c}, {rfm: r, segment: champions}]}
scores:
  - name: s
    rules: [{points: 5, when: {event: email_open, within: 9d}, per_event: true, cap: 20}]
    decay: {half_life: 30d}
    min: 0
    max: 100
    grades: [{name: hot, gte: 50}, {name: cold}]
lifecycles:
  - {name: l, stages: [{name: c, when: {stream: orders}}], default: p}
rfm:
  - {name: r, stream: orders, where: {status: {ne: x}}, monetary: amount, bins: 5}
syncs:
  - {name: y, segment: a, destination: d, identifier: email, fields: [city]}
"""
DELETE = object()
REPLACEMENTS = (DELETE, None, 7, "x", True, [], {}, ["x"], {"x": 1})


def _paths(value, path=()):
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _paths(child, path + (key,))


def test_no_value_anywhere_crashes_the_checks():
    """Replace every node of a project using every construct by values of other types, or drop it."""
    sources = (CORPUS / "_shared" / "sources.yml").read_text()
    base = yaml.safe_load(sources) | yaml.safe_load(KITCHEN_SINK)
    parse([load_text(yaml.safe_dump(base, sort_keys=False), "f.yml")[0]])  # the unmutated project is valid
    for path in list(_paths(base))[1:]:
        for replacement in REPLACEMENTS:
            data = copy.deepcopy(base)
            target = data
            for key in path[:-1]:
                target = target[key]
            if replacement is DELETE:
                del target[path[-1]]
            else:
                target[path[-1]] = replacement
            try:
                parse([Doc("f.yml", data)])  # no positions needed: every location falls back to 1:1
            except CompileError as exc:
                assert not [d for d in exc.diagnostics if d.code == "SEG000"], (path, replacement, exc.diagnostics)
