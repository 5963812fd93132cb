"""`segc fmt`: layout normalized, comments and meaning kept, idempotent, refused when unsafe."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import fmt
from compiler.cli import main
from compiler.fmt import FormatError, format_checked, format_text

ROOT = Path(__file__).resolve().parents[1]

MESSY = """\


# Leading comment   \t
segments:
- name: a_one    
  description: >
      folded text
        more indented
      end
  # comment about owner
  owner: x
  tags:
  - t1
  -   t2
  rule:
      all:
          -   {event: page_view,
                 within: 30d}
          - attribute: city
            eq: "Krak\u00f3w
               continued"
      # trailing comment in rule



-   name: b_two
    rule: {segment: a_one}   # inline comment
    examples:
        -   name: ex
            events:
                - {event_type: page_view, ago: 2d}
            expect: member
scores:
    - name: s
      rules:
          - points: 5
            when: |+
              literal
               keep

"""

TIDY = """\
# Leading comment
segments:
  - name: a_one
    description: >
      folded text
        more indented
      end
    # comment about owner
    owner: x
    tags:
      - t1
      - t2
    rule:
      all:
        - {event: page_view,
             within: 30d}
        - attribute: city
          eq: "Krak\u00f3w
             continued"
      # trailing comment in rule

  - name: b_two
    rule: {segment: a_one}   # inline comment
    examples:
      - name: ex
        events:
          - {event_type: page_view, ago: 2d}
        expect: member
scores:
  - name: s
    rules:
      - points: 5
        when: |+
          literal
           keep

"""


def test_messy_file_is_normalized_with_comments_and_meaning_kept():
    assert format_checked(MESSY) == TIDY
    assert yaml.safe_load(TIDY) == yaml.safe_load(MESSY)
    assert format_text(TIDY) == TIDY


def test_demo_definitions_are_already_formatted():
    for path in sorted((ROOT / "segments").glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        assert format_checked(text) == text, path.name


@pytest.mark.parametrize("text, expected", [
    ("a:\r\n    b: 1\r\n", "a:\n  b: 1\n"),  # CRLF, 4-space indentation
    ("a: 1", "a: 1\n"),  # final newline
    ("a: 1\n\n\n\n", "a: 1\n"),  # trailing blank lines
    ("\ufeffa:\n   - x\n", "\ufeffa:\n  - x\n"),  # a BOM stays
    ("k:\n- - 1\n  - 2\n- -   3\n", "k:\n  - - 1\n    - 2\n  - - 3\n"),  # nested sequences
    ("a: 'it''s  '   \nb: \"x\\\"y\"\n", "a: 'it''s  '\nb: \"x\\\"y\"\n"),  # quotes kept, trailing spaces cut
    ("a: don't # it's a comment\n", "a: don't # it's a comment\n"),  # an apostrophe in a plain scalar
    ("a:\n    - |2\n       two\n        three\n", "a:\n  - |2\n     two\n      three\n"),  # explicit indentation
    ("a:\n    # note\u3000\n    b: 1\u00a0 \n", "a:\n  # note\u3000\n  b: 1\u00a0\n"),  # Unicode spaces are content
    ("", ""),
])
def test_cases(text, expected):
    assert format_checked(text) == expected
    assert format_text(expected) == expected


def test_refuses_what_does_not_parse_or_would_change(monkeypatch):
    with pytest.raises(FormatError, match="does not parse"):
        format_checked("a: [1,\n")
    with pytest.raises(FormatError, match="does not parse"):
        format_checked("a:\n\t- 1\n")  # a tab in the indentation
    monkeypatch.setattr(fmt, "format_text", lambda text: text.replace("1", "2"))
    with pytest.raises(FormatError, match="meaning"):
        format_checked("a: 1\n")
    monkeypatch.setattr(fmt, "format_text", lambda text: text.replace("# c", ""))
    with pytest.raises(FormatError, match="more than whitespace"):
        format_checked("a: 1 # c\n")


def test_cli_check_writes_and_refuses(tmp_path, capsys):
    shutil.copytree(ROOT / "segments", tmp_path / "segments")
    assert main(["fmt", "--check", "--project", str(tmp_path)]) == 0
    messy = tmp_path / "segments" / "messy.yml"
    messy.write_text(MESSY.replace("segments:", "lifecycles:").replace("scores:", "rfm:"), encoding="utf-8")
    broken = tmp_path / "segments" / "broken.yml"
    broken.write_text("a: [1,\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["fmt", "--check", "--project", str(tmp_path)]) == 1
    out = capsys.readouterr()
    assert "would reformat segments/messy.yml" in out.out and "segments/broken.yml: error: does not parse" in out.err
    assert messy.read_text(encoding="utf-8").startswith("\n\n# Leading")  # --check writes nothing
    assert main(["fmt", "--project", str(tmp_path)]) == 1  # broken.yml still fails...
    assert messy.read_text(encoding="utf-8").startswith("# Leading")  # ...but messy.yml was formatted
    assert broken.read_text(encoding="utf-8") == "a: [1,\n"
    broken.unlink()
    assert main(["fmt", "--check", "--project", str(tmp_path)]) == 0


def test_cli_converts_a_file_that_only_needs_lf_line_endings(tmp_path, capsys):
    main(["init", str(tmp_path)])
    crlf = tmp_path / "segments" / "crlf.yml"
    crlf.write_bytes(b"segments:\r\n  - name: b\r\n    rule: {event: page_view, within: 30d}\r\n")
    assert main(["fmt", "--check", "--project", str(tmp_path)]) == 1
    assert main(["fmt", "--project", str(tmp_path)]) == 0
    assert crlf.read_bytes() == b"segments:\n  - name: b\n    rule: {event: page_view, within: 30d}\n"


def test_cli_takes_files_relative_to_the_working_directory(tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "segments", tmp_path / "segments")
    (tmp_path / "segments" / "messy.yml").write_text(MESSY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["fmt", "--check", "segments/messy.yml"]) == 1
    assert "would reformat segments/messy.yml" in capsys.readouterr().out


# -- property: any block layout PyYAML can write (indent 2-6, indentless sequences), with comments
#    sprinkled at any indentation, formats without loss and is a fixed point after one pass.

keys = st.text(alphabet="abcdefgh_", min_size=1, max_size=6)
scalars = st.one_of(st.integers(-5, 500), st.booleans(), st.none(),
                    st.text(alphabet="abcxyz ÓŁ-:/'#\n", min_size=0, max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=4), st.dictionaries(keys, inner, min_size=1, max_size=4)), max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(data=st.dictionaries(keys, values, min_size=1, max_size=4), indent=st.integers(2, 6),
       flow=st.sampled_from([False, None]), width=st.sampled_from([12, 1000]), seed=st.integers(0, 10_000))
def test_any_layout_formats_without_loss(data, indent, flow, width, seed):
    text = yaml.safe_dump(data, indent=indent, default_flow_style=flow, allow_unicode=True, width=width)
    rnd = random.Random(seed)
    lines = text.splitlines()
    for _ in range(rnd.randint(0, 4)):  # comments between lines, at any indentation
        lines.insert(rnd.randint(0, len(lines)), " " * rnd.randint(0, 10) + "# note")
    text = "\n".join(lines) + "\n"
    try:
        expected = yaml.safe_load(text)
    except yaml.YAMLError:  # a comment landed where YAML does not allow one
        with pytest.raises(FormatError, match="does not parse"):
            format_checked(text)
        return
    result = format_checked(text)
    assert yaml.safe_load(result) == expected
    assert result.count("# note") == text.count("# note")
    assert format_text(result) == result
