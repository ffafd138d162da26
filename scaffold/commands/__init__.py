"""Subcommands; each module has ``main(argv) -> int``."""
