"""The ``govbot`` command line; logging is configured here and nowhere else.

Exit codes: 0 no error-level finding, 1 error-level findings, 2 govbot could not run
(usage, unreadable input, settings or policy errors). A failure to run is always one
line on stderr, ``govbot: <file>: <cause>``; the trace only with ``--debug``.

The commands live by concern: :mod:`.offline` (check, classify, rules, blueprint),
:mod:`.bot` (review, escalate, digest, db, backfill, index), :mod:`.doctor`,
:mod:`.serve` (serve, sandbox) and :mod:`.demo`; :mod:`.common` is what they share. The command line alone
imports lazily (inside commands), so that ``govbot check`` does not load the bot.
"""

from __future__ import annotations

import gc

import click

import govbot
from govbot.cli import bot, demo, doctor, offline, serve
from govbot.cli.common import GovbotGroup, configure_logging


@click.group(
    name="govbot", cls=GovbotGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option("--debug", is_flag=True, help="Debug logs and full traces on failure.")
@click.option("-v", "--verbose", count=True, help="More log output on stderr.")
@click.version_option(govbot.__version__, prog_name="govbot")
def cli(debug: bool, verbose: int) -> None:
    """govbot: API governance and blueprint review for a Gerrit community."""
    configure_logging(debug, verbose)


for _module in (offline, bot, doctor, serve, demo):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


# Young collections every YOUNG_COLLECTION allocations of container objects, not 700.
# A command's data (a loaded spec, its index, the findings) lives until the command
# ends, so the frequent young collections find almost nothing to free, yet took 8% of
# `govbot check`'s CPU time on a 311 KB spec (benchmarks/check.py --cold --case small).
# Still small enough that a long-running command (serve, the review loop) frees its
# reference cycles within moments.
YOUNG_COLLECTION = 10_000


def main() -> None:
    """Console-script entry point.

    What the imports made (modules, classes, functions) lives as long as the process:
    frozen, the collector no longer walks it on every full collection. Frozen again on
    the way out, everything is left to the process's exit rather than to a last full
    collection over every object the command built (40 ms of the same check).
    """
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])
    try:
        cli(prog_name="govbot")
    finally:
        gc.freeze()
