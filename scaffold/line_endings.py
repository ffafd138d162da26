"""Which ending each line of an edited file gets, when the file mixes them.

Editors work on LF text; a file that mixes LF and CRLF must come back with
every line's own ending, or a round trip (``new-model`` then ``remove``) and
``check --fix`` would rewrite lines the user never asked to change.
"""

from __future__ import annotations

import difflib
from collections import defaultdict, deque
from collections.abc import Sequence


def _same_line(line: str) -> str:
    # A line an editor moved may have gained its trailing comma on the way
    # (check --fix moves a comma-less last entry): it is the same line.
    return line.replace(",", "")


def carry_endings(
    old: Sequence[str], old_endings: Sequence[str], new: Sequence[str], default: str
) -> list[str]:
    """The ending of each line of ``new``, an edit of ``old`` (lines sans ends).

    Unchanged lines before and after the edit keep theirs in place. Between
    them, a line found in the old part (moved, maybe with a comma added)
    takes that line's ending; a line that replaced others takes the ending
    of the line it stands in for, the last of a run the last's (so a line
    split in two and joined again gets its own ending back); a line with no
    counterpart, ``default``.
    """
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_mid = [_same_line(line) for line in old[head : len(old) - tail]]
    new_mid = [_same_line(line) for line in new[head : len(new) - tail]]
    ends_mid = list(old_endings[head : len(old) - tail])
    middle = [default] * len(new_mid)
    matcher = difflib.SequenceMatcher(None, old_mid, new_mid, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("equal", "replace"):
            for j in range(j1, j2):
                i = i2 - 1 if j == j2 - 1 else min(i1 + j - j1, i2 - 1)
                middle[j] = ends_mid[i]
    by_content: dict[str, deque[str]] = defaultdict(deque)
    for line, ending in zip(old_mid, ends_mid, strict=True):
        by_content[line].append(ending)
    for j, line in enumerate(new_mid):
        found = by_content.get(line)
        if found:  # a line that moved carries its own ending
            middle[j] = found.popleft()
    return [*old_endings[:head], *middle, *old_endings[len(old) - tail :]]
