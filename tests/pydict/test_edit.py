"""Insert and remove entries: before/after tables; every rewrite is run twice."""

from __future__ import annotations

import pytest

from scaffold.errors import ScaffoldError
from scaffold.ordering import get_key
from scaffold.pydict.edit import insert_entry, remove_entry
from scaffold.pydict.values import EntryValue, example_value, registry_value

FAMILY = get_key("family")
LONG = "LongArchitectureNameForConditionalGeneration"

# (id, before, dict, key, value, section, after)
INSERTS: list[tuple[str, str, str, str, EntryValue, str | None, str]] = [
    (
        "sorted-middle",
        'X = {\n    "A": ("a", "A"),\n    "C": ("c", "C"),\n}\n',
        "X",
        "B",
        registry_value("b", "B"),
        None,
        'X = {\n    "A": ("a", "A"),\n    "B": ("b", "B"),\n    "C": ("c", "C"),\n}\n',
    ),
    (
        "above-comments-of-next-entry",
        'X = {\n    "A": ("a", "A"),\n    # about C\n    "C": ("c", "C"),  # t\n}\n',
        "X",
        "B",
        registry_value("b", "B"),
        None,
        'X = {\n    "A": ("a", "A"),\n    "B": ("b", "B"),\n'
        '    # about C\n    "C": ("c", "C"),  # t\n}\n',
    ),
    (
        "below-header-at-start",
        'X = {\n    # [Decoder-only]\n    "C": ("c", "C"),\n}\n',
        "X",
        "A",
        registry_value("a", "A"),
        None,
        'X = {\n    # [Decoder-only]\n    "A": ("a", "A"),\n    "C": ("c", "C"),\n}\n',
    ),
    (
        "end-before-footer",
        'X = {\n    "A": ("a", "A"),\n    # "Old": ("o", "O"),\n}\n',
        "X",
        "B",
        registry_value("b", "B"),
        None,
        'X = {\n    "A": ("a", "A"),\n    "B": ("b", "B"),\n'
        '    # "Old": ("o", "O"),\n}\n',
    ),
    (
        "exploded-over-88",
        'X = {\n    "A": ("a", "A"),\n}\n',
        "X",
        LONG,
        registry_value("long_architecture_name", LONG),
        None,
        f'X = {{\n    "A": ("a", "A"),\n    "{LONG}": (\n'
        f'        "long_architecture_name",\n        "{LONG}",\n    ),\n}}\n',
    ),
    (
        "example-value-one-line",
        'E = {\n    "A": _HfExamplesInfo("org/a"),\n}\n',
        "E",
        "B",
        example_value("org/b", trust_remote_code=True),
        None,
        'E = {\n    "A": _HfExamplesInfo("org/a"),\n'
        '    "B": _HfExamplesInfo("org/b", trust_remote_code=True),\n}\n',
    ),
    (
        "example-value-exploded",
        "E = {}\n",
        "E",
        LONG,
        example_value(None, trust_remote_code=True),
        None,
        f'E = {{\n    "{LONG}": _HfExamplesInfo(\n        "",\n'
        "        trust_remote_code=True,\n        is_available_online=False,\n"
        "    ),\n}\n",
    ),
    (
        "empty-inline-dict",
        "X: dict[str, tuple[str, str]] = {}  # empty for now\nY = 1\n",
        "X",
        "A",
        registry_value("a", "A"),
        None,
        'X: dict[str, tuple[str, str]] = {\n    "A": ("a", "A"),\n}  # empty for now\n'
        "Y = 1\n",
    ),
    (
        "header-only-dict",
        "X = {\n    # [Decoder-only]\n}\n",
        "X",
        "A",
        registry_value("a", "A"),
        None,
        'X = {\n    # [Decoder-only]\n    "A": ("a", "A"),\n}\n',
    ),
    (
        "named-section",
        'X = {\n    # [Decoder-only]\n    "C": ("c", "C"),\n'
        '    # [Encoder-decoder]\n    "W": ("w", "W"),\n}\n',
        "X",
        "A",
        registry_value("a", "A"),
        "Encoder-decoder",
        'X = {\n    # [Decoder-only]\n    "C": ("c", "C"),\n'
        '    # [Encoder-decoder]\n    "A": ("a", "A"),\n    "W": ("w", "W"),\n}\n',
    ),
    (
        "messy-section-tie-goes-to-latest-slot",
        'X = {\n    "C": ("c", "C"),\n    "A": ("a", "A"),\n}\n',
        "X",
        "B",
        registry_value("b", "B"),
        None,
        'X = {\n    "C": ("c", "C"),\n    "A": ("a", "A"),\n    "B": ("b", "B"),\n}\n',
    ),
    (
        "family-key-base-before-variant",
        'X = {\n    "Gemma2ForCausalLM": ("g", "G"),\n}\n',
        "X",
        "GemmaForCausalLM",
        registry_value("gemma", "GemmaForCausalLM"),
        None,
        'X = {\n    "GemmaForCausalLM": ("gemma", "GemmaForCausalLM"),\n'
        '    "Gemma2ForCausalLM": ("g", "G"),\n}\n',
    ),
    (
        "stays-before-splat-and-off-region",
        'X = {\n    "A": ("a", "A"),\n    **OTHER,\n    # scaffold: off\n'
        '    "Z": ("z", "Z"),\n    # scaffold: on\n}\n',
        "X",
        "M",
        registry_value("m", "M"),
        None,
        'X = {\n    "A": ("a", "A"),\n    "M": ("m", "M"),\n    **OTHER,\n'
        '    # scaffold: off\n    "Z": ("z", "Z"),\n    # scaffold: on\n}\n',
    ),
    (
        "above-an-off-region-holding-every-entry",
        'X = {\n    # scaffold: off\n    "C": 1,\n    # scaffold: on\n}\n',
        "X",
        "B",
        registry_value("b", "B"),
        None,
        'X = {\n    "B": ("b", "B"),\n    # scaffold: off\n    "C": 1,\n'
        "    # scaffold: on\n}\n",
    ),
    (
        "indent-copied-and-no-final-newline",
        'X = {\n  "A": ("a", "A"),\n}',
        "X",
        "B",
        registry_value("b", "B"),
        None,
        'X = {\n  "A": ("a", "A"),\n  "B": ("b", "B"),\n}',
    ),
    (
        "other-dict-may-hold-the-key",
        'X = {\n    "A": ("a", "A"),\n}\nY = {\n    "B": ("b", "B"),\n}\n',
        "Y",
        "A",
        registry_value("a", "A"),
        None,
        'X = {\n    "A": ("a", "A"),\n}\nY = {\n    "A": ("a", "A"),\n'
        '    "B": ("b", "B"),\n}\n',
    ),
]


