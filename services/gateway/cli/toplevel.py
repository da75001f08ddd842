"""The top-level commands that are programs of their own (``status``, ``simulate``, ``keygen``, ``lab``), as plain data.

The registry (:mod:`paceline.cli.commands`) makes levels of them for help, the shell and completion;
:func:`paceline.cli.main.dispatch` runs them straight from here, so a one-shot ``paceline status``
does not build the crm language's command tables it never uses.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple


class TopLevel(NamedTuple):
    name: str
    summary: str
    args: str
    handler: str  # module:function taking (Options, args) -> exit status
    shell: bool = True  # offered by the interactive shell
    detail: str = ""  # what ``help NAME`` / ``NAME --help`` adds after the usage


#: ``status --help``: crmsh's sub-options and the crm_mon switches they stand for.
STATUS_DETAIL = """without a section, as crm status: crm_mon -1 -r (inactive resources too)
sections (crmsh's words, or crm_mon's switches; any of them replaces the default -r):
  inactive    -r, --inactive               resources not running too
  bynode      -n, --group-by-node          resources under the node they run on
  failcounts  -f, --failcounts             Migration Summary: fail counts per node
  ops         -o, --operations             Operations: each resource's operation history
  timing      -t, --timing-details         the history with times (implies ops)
              -A, --show-node-attributes   Node Attributes
  tickets     -c, --tickets                Tickets: granted or revoked, standby, last granted
  full        -n -r -f -t -c (crmsh's -ncrft)
  -1, --one-shot: as crm_mon -1, so without inactive resources unless -r (the page is shown once
              unless --watch)
--output-as json|xml: the facts for tools (sections apply to the text page only)
--watch: redraw on every change (crm_mon without -1); not -w, which is the global --wait
  given before the command (paceline -w resource stop X)
configuration errors (what crm_mon logs) go to stderr, one line each"""


COMMANDS = {c.name: c for c in (
    TopLevel("status", "the cluster page as crm_mon -1 -r prints it (crm status), or for tools; --watch redraws "
             "on changes",
             "[full|bynode|inactive|ops|timing|failcounts|tickets ...] [-1rnfotAc] [--output-as text|json|xml] "
             "[--watch]",
             "paceline.cli.status:command", detail=STATUS_DETAIL),
    TopLevel("events", "the bus's messages as they happen, decoded, one line each (--json for jq)",
             "[--json] [--all] [--count N] [--timeout SECONDS] [FILTER]", "paceline.cli.events:command",
             shell=False),
    TopLevel("simulate", "the scheduler offline, like crm_simulate", "-x FILE [-S] [-s]",
             "paceline.cli.simulate:command", shell=False),
    TopLevel("keygen", "the cluster's credentials (a CA, bus server certificates, an nkey per user), as "
             "corosync-keygen",
             "--cluster NAME --nodes A,B[,C] [--address NODE=ADDR] [--dir DIR] [--force | --if-missing]",
             "paceline.cli.keygen:command", shell=False),
    TopLevel("cluster", "install on real machines, as crm cluster init/join: credentials, bus server, "
             "configuration, systemd units",
             "init --name NAME --address ADDR | join --cluster-node NODE --bundle FILE --address ADDR | "
             "remove NODE | status | check [SERVICE...]  [--node NAME] [--root DIR] [--no-systemd]",
             "paceline.cli.cluster:command",
             shell=False),
    TopLevel("tools", "where Pacemaker's tools answered by this cluster are (crm_mon, cibadmin, crm_attribute, "
             "crm_node...), to put first on a client's PATH", "[path | env | list]", "paceline.cli.tools:command",
             shell=False),
    TopLevel("lab", "a cluster of real processes on this machine",
             "up --nodes A,B [--witness W] [--no-watchdog] [--netns] | status | kill NODE | revive NODE | "
             "pause NODE | resume NODE | restart NODE PROCESS | down", "paceline.lab.command:command", shell=False),
)}


def run(name: str, opts: object, args: list[str]) -> int:
    module, _, function = COMMANDS[name].handler.partition(":")
    return int(getattr(importlib.import_module(module), function)(opts, args))
