"""Text I/O: BOM, each line's own ending, and the one-line refusals."""

from __future__ import annotations

import pytest

from scaffold.errors import ScaffoldError
from scaffold.textio import MAX_BYTES, decode, read_source


@pytest.mark.parametrize(
    "raw",
    [
        "a\r\nb\r\n",
        "a\nb",
        "\ufeffx = 1\n",
        "",
        "caf\u00e9\n",
        "a\r\nb",
        "a\r\nb\nc\r\n",
        "\ufeffa\nb\r\nc",
    ],
)
def test_decode_encode_round_trip(raw):
    source = decode(raw)
    assert "\r" not in source.text and not source.text.startswith("\ufeff")
    assert source.encode(source.text) == raw


# (file as read, the editor's LF text, what is written): untouched lines keep
# their ending, a moved line carries its own, a new line gets the commoner one.
EDITS = [
    pytest.param(
        "a\r\nb\nc\r\n", "a\nb\nnew\nc\n", "a\r\nb\nnew\r\nc\r\n", id="insert"
    ),
    pytest.param("a\nb\r\nc\nd\n", "a\nc\nd\n", "a\nc\nd\n", id="delete"),
    pytest.param(
        "h\r\nb\nc\r\na\r\nt\n", "h\na\nb\nc\nt\n", "h\r\na\r\nb\nc\r\nt\n", id="sort"
    ),
    pytest.param("a\nb\r\n", "a\nb\r\n".replace("\r\n", "\n"), "a\nb\r\n", id="noop"),
    # A line split in two keeps its ending on every piece, and gets it back
    # when joined again (an empty dict filled, then emptied).
    pytest.param(
        "a = {}\r\nb\n",
        "a = {\n    x,\n}\nb\n",
        "a = {\r\n    x,\r\n}\r\nb\n",
        id="split",
    ),
    pytest.param(
        "a = {\r\n    x,\r\n}\r\nb\n", "a = {}\nb\n", "a = {}\r\nb\n", id="join"
    ),
    # A comma-less last entry that moves gains its comma, keeps its ending.
    pytest.param(
        'h\n"B": 1,\n"A": 2\r\n}\n',
        'h\n"A": 2,\n"B": 1,\n}\n',
        'h\n"A": 2,\r\n"B": 1,\n}\n',
        id="moved-gains-comma",
    ),
    pytest.param(
        "a\r\nb\r\nc\n",
        "a\r\nx\nb\r\nc\n".replace("\r", ""),
        "a\r\nx\r\nb\r\nc\n",
        id="crlf-majority",
    ),
]


@pytest.mark.parametrize(("raw", "edited", "written"), EDITS)
def test_mixed_endings_stay_per_line(raw, edited, written):
    source = decode(raw)
    assert source.encode(edited) == written
    again = decode(written)  # and once more: nothing moves
    assert again.encode(again.text) == written


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "registry.py"
    path.write_bytes(b"x = 1\ny = '\xff'\n")
    with pytest.raises(ScaffoldError) as err:
        read_source(path)
    assert str(err.value) == f"{path}:2: not UTF-8 (re-save the file as UTF-8)"


def test_a_lone_cr_is_named_as_such(tmp_path):
    path = tmp_path / "registry.py"
    path.write_bytes(b"x = 1\r\ny = 2\rz = 3\n")
    with pytest.raises(ScaffoldError, match=r":2: this line ends in a lone CR"):
        read_source(path)


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "registry.py"
    path.write_bytes(b"# padding\n" * (MAX_BYTES // 10 + 1))
    with pytest.raises(ScaffoldError, match="too large for scaffold"):
        read_source(path)


def test_a_dangling_symlink_says_so(tmp_path):
    path = tmp_path / "registry.py"
    path.symlink_to(tmp_path / "gone.py")
    with pytest.raises(ScaffoldError, match="a dangling symlink \\(to .*gone.py"):
        read_source(path)
