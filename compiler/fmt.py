"""`segc fmt`: normalize the layout of the YAML definitions, keeping every comment.

A conservative, line-based formatter (segc depends on PyYAML only, which drops comments):

- block mappings and sequences are indented by 2 spaces per level, sequences indented under
  their key (`tags:` then `  - a`), one space after each `-`;
- trailing whitespace is removed, runs of blank lines become one, the file ends with exactly one
  newline, CRLF becomes LF;
- nothing else changes: not the order, the quoting, the flow style (`{...}`, `[...]`), the spacing
  inside a line, nor comments (re-indented with the line they describe). Block scalars (`|`, `>`)
  and multi-line flow collections or quoted strings move as a whole, their inside untouched.

A file is only rewritten when the result parses to the same YAML nodes (same keys, order, values
and tags), has the same characters apart from whitespace (so every comment is kept), and is a
fixed point of the formatter. Otherwise it is left as it is and reported.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

INDENT = 2
_BLANK = " \t"  # YAML's white space: other Unicode spaces (NBSP, U+3000) are content, kept as written
# Both match a line's content after its `- ` indicators (_split_dashes) and before its comment.
_BLOCK_SCALAR = re.compile(  # opens a block scalar: `|`, `key: >-`, `"key": |2`
    r"""^(?:(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^'"\s#-][^#]*?|-[^\s#][^#]*?)"""
    r"""[ \t]*:[ \t]+)?[|>](?:[1-9][+-]?|[+-][1-9]?)?$""")


_KEY_VALUE = re.compile(
    r"""^(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^'"\s#:][^#]*?|:[^\s#][^#]*?)[ \t]*:(?:[ \t]+(?P<v>.*))?$""")


class FormatError(ValueError):
    """The file can't be formatted safely: it does not parse, or the result would differ."""


@dataclass
class _Level:
    orig: int  # column in the input
    new: int  # column in the output
    indentless: bool = False  # a sequence written at its key's column (`key:` / `- a`)


@dataclass
class _Block:
    owner: int  # column of the key (or dash) that owns the block scalar, in the input
    owner_new: int  # the same in the output
    keep: bool  # `|+` / `>+`: trailing blank lines are part of the value
    shift: int | None = None  # columns its lines move by (known at its first line)


@dataclass
class _Scan:
    quote: str | None = None  # inside a quoted scalar that continues on the next line
    depth: int = 0  # open flow collections ([ or {) continuing on the next line
    token: bool = True  # the next line starts a token (not the rest of a plain scalar)

    @property
    def open(self) -> bool:
        return self.quote is not None or self.depth > 0


def _scan(line: str, state: _Scan, start: int = 0) -> tuple[_Scan, int | None]:
    """Quote and flow state after `line` (from column `start`), and where its comment starts."""
    quote, depth = state.quote, state.depth
    token_start = state.token  # at the start of a token: a quote or bracket here opens a scalar/collection
    i, n = start, len(line)
    while i < n:
        c = line[i]
        if quote == "'":
            if c == "'":
                if i + 1 < n and line[i + 1] == "'":
                    i += 2
                    continue
                quote = None
                token_start = False
        elif quote == '"':
            if c == "\\":
                i += 2
                continue
            if c == '"':
                quote = None
                token_start = False
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return _Scan(quote, depth, token_start), i
        elif c in " \t":
            pass
        elif c in "'\"" and token_start:
            quote = c
        elif c in "[{" and (token_start or depth > 0):
            depth += 1
            token_start = True
        elif c in "]}" and depth > 0:
            depth -= 1
            token_start = False
        elif c == "," and depth > 0:
            token_start = True
        elif (c == ":" or (c in "-?" and token_start)) and (
                i + 1 == n or line[i + 1] in " \t" or (depth > 0 and line[i + 1] in ",]}")):
            token_start = True  # `key: `, or `- ` / `? ` before a node (inside a plain scalar they are text)
        else:
            token_start = False
        i += 1
    return _Scan(quote, depth, token_start), None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _split_dashes(content: str) -> tuple[int, str]:
    """(number of leading `- ` sequence indicators, the rest with its leading spaces removed)."""
    count = 0
    while content == "-" or content.startswith(("- ", "-\t")):
        count += 1
        content = content[1:].lstrip(" \t")
    return count, content


def format_text(text: str) -> str:
    """The normalized layout of one YAML file (no checks: see `format_checked`)."""
    bom = text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline
    out: list[str] = []
    stack: list[_Level] = []
    pending: list[tuple[int, int]] = []  # (index in out, original indent) of comment lines to place
    state = _Scan()
    carry = 0  # shift of lines continuing an open flow collection / quoted scalar
    block: _Block | None = None  # inside a block scalar
    opener: tuple[int, int] | None = None  # (orig, new) column of a `key:` with its value on the next lines
    plain: tuple[int, int] | None = None  # (owner column, shift) after a plain scalar that may go on
    blanks = 0  # blank lines seen and not written yet

    def place(orig: int, line_orig: int | None = None, line_new: int | None = None) -> int:
        if line_orig is not None and orig == line_orig:
            return line_new
        for level in reversed(stack):
            if level.orig == orig:
                return level.new
        below = [lv for lv in stack if lv.orig < orig]
        return below[-1].new + INDENT if below else 0

    def flush(line_orig: int | None = None, line_new: int | None = None) -> None:
        for index, orig in pending:
            out[index] = " " * place(orig, line_orig, line_new) + out[index]
        pending.clear()

    for raw in lines:
        if block is not None:  # inside a block scalar: moved as a whole, never edited
            ind = _indent(raw)
            if raw.strip(_BLANK) and ind <= block.owner:
                block = None
            elif not raw.strip(_BLANK):
                spaces = ind + block.shift if block.shift is not None else 0
                out.append(" " * spaces if spaces > 0 else "")
                continue
            else:
                if block.shift is None:  # the first line sets the indentation: owner + 2
                    block.shift = block.owner_new + INDENT - ind
                out.append(" " * max(0, ind + block.shift) + raw[ind:])
                continue
        if state.open:  # continuation of a flow collection or a quoted scalar
            ind = _indent(raw)
            body = raw[ind:]
            state, _ = _scan(raw, state, ind)
            line = " " * max(0, ind + carry) + body if body else ""
            out.append(line if state.quote else line.rstrip(_BLANK))
            continue
        if not raw.strip(_BLANK):
            blanks += 1
            continue
        ind = _indent(raw)
        content = raw[ind:]
        if plain is not None and ind > plain[0] and not content.startswith("#"):
            # a multi-line plain scalar goes on: moved with its first line; blank lines in it are newlines
            out.extend([""] * blanks)
            blanks = 0
            out.append((" " * (ind + plain[1]) + content).rstrip(_BLANK))
            if re.search(r"[ \t]#", content):  # a comment ends it
                plain = None
            continue
        if blanks and out:
            out.append("")
        blanks = 0
        plain = None
        if content.startswith("#"):
            pending.append((len(out), ind))
            out.append(content.rstrip(_BLANK))
            continue
        if ind == 0 and (content.rstrip(_BLANK) in ("---", "...") or content.startswith(("--- ", "%"))):
            flush(0, 0)
            stack.clear()
            opener = None
            out.append(content.rstrip(_BLANK))
            continue

        dashes, rest = _split_dashes(content)
        # comments above this line: at its indentation, or where they were in the structure so far
        for index, orig in [p for p in pending if p[1] != ind]:
            out[index] = " " * place(orig) + out[index]
        pending[:] = [p for p in pending if p[1] == ind]
        # where the line goes
        if not stack:
            stack.append(_Level(ind, 0))
        while stack and (stack[-1].orig > ind or (stack[-1].orig == ind and stack[-1].indentless and not dashes)):
            stack.pop()
        if dashes and opener is not None and opener[0] == ind:
            stack.append(_Level(ind, opener[1] + INDENT, indentless=True))
            new = stack[-1].new
        elif not stack:
            stack.append(_Level(ind, 0))
            new = 0
        elif stack[-1].orig == ind:
            new = stack[-1].new
        else:
            stack.append(_Level(ind, stack[-1].new + INDENT))
            new = stack[-1].new
        flush(ind, new)

        # the sequence indicators: one space after each, each nesting one level deeper
        orig_col, new_col = ind, new
        text_after = content
        dash_cols = []
        for _ in range(dashes):
            dash_cols.append((orig_col, new_col))
            after = text_after[1:]
            gap = len(after) - len(after.lstrip(" \t"))
            orig_col += 1 + gap
            new_col += INDENT
            text_after = after.lstrip(" \t")
            if text_after:
                stack.append(_Level(orig_col, new_col))
        shift = new_col - orig_col  # how far the line's content moved
        line = " " * new + "- " * dashes + rest if rest else " " * new + ("- " * dashes).rstrip(_BLANK)

        state, comment = _scan(rest, _Scan())
        value = rest[:comment].rstrip(_BLANK) if comment is not None else rest
        opener = None
        if state.open:
            carry = shift
        elif _BLOCK_SCALAR.match(value):
            if value.startswith(("|", ">")):  # `- |`: owned by its dash (a bare one: by the document)
                owner_orig, owner_new = dash_cols[-1] if dashes else (-1, -1 + new - ind)
            else:  # `key: |`: owned by the key
                owner_orig, owner_new = orig_col, new_col
            explicit = any(ch.isdigit() for ch in value[-3:])  # `|2`: indentation relative to the owner
            block = _Block(owner_orig, owner_new, "+" in value[-3:],
                           owner_new - owner_orig if explicit else None)
        elif value.endswith(":"):
            opener = (orig_col, new_col)
        else:
            key_value = _KEY_VALUE.match(value)
            scalar = key_value.group("v") if key_value else value
            if scalar and scalar[0] not in "'\"[{|>&!*%@`#":  # a plain scalar: may go on below
                if key_value:
                    plain = (orig_col, new_col - orig_col)
                elif dashes:
                    plain = (dash_cols[-1][0], new_col - orig_col)
                else:
                    plain = (-1, new_col - orig_col)
        out.append(line if state.quote else line.rstrip(_BLANK))

    flush()
    if block is None or not block.keep:  # trailing blank lines, unless a `|+` block scalar keeps them
        while out and not out[-1].strip(_BLANK):
            out.pop()
    result = "\n".join(out) + "\n" if out else ""
    return ("\ufeff" if bom else "") + result


def _tree(node):
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode):
        return ("scalar", node.tag, node.value)
    if isinstance(node, yaml.SequenceNode):
        return ("seq", node.tag, [_tree(n) for n in node.value])
    return ("map", node.tag, [(_tree(k), _tree(v)) for k, v in node.value])


