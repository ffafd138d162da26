"""The CLI skeleton: help, version, and the core never importing torch."""

from __future__ import annotations

import argparse
import importlib

import pytest

from scaffold import __version__
from scaffold.cli import COMMANDS, main


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"scaffold {__version__}"


@pytest.mark.parametrize("argv", [[], ["no-such-command"]])
def test_no_or_unknown_command_exits_2(argv):
    assert main(argv) == 2


@pytest.mark.parametrize(
    ("args", "module"),
    [
        (["--help"], "scaffold.cli"),
        (["check"], "scaffold.check"),
        (
            ["new-model", "MistralForCausalLM", "--dry-run", "--models", "M"],
            "scaffold.plans.new_model",
        ),
        (["remove", "LlamaForCausalLM", "--dry-run"], "scaffold.plans.remove"),
    ],
)
def test_core_commands_import_neither_torch_nor_transformers(
    args, module, imported_by, embedded_tree
):
    imported = imported_by(*args, cwd=embedded_tree)
    assert module in imported  # the command really ran
    assert not {"torch", "transformers"} & imported


def test_debug_shows_the_traceback_of_bad_input(capsys):
    assert main(["new-model", "lower"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert main(["new-model", "lower", "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith("e.g. MistralForCausalLM")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_and_positional_has_help(command):
    module = importlib.import_module(f"scaffold.commands.{command.replace('-', '_')}")
    parser = module.build_parser()
    undocumented = [
        action.dest
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert undocumented == []
    if any("--json" in action.option_strings for action in parser._actions):
        assert "--json" in parser.format_help()
