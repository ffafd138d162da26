"""Module-level dict literals of a Python source, read as sections of entries.

libcst is used only to parse; the model speaks in 1-based line numbers of the
original text so that editors can splice lines and leave every other byte
alone.  Lines come from :mod:`scaffold.pydict.offsets`, which measures only the
pieces it needs instead of resolving libcst's position metadata for every node
(that was most of the time on a large registry).

The layout rules (what owns which line, what is a barrier) live in
:mod:`scaffold.pydict.model`.
"""

from __future__ import annotations

import ast
import dataclasses
import gc
from collections.abc import Collection

import libcst as cst

from scaffold.errors import ScaffoldError
from scaffold.pydict.model import (
    DictLiteral,
    Element,
    SourceDicts,
    build_sections,
    one_per_line,
    split_keeping_ends,
)
from scaffold.pydict.offsets import Offsets


def parse_source(text: str, only: Collection[str] | None = None) -> SourceDicts:
    """Parse ``text`` and model its module-level dict literals.

    With ``only``, dicts of other names are left out: locating every entry of
    every dict is most of the work after parsing (upstream's examples file has
    two dozen dicts), and an editor that inserts into one needs that one.
    Raises ScaffoldError (with the line) when ``text`` is not valid Python.
    """
    # A libcst tree of a large registry is hundreds of thousands of objects,
    # and the collector's passes keep rescanning them while the parser builds
    # more (a fifth of the time at 3000 entries).  Pausing it is safe: the tree
    # is freed by reference counting when we return, and any cyclic garbage is
    # collected once the collector runs again.  Restore it as we found it.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse(text, only)
    finally:
        if was_enabled:
            gc.enable()


def _parse(text: str, only: Collection[str] | None) -> SourceDicts:
    if "\0" in text:  # libcst takes it (in a comment, say); Python does not
        raise ScaffoldError(
            "a NUL byte, which Python refuses in source files; remove it",
            line=text[: text.index("\0")].count("\n") + 1,
        )
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise _syntax_error(text, error) from None
    offsets = Offsets(module, text)
    lines = split_keeping_ends(text)
    dicts: dict[str, DictLiteral] = {}
    non_dicts: dict[str, int] = {}
    for names, value, start in offsets.bindings():
        # Later bindings win, as they do when Python runs the module.
        if only is not None and not set(names) & set(only):
            continue
        if isinstance(value, cst.Dict):
            literal = _read_dict(names[0], value, start, offsets, lines)
            for name in names:
                dicts[name] = dataclasses.replace(literal, name=name)
                non_dicts.pop(name, None)
        else:
            for name in names:
                non_dicts[name] = offsets.line(offsets.inside_parens(value, start))
                dicts.pop(name, None)
    return SourceDicts(lines, dicts, non_dicts)


def _syntax_error(text: str, error: cst.ParserSyntaxError) -> ScaffoldError:
    """The error at its line; Python's own parser words it (and places it) best."""
    try:
        ast.parse(text)
    except SyntaxError as python_error:
        return ScaffoldError(
            f"cannot parse: {python_error.msg}; fix the syntax error first",
            line=python_error.lineno,
        )
    return ScaffoldError(
        f"cannot parse: {error.message}; fix the syntax error first",
        line=error.raw_line,
    )


def _string_value(node: cst.BaseExpression) -> str | None:
    """The value of a plain (or implicitly concatenated) str literal, else None."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _pair(node: cst.BaseExpression) -> tuple[str, str] | None:
    if isinstance(node, cst.Tuple) and len(node.elements) == 2:
        first, second = (_string_value(item.value) for item in node.elements)
        if first is not None and second is not None:
            return first, second
    return None


def _locate(
    element: cst.BaseDictElement, start: int, offsets: Offsets
) -> tuple[Element, int]:
    """The element that starts at offset ``start``, and the offset where it ends.

    The end is that of its key and value (or splat), before any comma; the
    element's last line is its comma's, which may sit lower.
    """
    first = offsets.line(start)
    if not isinstance(element, cst.DictElement):
        end = offsets.starred_end(element, start)
        last = offsets.last_line(element, end)
        return Element("splat", first, last, "", first, "", None), end
    value_source = offsets.code(element.value)  # libcst is lossless: the exact text
    end = offsets.value_start(element, start) + len(value_source)
    key = _string_value(element.key)
    located = Element(
        "odd-key" if key is None else "entry",
        first,
        offsets.last_line(element, end),
        key or "",
        offsets.line(offsets.inside_parens(element.key, start)),
        value_source,
        _pair(element.value),
    )
    return located, end


def _read_dict(
    name: str, node: cst.Dict, start: int, offsets: Offsets, lines: list[str]
) -> DictLiteral:
    """The dict ``node`` whose code (parentheses included) starts at ``start``."""
    brace = offsets.inside_parens(node, start)
    at = brace + offsets.length(node.lbrace)
    elements = []
    end = at
    commas: list[tuple[int, int] | None] = []
    for item in node.elements:
        element, end = _locate(item, at, offsets)
        elements.append(element)
        comma = item.comma
        if isinstance(comma, cst.Comma):
            position = end + offsets.length(comma.whitespace_before)
            commas.append((offsets.line(position), offsets.column(position)))
        else:
            commas.append(None)
        at = end + offsets.comma_length(item)
    missing_comma_at = None
    if node.elements and commas[-1] is None:
        missing_comma_at = (offsets.line(end), offsets.column(end))
    close = at + offsets.length(node.rbrace.whitespace_before)
    rpars = sum(offsets.length(paren) for paren in node.rpar)
    offsets.remember(node, close + len("}") + rpars - start)
    open_line, close_line = offsets.line(brace), offsets.line(close)
    return DictLiteral(
        name=name,
        open_line=open_line,
        open_column=offsets.column(brace),
        close_line=close_line,
        close_column=offsets.column(close),
        one_per_line=one_per_line(open_line, close_line, elements),
        sections=build_sections(open_line, close_line, elements, lines),
        missing_comma_at=missing_comma_at,
        comma_before_last_at=commas[-2] if len(commas) > 1 else None,
    )
