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


COMMANDS = {c.name: c for c in (
    TopLevel("status", "the cluster page in crm_mon's layout, or for tools; --watch redraws on changes",
             "[--output-as text|json|xml] [--watch]", "paceline.cli.status:command"),
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
             "remove NODE | status | check [SERVICE...]  [--node NAME] [--root DIR] [--no-systemd]", "paceline.cli.cluster:command",
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