def _nodes(text: str):
    return [_tree(doc) for doc in yaml.compose_all(text, Loader=yaml.SafeLoader)]


def format_checked(text: str) -> str:
    """`format_text`, refused (FormatError) unless the YAML and the comments stay exactly the same."""
    try:
        before = _nodes(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise FormatError(f"does not parse{where}; fix it first (segc validate)") from None
    result = format_text(text)
    if result == text:
        return text
    try:
        after = _nodes(result)
    except yaml.YAMLError:
        after = None
    if after != before:
        raise FormatError("formatting would change its meaning; left as it is (please report this)")
    if re.sub(r"[ \t\r\n]", "", result.lstrip("\ufeff")) != re.sub(r"[ \t\r\n]", "", text.lstrip("\ufeff")):
        raise FormatError("formatting would change more than whitespace; left as it is (please report this)")
    if format_text(result) != result:
        raise FormatError("formatting is not stable on this file; left as it is (please report this)")
    return result


def files(root: Path, names: list[str] | None) -> list[Path]:
    if names:
        return [Path(n) for n in names]
    folder = root / "segments"
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml"))


def command(args) -> int:
    root = Path(args.project).resolve()
    paths = files(root, args.files)
    if not paths and not args.files:
        print(f"error: no YAML files under {root / 'segments'}", file=sys.stderr)
        return 1
    changed, failed = [], 0
    for path in paths:
        shown = path.resolve().relative_to(root) if path.resolve().is_relative_to(root) else path
        try:
            text = path.read_bytes().decode("utf-8")  # as stored: read_text would turn CRLF into LF unseen
            result = format_checked(text)
        except (OSError, UnicodeDecodeError, FormatError) as exc:
            print(f"{shown}: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        if result != text:
            changed.append(shown)
            if args.check:
                print(f"would reformat {shown}")
            else:
                path.write_bytes(result.encode("utf-8"))
                print(f"reformatted {shown}")
    verb = "would be reformatted" if args.check else "reformatted"
    print(f"{len(changed)} file(s) {verb}, {len(paths) - len(changed) - failed} unchanged"
          + (f", {failed} failed" if failed else ""))
    return 1 if failed or (args.check and changed) else 0
