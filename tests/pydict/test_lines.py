"""The lines :mod:`scaffold.pydict.parse` measures equal libcst's ``PositionProvider``.

The parser measures offsets piece by piece instead of resolving libcst's
position metadata; here the metadata is the oracle.  Line fields of the
expected model come from ``PositionProvider``, text fields (keys, values,
pairs) from the model under test, and the whole model must compare equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libcst.metadata import MetadataWrapper, PositionProvider

from scaffold.ordering import get_key
from scaffold.pydict.edit import insert_entry, remove_entry, sort_dicts
from scaffold.pydict.model import (
    DictLiteral,
    Element,
    SourceDicts,
    build_sections,
    one_per_line,
    split_keeping_ends,
)
from scaffold.pydict.parse import parse_source
from scaffold.pydict.values import registry_value

TREE = Path(__file__).parents[1] / "fixtures" / "vllm_tree"
FIXTURES = [
    TREE / "vllm" / "model_executor" / "models" / "registry.py",
    TREE / "tests" / "models" / "registry.py",
]


def _bindings(module: cst.Module) -> Iterator[tuple[str, cst.BaseExpression]]:
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    targets = [target.target for target in small.targets]
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    targets = [small.target]
                else:
                    continue
                for target in targets:
                    if isinstance(target, cst.Name):
                        yield target.value, small.value


def _key(node: cst.BaseExpression) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def expected(text: str, parsed: SourceDicts) -> SourceDicts:
    """``parsed`` with every line and column taken from ``PositionProvider``."""
    wrapper = MetadataWrapper(cst.parse_module(text))
    where = wrapper.resolve(PositionProvider)
    lines = split_keeping_ends(text)
    dicts: dict[str, DictLiteral] = {}
    non_dicts: dict[str, int] = {}
    last = dict(_bindings(wrapper.module))  # later bindings win
    for name, value in last.items():
        if not isinstance(value, cst.Dict):
            non_dicts[name] = where[value].start.line
            continue
        entries = iter(parsed.dicts[name].entries)
        elements = []
        for item in value.elements:
            first = where[item].start.line
            comma = item.comma
            last = where[comma if isinstance(comma, cst.Comma) else item].end.line
            if not isinstance(item, cst.DictElement):
                elements.append(Element("splat", first, last, "", first, "", None))
                continue
            key_line = where[item.key].start.line
            source = wrapper.module.code_for_node(item.value)
            if _key(item.key) is None:
                odd = Element("odd-key", first, last, "", key_line, source, None)
                elements.append(odd)
                continue
            entry = next(entries)
            assert entry.value_source == source
            kind = "entry"
            elements.append(
                Element(kind, first, last, entry.key, key_line, source, entry.pair)
            )
        brace = where[value]
        end = where[value.elements[-1]].end if value.elements else None
        missing = value.elements and not isinstance(value.elements[-1].comma, cst.Comma)
        commas = [
            where[item.comma].start if isinstance(item.comma, cst.Comma) else None
            for item in value.elements
        ]
        before_last = commas[-2] if len(commas) > 1 else None
        open_line, close_line = brace.start.line, brace.end.line
        dicts[name] = DictLiteral(
            name,
            open_line,
            brace.start.column,
            close_line,
            brace.end.column - 1,
            one_per_line(open_line, close_line, elements),
            build_sections(open_line, close_line, elements, lines),
            (end.line, end.column) if missing and end is not None else None,
            (before_last.line, before_last.column) if before_last else None,
        )
    return SourceDicts(lines, dicts, non_dicts)


def assert_same_lines(text: str) -> None:
    parsed = parse_source(text)
    assert parsed == expected(text, parsed)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.parent.name)
def test_fixture_registries(path: Path) -> None:
    assert_same_lines(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment",
        'X = {"A": 1}',  # no final newline
        "#!/usr/bin/env python\n\nimport os\n\n\nclass C:\n    Y = {}\n\n\nX = {\n"
        '    "A": (\n        "a",  # c\n        "A"\n    )  # trailing\n    ,\n}\n',
        'a = 1; X: dict[str, int] = {"B": 2,\n  "A": 1}; Y = b = (\n  1)\n',
        'X = (\n    {  # note\n        ("A"): 1,\n        **Z ,\n        K: 2\n'
        "    }\n)\n",
        'X = Y = {\r\n    "A": ("a", "A"),\r\n    "B" "C" : ("b", "B")\r\n}\r\n',
        'X = {\n    "A": """\nmulti\nline\n""",\n    "B": f"{x}\\n"\n    "y",\n}\n',
        "if x:\n    pass\nelse:\n    X = {}\nX = {\n\n    # c\n\n}\nX = 3\n",
    ],
)
def test_layouts(text: str) -> None:
    assert_same_lines(text)


KEYS = st.sampled_from(['"A"', '"Bb"', "'C'", '"D" "E"', "NAME", 'f"{x}"'])
SPACE = st.sampled_from([" ", "", "  ", "\n        ", "  # c\n    "])


@st.composite
def elements(draw: st.DrawFn) -> str:
    """One dict element with arbitrary whitespace, comments and comma layout."""
    if draw(st.integers(0, 5)) == 0:
        return "**" + draw(st.sampled_from(["OTHER", "{}", "(\n  A\n)"]))
    key, before, after = draw(KEYS), draw(st.sampled_from(["", " "])), draw(SPACE)
    value = draw(st.sampled_from(['("m", "K")', "(\n  'm',\n  'K',\n)", "1", "[\n]"]))
    return f"{key}{before}:{after}{value}"


@st.composite
def modules(draw: st.DrawFn) -> str:
    """A module of a few statements, some of them dict literals."""
    statements = []
    for _ in range(draw(st.integers(1, 4))):
        items = draw(st.lists(elements(), max_size=6))
        commas = [draw(st.sampled_from([",", " ,", "\n    ,"])) for _ in items]
        body = "".join(
            f"{draw(SPACE)}{item}{comma}"
            for item, comma in zip(items, commas, strict=True)
        )
        if items and draw(st.booleans()):
            body = body[: -len(commas[-1])]  # no trailing comma
        head = draw(st.sampled_from(["X = ", "Y: dict = ", "x = 1; Z = ", "# c\nX = "]))
        statements.append(f"{head}{{{body}\n}}")
        statements += draw(st.lists(st.sampled_from(["\n", "def f():\n    return 1"])))
    return "\n".join(statements) + draw(st.sampled_from(["", "\n"]))


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(modules())
def test_generated_modules(text: str) -> None:
    assert_same_lines(text)


def test_editors_take_a_parse_already_made() -> None:
    text = FIXTURES[0].read_text(encoding="utf-8")
    parsed = parse_source(text)
    name = next(name for name, literal in parsed.dicts.items() if literal.entries)
    key = parsed.dicts[name].entries[0].key
    value = registry_value("zzz", "ZzzForCausalLM")
    sort_key = get_key("family")
    new = insert_entry(text, name, "ZzzForCausalLM", value, sort_key, parsed=parsed)
    assert new == insert_entry(text, name, "ZzzForCausalLM", value, sort_key)
    assert remove_entry(text, name, key, parsed=parsed) == remove_entry(text, name, key)
    assert sort_dicts(text, sort_key, parsed=parsed) == sort_dicts(text, sort_key)
