"""Clone an in-tree model module under a new family name (``new-model --from``).

The family prefix of the source module is the family stem (``split_family``)
of the class the registry maps to that module -- ``LlamaForCausalLM`` ->
``Llama`` -- or, for a module nothing registers, of the classes it defines;
of several candidates the one that starts the most class names wins. Every
top-level class whose name is the prefix followed by an upper-case letter, an
underscore or nothing (``LlamaMLP``, not ``Llama2Model``) is renamed, and so
is every reference to it: names, ``module.Class`` attributes, annotations
(string annotations too). Comments and strings are never rewritten; those
still naming the old family are reported for the user to review.
"""

from __future__ import annotations

import difflib
import io
import re
import tokenize
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import libcst as cst

from scaffold.errors import ScaffoldError, located
from scaffold.modelfile.classes import defined_classes
from scaffold.names import family_of
from scaffold.pydict import parse_source
from scaffold.registry import RegistryView
from scaffold.textio import read_source
from scaffold.tree import Tree

# Token types whose text is a comment or string literal (3.12 splits f-strings).
_TEXT_TOKENS = {tokenize.COMMENT, tokenize.STRING} | (
    {tokenize.FSTRING_MIDDLE} if hasattr(tokenize, "FSTRING_MIDDLE") else set()
)


@dataclass(frozen=True)
class Clone:
    """The cloned source and the ``(line, text)`` still naming the old family."""

    text: str
    old_family: str
    leftovers: list[tuple[int, str]]
    bases: list[str] = field(default_factory=list)  # of the registered class


def has_prefix(name: str, prefix: str) -> bool:
    """``name`` is ``prefix`` plus nothing, ``_`` or a new capitalised word."""
    rest = name[len(prefix) :]
    return name.startswith(prefix) and (not rest or rest[0] == "_" or rest[0].isupper())


def family_prefix(classes: Iterable[str], registered: Iterable[str]) -> str | None:
    """The family prefix of a module defining ``classes`` (see the module doc)."""
    classes = list(classes)
    candidates = {family_of(name) for name in registered} or {
        family_of(name) for name in classes
    }
    scored = [
        (sum(has_prefix(name, stem) for name in classes), len(stem), stem)
        for stem in candidates
    ]
    best = max(scored, default=(0, 0, ""))
    return best[2] if best[0] else None


class _Rename(cst.CSTTransformer):
    """Rename every ``Name`` in ``names``, and whole words of string annotations."""

    def __init__(self, names: Mapping[str, str]) -> None:
        super().__init__()
        self.names = names
        self.word = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
        self.annotation_depth = 0

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = self.names.get(updated_node.value)
        return updated_node if new is None else updated_node.with_changes(value=new)

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self.annotation_depth += 1

    def leave_Annotation(
        self, original_node: cst.Annotation, updated_node: cst.Annotation
    ) -> cst.Annotation:
        self.annotation_depth -= 1
        return updated_node

    def leave_SimpleString(
        self, original_node: cst.SimpleString, updated_node: cst.SimpleString
    ) -> cst.SimpleString:
        if not self.annotation_depth:
            return updated_node  # an ordinary string: reported, never rewritten
        value = self.word.sub(lambda m: self.names[m[1]], updated_node.value)
        return updated_node.with_changes(value=value)


def rename_family(source: str, old: str, new: str) -> Clone:
    """Rename ``old``-prefixed top-level classes of ``source`` to ``new``."""
    classes = defined_classes(source)
    names = {name: new + name[len(old) :] for name in classes if has_prefix(name, old)}
    if not names:
        return Clone(source, old, family_leftovers(source, old))
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        raise ScaffoldError(
            f"cannot parse: {error.message}", line=error.editor_line
        ) from None
    text = module.visit(_Rename(names)).code
    return Clone(text, old, family_leftovers(text, old))


def family_leftovers(source: str, family: str) -> list[tuple[int, str]]:
    """``(line, stripped line)`` of comments and strings mentioning ``family``.

    Case-insensitive, since prose writes ``llama`` as often as ``Llama``.
    """
    pattern = re.compile(re.escape(family), re.IGNORECASE)
    lines = source.splitlines()
    hits: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in _TEXT_TOKENS:
            continue
        for offset, piece in enumerate(token.string.split("\n")):
            if pattern.search(piece):
                hits.add(token.start[0] + offset)
    return [(line, lines[line - 1].strip()) for line in sorted(hits)]


def clone_model(tree: Tree, module: str, class_name: str) -> Clone:
    """Clone ``<models_dir>/<module>.py`` under the family of ``class_name``.

    ScaffoldError when the module is missing or the clone does not define
    ``class_name`` (so the registry entry would point nowhere).
    """
    path = tree.module_path(module)
    where = tree.relative(path)
    # A name, never a path: only the models folder's own modules can be cloned.
    if not module.isidentifier() or not path.is_file():
        # The model files: modules some registry entry names (not utils.py).
        with located(tree.relative(tree.registry_path)):
            registry = RegistryView(parse_source(read_source(tree.registry_path).text))
        there = sorted(
            m for m in registry.modules_used() if tree.module_path(m).is_file()
        )
        # A real vLLM tree has ~400 modules: name the close ones, count the rest.
        shown = there if len(there) <= 20 else difflib.get_close_matches(module, there)
        listing = ", ".join(shown) or "none close"
        if len(shown) < len(there):
            listing = f"close: {listing}; {len(there)} in all"
        raise ScaffoldError(
            f"--from {module}: no such model module in "
            f"{tree.relative(tree.models_dir)} (there are: {listing})",
            path=where,
        )
    with located(where):
        source = read_source(path).text
        classes = defined_classes(source)
    with located(tree.relative(tree.registry_path)):
        registry = RegistryView(parse_source(read_source(tree.registry_path).text))
    old = family_prefix(classes, registry.classes_from(module))
    if old is None:
        raise ScaffoldError(
            f"--from {module}: cannot tell the family prefix of its classes "
            f"({', '.join(sorted(classes)) or 'none'})",
            path=where,
        )
    with located(where):
        clone = rename_family(source, old, family_of(class_name))
    cloned_classes = defined_classes(clone.text)
    if class_name not in cloned_classes:
        raise ScaffoldError(
            f"--from {module}: renaming {old}* to {family_of(class_name)}* gives no "
            f"class {class_name} (it gives: {', '.join(sorted(cloned_classes))}); "
            "pass --class",
            path=where,
        )
    return replace(clone, bases=cloned_classes[class_name])
