"""``paceline tools``: where Pacemaker's command-line tools answered by this cluster are, for PATH.

Programs written for Pacemaker run ``crm_mon``, ``cibadmin``, ``crm_attribute``, ``crm_node``... by name
(crmsh, scripts) or by a configured path (ha_cluster_exporter's ``--crm-mon-path``). Paceline's stand-ins
for them are one folder of small scripts - the same folder the executor gives agents as ``HA_SBIN_DIR`` -
which a sysadmin puts first on a client's PATH, without replacing Pacemaker's own tools system-wide:

- ``paceline tools path``: the folder (``export PATH="$(paceline tools path):$PATH"``);
- ``paceline tools env``: the shell lines that put it first on PATH and name this interpreter
  (``eval "$(paceline tools env)"``), for a PATH on which ``paceline`` itself is not;
- ``paceline tools list``: each tool and what it answers.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import sys

from paceline.cli.invocation import CliError

#: The stand-ins, in the folder; the first four are what agents call.
TOOLS = {
    "crm_attribute": "node attributes, cluster options, promotion scores (crm_master's too)",
    "crm_master": "a resource's promotion score (crm_attribute --promotion)",
    "attrd_updater": "transient node attributes",
    "crm_node": "this node's name, the nodes, the partition, quorum",
    "crm_mon": "the status page once (-1), or crm_mon's XML (-X, --output-as xml)",
    "cibadmin": "query, create, modify, replace, delete, patch the CIB (one version per write)",
    "crm_ticket": "tickets: list (-l -L -w -q -c), grant/revoke (--force), standby/activate, attributes",
}

USAGE = """\
usage: paceline tools [path | env | list]
  path  the folder of Pacemaker's tools answered by this cluster: export PATH="$(paceline tools path):$PATH"
  env   the shell lines that put it first on PATH and name this interpreter: eval "$(paceline tools env)"
  list  each tool and what it answers
"""


def tools_dir() -> str:
    """The stand-ins' folder: ``sbin`` in the executor's package, located without importing it."""
    spec = importlib.util.find_spec("paceline.executor")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        folder = os.path.join(location, "sbin")
        if os.path.isfile(os.path.join(folder, "crm_mon")):
            return folder
    raise CliError("the Pacemaker tool stand-ins are not installed with this paceline (paceline.executor/sbin)")


def command(_opts: object, args: list[str]) -> int:
    """``paceline tools path|env|list``."""
    what = args[0] if args else "path"
    if what in ("--help", "-h", "help"):
        print(USAGE, end="")
        return 0
    if args[1:] or what not in ("path", "env", "list"):
        raise CliError("usage: paceline tools [path | env | list]")
    folder = tools_dir()
    if what == "path":
        print(folder)
    elif what == "env":
        print(f"export PATH={shlex.quote(folder)}:\"$PATH\"")
        print(f"export PACELINE_PYTHON={shlex.quote(sys.executable)}")
    else:
        width = max(map(len, TOOLS))
        for name, text in TOOLS.items():
            print(f"{name:<{width}}  {text}")
    return 0
