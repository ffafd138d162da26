"""Where libcst nodes sit in their source text, measured piece by piece.

libcst is lossless: the code it generates for a node is exactly the text the
node was parsed from, and the module's text is the concatenation of its
pieces in order.  So the offset of a node is the summed length of the code of
everything before it.  This walks the module level (one code generation of
each statement) except for the dict literals, whose elements the caller
measures as it reads them, so the whole file is generated about once.  libcst's own
``PositionProvider`` instead records a position for every node of the file
and deep-copies the tree first, several times the cost of the parse.

Offsets are turned into lines by counting ``\\n`` only, like
:func:`scaffold.pydict.model.split_keeping_ends`, so lines index the same list.

Every length below mirrors a libcst ``_codegen_impl``; the pieces are those of
nodes as the parser builds them (explicit commas, semicolons and equals signs).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator

import libcst as cst

Binding = tuple[list[str], cst.BaseExpression, int]


class Offsets:
    """Lengths of the pieces of ``module`` and lines of offsets in ``text``."""

    def __init__(self, module: cst.Module, text: str) -> None:
        self.module = module
        self.code = module.code_for_node
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        # Lengths callers have already measured, so the walk skips regenerating.
        self._known: dict[int, int] = {}

    def line(self, offset: int) -> int:
        """The 1-based line holding the character at ``offset``."""
        return bisect_right(self._line_starts, offset)

    def column(self, offset: int) -> int:
        """The 0-based column of the character at ``offset``."""
        return offset - self._line_starts[self.line(offset) - 1]

    def length(self, node: cst.CSTNode) -> int:
        """How many characters of the text ``node`` spans."""
        if isinstance(node, cst.SimpleWhitespace):
            return len(node.value)  # the commonest piece; no codegen needed
        known = self._known.get(id(node))
        return known if known is not None else len(self.code(node))

    def remember(self, node: cst.CSTNode, length: int) -> None:
        """Record the length of ``node`` (still in the tree) measured by the caller."""
        self._known[id(node)] = length

    def inside_parens(self, node: cst.BaseExpression, start: int) -> int:
        """Where ``node`` itself starts when its code, parentheses first, starts
        at ``start`` (libcst's syntactic position excludes the parentheses)."""
        return start + sum(self.length(paren) for paren in node.lpar)

    def bindings(self) -> Iterator[Binding]:
        """``(names, value, start)`` of each top-level ``NAME = value`` or
        ``NAME: T = value``, ``start`` being the offset of the value's code.

        Lengths remembered for a value while the caller holds it are used to
        step over it.
        """
        offset = sum(self.length(line) for line in self.module.header)
        for statement in self.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                offset += self.length(statement)
                continue
            offset += sum(self.length(line) for line in statement.leading_lines)
            for small in statement.body:
                target = _assigned(small)
                if target is None:
                    offset += self.length(small)
                    continue
                names, value = target
                start = offset + self._before_value(small)
                if names:
                    yield names, value, start
                offset = start + self.length(value)
                if isinstance(small.semicolon, cst.Semicolon):
                    offset += self.length(small.semicolon)
            offset += self.length(statement.trailing_whitespace)

    def _before_value(self, small: cst.Assign | cst.AnnAssign) -> int:
        """The length of an assignment's code before its value."""
        if isinstance(small, cst.Assign):
            return sum(self.length(target) for target in small.targets)
        annotation = small.annotation  # its ``:`` is generated, not stored
        before = annotation.whitespace_before_indicator
        return (
            self.length(small.target)
            + (self.length(before) if isinstance(before, cst.CSTNode) else 0)
            + len(":")
            + self.length(annotation.whitespace_after_indicator)
            + self.length(annotation.annotation)
            + self.length(small.equal)  # type: ignore[arg-type]  # parsed: explicit
        )

    def value_start(self, element: cst.DictElement, start: int) -> int:
        """Where the value of ``"key": value`` starting at ``start`` begins."""
        return (
            start
            + self.length(element.key)
            + self.length(element.whitespace_before_colon)
            + len(":")
            + self.length(element.whitespace_after_colon)
        )

    def starred_end(self, element: cst.StarredDictElement, start: int) -> int:
        """Where ``**value`` starting at ``start`` ends."""
        return (
            start
            + len("**")
            + self.length(element.whitespace_before_value)
            + self.length(element.value)
        )

    def last_line(self, element: cst.BaseDictElement, end: int) -> int:
        """The line of the element's comma, else of its ``end``."""
        comma = element.comma
        if isinstance(comma, cst.Comma):
            return self.line(end + self.length(comma.whitespace_before))
        return self.line(end)

    def comma_length(self, element: cst.BaseDictElement) -> int:
        """The length of the element's comma and the whitespace it owns."""
        comma = element.comma
        return self.length(comma) if isinstance(comma, cst.Comma) else 0


def _assigned(
    small: cst.BaseSmallStatement,
) -> tuple[list[str], cst.BaseExpression] | None:
    """The names (plain ones only) an assignment binds and its value, else None."""
    if isinstance(small, cst.Assign):
        targets = [target.target for target in small.targets]
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        targets = [small.target]
    else:
        return None
    names = [target.value for target in targets if isinstance(target, cst.Name)]
    return names, small.value
