"""Module-level dict literals of a Python source, read as sections of entries.

libcst is used only to parse and to locate nodes; the model speaks in 1-based
line numbers of the original text so that editors can splice lines and leave
every other byte alone.

The layout rules (what owns which line, what is a barrier) live in
:mod:`scaffold.dict_model`.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from scaffold.dict_model import (
    DictLiteral,
    Element,
    SourceDicts,
    build_sections,
    one_per_line,
    split_lines,
)
from scaffold.errors import ScaffoldError


def parse_source(text: str) -> SourceDicts:
    """Parse ``text`` and model its module-level dict literals.

    Raises ScaffoldError (with the line) when ``text`` is not valid Python.
    """
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise _syntax_error(text, error) from None
    wrapper = MetadataWrapper(module)
    positions = wrapper.resolve(PositionProvider)
    lines = split_lines(text)
    dicts: dict[str, DictLiteral] = {}
    non_dicts: dict[str, int] = {}
    for name, value in _module_bindings(wrapper.module):
        # Later bindings win, as they do when Python runs the module.
        if isinstance(value, cst.Dict):
            dicts[name] = _read_dict(name, value, wrapper, positions, lines)
            non_dicts.pop(name, None)
        else:
            non_dicts[name] = positions[value].start.line
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


def _module_bindings(module: cst.Module) -> list[tuple[str, cst.BaseExpression]]:
    """``(name, value)`` of each top-level ``NAME = value`` or ``NAME: T = value``."""
    bindings = []
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign):
                targets = [target.target for target in small.targets]
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                targets = [small.target]
            else:
                continue
            for target in targets:
                if isinstance(target, cst.Name):
                    bindings.append((target.value, small.value))
    return bindings


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
    element: cst.BaseDictElement,
    positions: Mapping[cst.CSTNode, CodeRange],
    module: cst.Module,
) -> Element:
    where = positions[element]
    comma = element.comma
    # The element's own range stops at its value; the comma may sit lower.
    last = positions[comma].end.line if isinstance(comma, cst.Comma) else where.end.line
    if not isinstance(element, cst.DictElement):
        return Element("splat", where.start.line, last, "", where.start.line, "", None)
    key = _string_value(element.key)
    return Element(
        "odd-key" if key is None else "entry",
        where.start.line,
        last,
        key or "",
        positions[element.key].start.line,
        module.code_for_node(element.value),  # libcst is lossless: the exact text
        _pair(element.value),
    )


def _read_dict(
    name: str,
    node: cst.Dict,
    wrapper: MetadataWrapper,
    positions: Mapping[cst.CSTNode, CodeRange],
    lines: list[str],
) -> DictLiteral:
    elements = [_locate(item, positions, wrapper.module) for item in node.elements]
    where = positions[node]
    missing_comma_at = None
    if node.elements and not isinstance(node.elements[-1].comma, cst.Comma):
        end = positions[node.elements[-1]].end
        missing_comma_at = (end.line, end.column)
    open_line, close_line = where.start.line, where.end.line
    return DictLiteral(
        name=name,
        open_line=open_line,
        open_column=where.start.column,
        close_line=close_line,
        close_column=where.end.column - 1,
        one_per_line=one_per_line(open_line, close_line, elements),
        sections=build_sections(open_line, close_line, elements, lines),
        non_literal_key_lines=tuple(
            e.key_line for e in elements if e.kind == "odd-key"
        ),
        missing_comma_at=missing_comma_at,
    )
