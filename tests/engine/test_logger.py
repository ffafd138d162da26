"""``vllm_stub.logger``: the once-only methods and the one-line error text."""

from __future__ import annotations

import logging

import pytest

from vllm_stub.logger import first_line, init_logger


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (RuntimeError("ninja failed\nFAILED: ops.o\n..."), "ninja failed"),
        (RuntimeError("\n\n  error: no compiler\nmore"), "  error: no compiler"),
        (RuntimeError(""), "RuntimeError"),
        (OSError(), "OSError"),
        (ValueError("\n \n"), "ValueError"),
    ],
)
def test_first_line_keeps_the_line_that_says_what_went_wrong(
    error: BaseException, line: str
) -> None:
    assert first_line(error) == line


def test_warning_once_logs_a_message_and_arguments_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = init_logger("vllm_stub.test_logger_once")
    with caplog.at_level(logging.WARNING, logger="vllm_stub.test_logger_once"):
        for _ in range(3):
            logger.warning_once("slow path for %s", "a")
        logger.warning_once("slow path for %s", "b")
    assert [record.getMessage() for record in caplog.records] == [
        "slow path for a",
        "slow path for b",
    ]