@pytest.mark.parametrize(
    ("before", "name", "key", "value", "section", "after"),
    [case[1:] for case in INSERTS],
    ids=[case[0] for case in INSERTS],
)
def test_insert(
    before: str,
    name: str,
    key: str,
    value: EntryValue,
    section: str | None,
    after: str,
) -> None:
    assert insert_entry(before, name, key, value, FAMILY, section) == after
    with pytest.raises(ScaffoldError, match="already in"):
        insert_entry(after, name, key, value, FAMILY, section)
    assert remove_entry(after, name, key) == before


COMMA_LESS = [
    # (before, key, after): the user's "no trailing comma" style is kept, and
    # remove_entry gives ``before`` back byte for byte.
    pytest.param(
        'X = {\n    "A": ("a", "A")  # note\n}\n',
        "B",
        'X = {\n    "A": ("a", "A"),  # note\n    "B": ("b", "B")\n}\n',
        id="appended",
    ),
    pytest.param(
        'X = {\n    "B": ("b", "B")\n}\n',
        "A",
        'X = {\n    "A": ("a", "A"),\n    "B": ("b", "B")\n}\n',
        id="inserted-before",
    ),
    pytest.param(
        'X = {\n    **Y,\n    "A": ("a", "A") ,\n'
        '    "C": (\n        "c", "C"\n    )\n}\n',
        "D",
        'X = {\n    **Y,\n    "A": ("a", "A") ,\n    "C": (\n        "c", "C"\n    ),\n'
        '    "D": ("d", "D")\n}\n',
        id="exploded-last",
    ),
]


@pytest.mark.parametrize(("before", "key", "after"), COMMA_LESS)
def test_a_dict_without_trailing_comma_round_trips(before, key, after) -> None:
    value = registry_value(key.lower(), key)
    assert insert_entry(before, "X", key, value, FAMILY) == after
    assert remove_entry(after, "X", key) == before


@pytest.mark.parametrize(
    ("source", "name", "section", "message"),
    [
        ('X = {\n    "A": 1,\n}\n', "Y", None, "no module-level dict Y"),
        ("X = dict()\n", "X", None, "X is not a dict literal"),
        (
            'X = {\n    # [Decoder-only]\n    "A": 1,\n}\n',
            "X",
            "Nope",
            "no section 'Nope'; known sections: Decoder-only",
        ),
        ('X = {"A": 1, "C": 2}\n', "X", None, "sharing a line"),
    ],
)
def test_insert_refuses(
    source: str, name: str, section: str | None, message: str
) -> None:
    with pytest.raises(ScaffoldError, match=message):
        insert_entry(source, name, "B", registry_value("b", "B"), FAMILY, section)


# (id, before, dict, key, after)
REMOVES: list[tuple[str, str, str, str, str]] = [
    (
        "with-leading-and-trailing-comments",
        'X = {\n    "A": ("a", "A"),\n    # about B\n    "B": ("b", "B"),  # t\n'
        '    "C": ("c", "C"),\n}\n',
        "X",
        "B",
        'X = {\n    "A": ("a", "A"),\n    "C": ("c", "C"),\n}\n',
    ),
    (
        "exploded-value-keeps-blank-and-footer",
        'X = {\n    "A": (\n        "a",\n        "A",\n    ),\n\n    # footer\n}\n',
        "X",
        "A",
        "X = {\n\n    # footer\n}\n",
    ),
    (
        "every-duplicate",
        'X = {\n    "A": 1,\n    "B": 2,\n    "A": 3,\n}\n',
        "X",
        "A",
        'X = {\n    "B": 2,\n}\n',
    ),
    (
        "last-entry-collapses-to-empty-braces",
        'X = {\n    "A": 1,\n}  # note\n',
        "X",
        "A",
        "X = {}  # note\n",
    ),
    (
        "inside-off-region",
        'X = {\n    # scaffold: off\n    "A": 1,\n    # scaffold: on\n}\n',
        "X",
        "A",
        "X = {\n    # scaffold: off\n    # scaffold: on\n}\n",
    ),
]


@pytest.mark.parametrize(
    ("before", "name", "key", "after"),
    [case[1:] for case in REMOVES],
    ids=[case[0] for case in REMOVES],
)
def test_remove(before: str, name: str, key: str, after: str) -> None:
    assert remove_entry(before, name, key) == after
    with pytest.raises(ScaffoldError, match="is not in"):
        remove_entry(after, name, key)
