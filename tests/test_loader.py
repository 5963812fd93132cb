"""The YAML loader: exact positions of every node and key, and problems as diagnostics."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compiler.loader import definition_files, load_dir, load_text

TEXT = """\
# a comment
segments:
  - name: berlin
    tags: [a, "b"]
    rule:
      all:
        - {attribute: city, eq: Berlin}
        - event: page_view
          within: 30d
"""


def where(text: str, path: tuple, key: bool = False) -> tuple[int, int]:
    doc, problems = load_text(text, "f.yml")
    assert problems == []
    loc = doc.loc(path, key=key)
    assert loc.file == "f.yml"
    return loc.line, loc.col


@pytest.mark.parametrize("path, pos", [
    ((), (2, 1)),                                              # the root mapping: its first key
    (("segments",), (3, 3)),                                   # a block list: its first '-'
    (("segments", 0), (3, 5)),                                 # a block mapping in a list: its first key
    (("segments", 0, "name"), (3, 11)),                        # a plain scalar
    (("segments", 0, "tags"), (4, 11)),                        # a flow list: its '['
    (("segments", 0, "tags", 0), (4, 12)),
    (("segments", 0, "tags", 1), (4, 15)),                     # a quoted scalar: its opening quote
    (("segments", 0, "rule"), (6, 7)),                         # a value on the next line
    (("segments", 0, "rule", "all", 0), (7, 11)),              # a flow mapping: its '{'
    (("segments", 0, "rule", "all", 0, "eq"), (7, 33)),
    (("segments", 0, "rule", "all", 1), (8, 11)),
    (("segments", 0, "rule", "all", 1, "within"), (9, 19)),
])
def test_node_positions(path, pos):
    assert where(TEXT, path) == pos


@pytest.mark.parametrize("path, pos", [
    (("segments",), (2, 1)),
    (("segments", 0, "name"), (3, 5)),
    (("segments", 0, "rule"), (5, 5)),
    (("segments", 0, "rule", "all", 0, "attribute"), (7, 12)),
    (("segments", 0, "rule", "all", 0, "eq"), (7, 29)),
    (("segments", 0, "rule", "all", 1, "within"), (9, 11)),
])
def test_key_positions(path, pos):
    assert where(TEXT, path, key=True) == pos


def test_a_missing_path_falls_back_to_its_nearest_parent():
    assert where(TEXT, ("segments", 0, "rule", "all", 0, "ne")) == (7, 11)
    assert where(TEXT, ("segments", 0, "description"), key=True) == (3, 5)
    assert where(TEXT, ("nothing", "here")) == (2, 1)


def test_keys_are_strings_as_written_and_values_keep_their_text():
    doc, problems = load_text("on: NO\n1: 0123\n~: 2026-13-01\nwhen: 2026-01-31\n", "f.yml")
    assert problems == []
    assert doc.data == {"on": False, "1": 83, "~": "2026-13-01", "when": date(2026, 1, 31)}
    assert (doc.raw[("on",)], doc.raw[("1",)]) == ("NO", "0123")  # for "quote it" hints


def test_an_empty_file_has_no_data_and_no_problem():
    doc, problems = load_text("# only a comment\n", "f.yml")
    assert (doc.data, problems, doc.broken) == (None, [], False)


def problems_of(text: str) -> list[str]:
    doc, problems = load_text(text, "f.yml")
    return [str(p) for p in problems]


def test_duplicate_keys_keep_the_first_and_say_where_it_was():
    doc, problems = load_text("a: 1\nb:\n  c: 2\n  c: 3\na: 4\nd: {e: 1, e: 2}\n", "f.yml")
    assert doc.data == {"a": 1, "b": {"c": 2}, "d": {"e": 1}}
    assert [str(p) for p in problems] == [
        "f.yml:4:3: error[SEG002]: duplicate key 'c' (first defined at line 3)",
        "f.yml:5:1: error[SEG002]: duplicate key 'a' (first defined at line 1)",
        "f.yml:6:11: error[SEG002]: duplicate key 'e' (first defined at column 5)",
    ]
    assert not doc.broken


def test_every_tab_indented_line_is_reported():
    assert problems_of("a:\n\tb: 1\n  \tc: 2\n") == [
        "f.yml:2:1: error[SEG001]: tab character in indentation (YAML indents with spaces only)",
        "f.yml:3:3: error[SEG001]: tab character in indentation (YAML indents with spaces only)",
    ]


def test_a_tab_between_values_is_reported_where_it_is():
    assert problems_of("a: {b: 1,\tc: 2}\n") == [
        "f.yml:1:10: error[SEG001]: tab character (YAML separates values with spaces only)"]


def test_a_control_character_is_reported_where_it_is():
    doc, problems = load_text("segments:\n  - name: a\x00b\n", "s.yml")
    assert doc.broken and [(p.code, p.location.line, p.location.col, p.message) for p in problems] == [
        ("SEG001", 2, 12, "invalid YAML: character U+0000 is not allowed")]


def test_a_tab_inside_a_block_scalar_is_text():
    doc, problems = load_text("a: |\n  \tindented text\n", "f.yml")
    assert (doc.data, problems) == ({"a": "\tindented text\n"}, [])


@pytest.mark.parametrize("text, expected", [
    ("a:\n  b: 1\n c: 2\n",
     "f.yml:3:2: error[SEG001]: invalid YAML: bad indentation (line this up with the entries above it)"),
    ("a: b: c\n",
     "f.yml:1:5: error[SEG001]: invalid YAML: unexpected ':' "
     "(check the indentation, or quote a value that contains ': ')"),
    ("a: 1\nb\nc: 2\n",
     "f.yml:2:1: error[SEG001]: invalid YAML: a mapping entry without ':' (write 'key: value', or '- item' in a list)"),
    ("a: {b: 1\n\n",  # the end of the file is shown as the end of its last line
     "f.yml:1:9: error[SEG001]: invalid YAML: missing ',' or '}' (close the bracket opened at line 1)"),
    ("a: [1, 2\nb: 3\n",
     "f.yml:2:2: error[SEG001]: invalid YAML: missing ',' or ']' (close the bracket opened at line 1)"),
    ('a: x\nb: "open\nc: 1\n',
     "f.yml:2:4: error[SEG001]: invalid YAML: unterminated quoted string (close the quote)"),
    ("a: 1\n---\nb: 2\n",
     "f.yml:2:1: error[SEG001]: invalid YAML: more than one YAML document in a file "
     "(remove the '---' line; use another file)"),
    ("a: @x\n", "f.yml:1:4: error[SEG001]: invalid YAML: '@' cannot start a value (quote the value)"),
    ("a: *nope\n",
     "f.yml:1:4: error[SEG001]: invalid YAML: undefined alias '*nope' (define the anchor '&nope' before using it)"),
    ("a: &x [*x]\n", "f.yml:1:1: error[SEG001]: invalid YAML: nested too deeply, or an alias refers to itself"),
])
def test_syntax_errors_are_one_diagnostic_at_the_right_place(text, expected):
    doc, problems = load_text(text, "f.yml")
    assert [str(p) for p in problems] == [expected]
    assert doc.data is None and doc.broken


def test_tags_and_merge_keys_are_reported_and_the_rest_loads():
    doc, problems = load_text("a: !include b.yml\nc: !!python/name:os.system x\nd:\n  <<: {e: 1}\n  f: 2\n", "f.yml")
    assert [str(p) for p in problems] == [
        "f.yml:1:4: error[SEG001]: unsupported YAML tag '!include' (remove the tag; definitions are plain YAML values)",
        "f.yml:2:4: error[SEG001]: unsupported YAML tag '!!python/name:os.system' "
        "(remove the tag; definitions are plain YAML values)",
        "f.yml:4:3: error[SEG001]: merge keys ('<<') are not supported (write the entries out)",
    ]
    assert doc.data == {"a": "b.yml", "c": "x", "d": {"f": 2}}


def test_explicit_standard_tags_are_fine():
    doc, problems = load_text("a: !!str 0123\nb: !!int '5'\n", "f.yml")
    assert (doc.data, problems) == ({"a": "0123", "b": 5}, [])


def test_load_dir_reads_every_definitions_file_and_marks_unreadable_ones(tmp_path):
    (tmp_path / "segments" / "team").mkdir(parents=True)
    (tmp_path / "segments" / "b.yml").write_text("segments: []\n")
    (tmp_path / "segments" / "team" / "a.yaml").write_bytes("\ufeffscores: []\n".encode())  # a BOM is fine
    (tmp_path / "segments" / "team" / "c.yml").write_bytes(b"x: 1\ny: caf\xe9\n")
    (tmp_path / "segments" / "notes.txt").write_text("not: definitions\n")
    assert [p.name for p in definition_files(tmp_path / "segments")] == ["b.yml", "a.yaml", "c.yml"]
    docs, problems = load_dir(tmp_path / "segments", tmp_path)
    assert [(d.file, d.data, d.broken) for d in docs] == [
        ("segments/b.yml", {"segments": []}, False),
        ("segments/team/a.yaml", {"scores": []}, False),
        ("segments/team/c.yml", None, True),
    ]
    assert [str(p) for p in problems] == [
        "segments/team/c.yml:2:7: error[SEG001]: file is not valid UTF-8 (save it with UTF-8 encoding)"]


YAML_FILES = sorted(p for root in ("segments", "tests", "docs") for p in Path(root).rglob("*.y*ml"))


@pytest.mark.parametrize("path", YAML_FILES, ids=str)
def test_libyaml_and_pyyaml_read_every_file_the_same(path, monkeypatch):
    """The fast path (libyaml) gives the same data, positions and problems as PyYAML, on every
    YAML file of the repository, broken projects included."""
    import compiler.loader as loader

    fast = loader.load_file(path, "f.yml")
    monkeypatch.setattr(loader, "_LIBYAML", None)
    assert fast == loader.load_file(path, "f.yml")


@pytest.mark.parametrize("text", ["a: {b: 1,\tc: 2}\n", "a: {b: }\n", "a: &x [*x]\n", "a: [1, 2\n", "a: b: c\n"])
def test_texts_where_libyaml_differs_are_read_by_pyyaml(text, monkeypatch):
    import compiler.loader as loader

    fast = loader.load_text(text, "f.yml")
    monkeypatch.setattr(loader, "_LIBYAML", None)
    assert fast == loader.load_text(text, "f.yml")
