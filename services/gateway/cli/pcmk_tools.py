"""Pacemaker's command-line tools as resource agents use them, answered by the Paceline cluster.

OCF agents publish promotion scores and node attributes by running
``${HA_SBIN_DIR}/crm_attribute``, ``crm_master``, ``attrd_updater`` and
``crm_node``. A Paceline cluster has no Pacemaker daemons to answer them, so
the executor points ``HA_SBIN_DIR`` at :data:`paceline.executor.runner.SBIN_DIR`, whose four small
scripts run :func:`main` with the executor's own interpreter. Each call is
one request to a typed endpoint of the gateway (``attrd_updater -A``: one more
per node) over the same blocking one-shot path as the ``paceline`` command
(:class:`paceline.client.gateway.GatewayClient`):

- ``gateway.attribute`` (:class:`~paceline.shared.messages.AttributeRequest`):
  get, set or delete one node attribute - transient (the status section:
  ``-l reboot``, ``attrd_updater``), permanent (``-l forever``) or utilization
  (``-z``) - or cluster option (crm_config, rsc_defaults, op_defaults); the
  gateway makes the crm command's own edit (``node status-attr``, ``configure
  property``, ...), with its ids;
- ``gateway.nodes`` (:class:`~paceline.shared.messages.NodesRequest`): the
  nodes with id, name and online state, and quorum, for ``crm_node -l/-p/-q/-i``.

Only what agents commonly use is implemented; anything else is a usage error
(exit 64) or "unimplemented" (exit 3). Exit codes are Pacemaker's (``crm_error
-X``): 105 no such object, 102 not connected, 64 usage. Errors are one line on
stderr, never a traceback. This module imports nothing heavy at load time:
agents call it on every monitor.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO, TypeVar

from paceline.shared import VERSION

if TYPE_CHECKING:
    from collections.abc import Mapping

    from paceline.client.gateway import GatewayClient
    from paceline.shared.messages import Message

R = TypeVar("R", bound="Message")

TOOLS = ("crm_attribute", "crm_master", "attrd_updater", "crm_node")
#: Tools for the programs that monitor and configure a cluster (paceline.cli.pcmk_clients).
CLIENT_TOOLS = ("crm_mon", "cibadmin")
#: The tickets' tool (paceline.cli.crm_ticket).
TICKET_TOOL = "crm_ticket"

# Pacemaker's exit codes (crm_exit_t) for what these tools can report.
EX_OK = 0
EX_ERROR = 1
EX_UNIMPLEMENTED = 3
EX_USAGE = 64
EX_SOFTWARE = 70
EX_DISCONNECT = 102
EX_NOSUCH = 105

#: A tool call must fit in an agent's operation timeout (typically 20 s).
REQUEST_TIMEOUT = 10.0

#: crm_attribute scopes that are sets of cluster options.
OPTION_SCOPES = ("crm_config", "rsc_defaults", "op_defaults")
NODE_SCOPES = ("nodes", "status")
LIFETIMES = {"reboot": "status", "forever": "nodes"}


class ToolError(Exception):
    """What went wrong, in one line, and the exit code that says so."""

    def __init__(self, message: str, code: int = EX_ERROR):
        super().__init__(message)
        self.code = code


def usage(message: str) -> ToolError:
    return ToolError(message, EX_USAGE)


# ------------------------------------------------------------------ option parsing

FLAG, VALUE, OPTIONAL = 0, 1, 2


class OptionSpec:
    """One tool's options: ``-x`` and ``--long`` names mapped to a destination and an arity."""

    def __init__(self, options: list[tuple[str, str, int]]):
        self.short: dict[str, tuple[str, int]] = {}
        self.long: dict[str, tuple[str, int]] = {}
        for names, dest, arity in options:
            for name in names.split("|"):
                if name.startswith("--"):
                    self.long[name[2:]] = (dest, arity)
                else:
                    self.short[name[1:]] = (dest, arity)


def parse_options(spec: OptionSpec, argv: list[str]) -> list[tuple[str, str | None]]:
    """The options of ``argv`` in the order given, as GLib reads them for Pacemaker's tools.

    Short options cluster (``-qG``) and take their value glued or as the next
    word (``-nfoo``, ``-n foo``); long ones as ``--name=foo`` or ``--name foo``.
    An optional value (``-p``/``--promotion``) is the glued part or the next
    word when that does not look like an option. Order is kept: the last of
    conflicting commands wins, as in Pacemaker.
    """
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            if i < len(argv):
                raise usage(f"unexpected argument {argv[i]!r}")
            break
        if arg.startswith("--"):
            name, eq, glued = arg[2:].partition("=")
            if name not in spec.long:
                raise usage(f"unknown option --{name}")
            dest, arity = spec.long[name]
            if arity == FLAG:
                if eq:
                    raise usage(f"option --{name} takes no value")
                out.append((dest, None))
            elif eq:
                out.append((dest, glued))
            elif arity == VALUE:
                if i >= len(argv):
                    raise usage(f"option --{name} needs a value")
                out.append((dest, argv[i]))
                i += 1
            elif i < len(argv) and not argv[i].startswith("-"):
                out.append((dest, argv[i]))
                i += 1
            else:
                out.append((dest, None))
            continue
        if not arg.startswith("-") or arg == "-":
            raise usage(f"unexpected argument {arg!r}")
        j = 1
        while j < len(arg):
            letter = arg[j]
            j += 1
            if letter not in spec.short:
                raise usage(f"unknown option -{letter}")
            dest, arity = spec.short[letter]
            if arity == FLAG:
                out.append((dest, None))
                continue
            rest = arg[j:]
            if rest:
                out.append((dest, rest[1:] if arity == OPTIONAL and rest.startswith("=") else rest))
            elif arity == VALUE:
                if i >= len(argv):
                    raise usage(f"option -{letter} needs a value")
                out.append((dest, argv[i]))
                i += 1
            elif i < len(argv) and not argv[i].startswith("-"):
                out.append((dest, argv[i]))
                i += 1
            else:
                out.append((dest, None))
            break
    return out


_COMMON = [("-h|--help", "help", FLAG), ("-$|--version", "version", FLAG), ("-V|--verbose", "verbose", FLAG)]

# What crm_attribute and crm_master (its promotion-score shorthand) both take.
_ONE_ATTRIBUTE = [
    ("-v|--update|--attr-value", "update", VALUE),
    ("-D|--delete|--delete-attr", "delete", FLAG),
    ("-G|--query|--get-value", "query", FLAG),
    ("-q|-Q|--quiet", "quiet", FLAG),
    ("-N|-U|--node|--uname", "node", VALUE),
    ("-l|--lifetime", "lifetime", VALUE),
    ("-i|--id|--attr-id", "id", VALUE),
]

CRM_ATTRIBUTE = OptionSpec([
    *_COMMON,
    *_ONE_ATTRIBUTE,
    ("-n|--name", "name", VALUE),
    ("-p|--promotion", "promotion", OPTIONAL),
    ("-t|--type", "type", VALUE),
    ("-d|--default", "default", VALUE),
    ("-z|--utilization", "utilization", FLAG),
    ("-s|--set-name", "set_name", VALUE),
    ("-P|--pattern", "pattern", VALUE),
])

CRM_MASTER = OptionSpec([*_COMMON, *_ONE_ATTRIBUTE, ("-r|--resource", "resource", VALUE)])

ATTRD_UPDATER = OptionSpec([
    *_COMMON,
    ("-n|--name", "name", VALUE),
    ("-U|-v|--update", "update", VALUE),
    ("-B|--update-both", "update_both", VALUE),
    ("-Y|--update-delay", "update_delay", FLAG),
    ("-Q|--query", "query", FLAG),
    ("-D|--delete", "delete", FLAG),
    ("-R|--refresh", "refresh", FLAG),
    ("-A|--all", "all", FLAG),
    ("-N|--node", "node", VALUE),
    ("-d|--delay", "delay", VALUE),
    ("-p|--private", "private", FLAG),
    ("-s|--set", "set_name", VALUE),
    ("-S|--section", "section", VALUE),
    ("-l|--lifetime", "lifetime", VALUE),
    ("-q|--quiet", "quiet", FLAG),
])

CRM_NODE = OptionSpec([
    *_COMMON,
    ("-n|--name", "name", FLAG),
    ("-l|--list", "list", FLAG),
    ("-p|--partition", "partition", FLAG),
    ("-q|--quorum", "quorum", FLAG),
    ("-i|--cluster-id", "cluster_id", FLAG),
    ("-N|--name-for-id", "name_for_id", VALUE),
    ("-R|--remove", "remove", VALUE),
    ("-f|--force", "force", FLAG),
    ("-Q|--quiet", "quiet", FLAG),
])


# ------------------------------------------------------------------ what a call asks for

def local_node(env: Mapping[str, str]) -> str:
    """This node's name: the executor's (PACELINE_NODE), else the operation's node, else ``uname -n``."""
    return env.get("PACELINE_NODE") or env.get("OCF_RESKEY_CRM_meta_on_node") or os.uname().nodename


def instance_resource(env: Mapping[str, str]) -> str:
    """The resource of the calling agent: OCF_RESOURCE_INSTANCE without a clone's ``:N`` suffix."""
    instance = env.get("OCF_RESOURCE_INSTANCE", "")
    base, colon, number = instance.rpartition(":")
    return base if colon and number.isdigit() else instance


class AttrRequest:
    """One crm_attribute / crm_master / attrd_updater call: a query, update or delete of one attribute."""

    __slots__ = ("all_nodes", "command", "default", "name", "node", "quiet", "scope", "set_name", "tool",
                 "utilization", "value")

    def __init__(self, tool: str, command: str, name: str, scope: str, node: str = "", value: str | None = None,
                 quiet: bool = False, default: str | None = None, utilization: bool = False,
                 set_name: str = "", all_nodes: bool = False):
        self.tool, self.command, self.name, self.scope, self.node = tool, command, name, scope, node
        self.value, self.quiet, self.default, self.utilization = value, quiet, default, utilization
        self.set_name, self.all_nodes = set_name, all_nodes

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"AttrRequest({fields})"


class Info:
    """``--help`` or ``--version``: text to print, exit 0."""

    def __init__(self, text: str):
        self.text = text


def _info(tool: str, options: list[tuple[str, str | None]]) -> Info | None:
    for dest, _ in options:
        if dest == "help":
            return Info(HELP[tool])
        if dest == "version":
            return Info(f"Paceline {VERSION} ({tool} for resource agents, answered by the Paceline cluster)")
    return None


def _promotion_name(resource: str | None, env: Mapping[str, str]) -> str:
    rsc = resource or instance_resource(env)
    if not rsc:
        raise usage("no resource for the promotion score: run from an OCF agent (OCF_RESOURCE_INSTANCE) or "
                    "name it (crm_attribute -p RSC, crm_master -r RSC)")
    return f"master-{rsc}"


def _scope_from(dest: str, value: str) -> str:
    if dest == "lifetime":
        if value not in LIFETIMES:
            raise usage(f"unknown lifetime {value!r} (expected reboot or forever)")
        return LIFETIMES[value]
    if value not in (*NODE_SCOPES, *OPTION_SCOPES):
        raise usage(f"unknown type {value!r} (expected nodes, status, crm_config, rsc_defaults or op_defaults)")
    return value


def crm_attribute_request(argv: list[str], env: Mapping[str, str], tool: str = "crm_attribute") -> AttrRequest | Info:
    """What ``crm_attribute ARGS`` asks for (Pacemaker's defaults for scope, node and command)."""
    options = parse_options(CRM_ATTRIBUTE, argv)
    info = _info(tool, options)
    if info:
        return info
    command, name, value, node, scope = "query", "", None, "", ""
    promotion: str | None = None
    promoted = quiet = utilization = False
    default: str | None = None
    set_name = ""
    for dest, arg in options:
        if dest in ("query", "delete"):
            command = dest
        elif dest == "update":
            command, value = "update", arg
        elif dest == "name":
            name = arg or ""
        elif dest == "promotion":
            promoted, promotion = True, arg
        elif dest == "node":
            node = arg or ""
        elif dest in ("lifetime", "type"):
            scope = _scope_from(dest, arg or "")
        elif dest == "quiet":
            quiet = True
        elif dest == "default":
            default = arg
        elif dest == "utilization":
            utilization = True
        elif dest == "set_name":
            set_name = arg or ""
        elif dest == "pattern":
            raise ToolError(f"{tool}: -P/--pattern is not supported by Paceline; name the attribute with -n",
                            EX_UNIMPLEMENTED)
    if promoted:
        name = _promotion_name(promotion, env)
    if not name:
        raise usage("an attribute name is required (-n NAME); listing every attribute is not supported")
    if not scope:
        scope = "status" if promoted else "nodes" if node or utilization else "crm_config"
    if utilization and scope != "nodes":
        raise usage("-z/--utilization attributes are permanent node attributes (-l forever or -t nodes)")
    node = (node or local_node(env)) if scope in NODE_SCOPES else ""
    return AttrRequest(tool, command, name, scope, node, value, quiet, default, utilization, set_name)


def crm_master_request(argv: list[str], env: Mapping[str, str]) -> AttrRequest | Info:
    """``crm_master``: ``crm_attribute --promotion`` for the agent's resource (or ``-r RSC``), lifetime reboot."""
    options = parse_options(CRM_MASTER, argv)
    info = _info("crm_master", options)
    if info:
        return info
    resource = ""
    # every other option of crm_master is crm_attribute's long option of the same name
    translated: list[str] = ["--lifetime", "reboot"]
    for dest, arg in options:
        if dest == "resource":
            resource = arg or ""
        elif dest in ("verbose", "id"):
            continue
        elif arg is None:
            translated.append(f"--{dest}")
        else:
            translated.append(f"--{dest}={arg}")
    translated.append(f"--promotion={resource}" if resource else "--promotion")
    return crm_attribute_request(translated, env, tool="crm_master")


def attrd_updater_request(argv: list[str], env: Mapping[str, str]) -> AttrRequest | Info | None:
    """What ``attrd_updater ARGS`` asks for; None for the accepted no-ops (``-R``, ``-Y``).

    Transient attributes only. Dampening (``-d``, ``-B``, ``-Y``) is accepted and
    ignored: every update is written at once. ``-p/--private`` attributes are
    stored like any other transient attribute (visible in the CIB).
    """
    options = parse_options(ATTRD_UPDATER, argv)
    info = _info("attrd_updater", options)
    if info:
        return info
    command, name, value, node = "query", "", None, ""
    all_nodes = quiet = False
    for dest, arg in options:
        if dest in ("query", "delete", "refresh", "update_delay"):
            command = dest
        elif dest in ("update", "update_both"):
            command, value = "update", arg
        elif dest == "name":
            name = arg or ""
        elif dest == "node":
            node = arg or ""
        elif dest == "all":
            all_nodes = True
        elif dest == "quiet":
            quiet = True
    if command == "refresh":
        return None
    if not name:
        raise usage("attrd_updater: the attribute name is required (-n NAME)")
    if command == "update_delay":
        return None
    if all_nodes and command != "query":
        raise usage("-A/--all only goes with -Q/--query")
    return AttrRequest("attrd_updater", command, name, "status", node or local_node(env), value, quiet=quiet,
                       all_nodes=all_nodes)


def crm_node_request(argv: list[str]) -> tuple[str, str] | Info:
    """``crm_node ARGS``: the command (name, list, partition, quorum, cluster_id, name_for_id) and its value."""
    options = parse_options(CRM_NODE, argv)
    info = _info("crm_node", options)
    if info:
        return info
    command: tuple[str, str] | None = None
    for dest, arg in options:
        if dest in ("name", "list", "partition", "quorum", "cluster_id", "name_for_id", "remove"):
            command = (dest, arg or "")
    if command is None:
        raise usage("crm_node: no command given (one of -n, -l, -p, -q, -i, -N ID)")
    if command[0] == "remove":
        raise ToolError("crm_node: -R/--remove is not supported by Paceline; use 'paceline node delete NODE'",
                        EX_UNIMPLEMENTED)
    return command


# ------------------------------------------------------------------ output

def format_attribute(scope: str, name: str, value: str, quiet: bool) -> str:
    """A query's answer as crm_attribute prints it (two spaces after the scope are Pacemaker's)."""
    return value if quiet else f"scope={scope}  name={name} value={value}"


def format_attrd(name: str, node: str, value: str) -> str:
    return f'name="{name}" host="{node}" value="{value}"'


def partition_line(nodes: list[dict]) -> str:
    return " ".join(n["name"] for n in nodes if n.get("online"))


def list_lines(nodes: list[dict]) -> list[str]:
    """``crm_node -l``: ``ID NAME STATE``, STATE ``member`` for online nodes and ``lost`` for the rest."""
    return [f"{n.get('id') or n['name']} {n['name']} {'member' if n.get('online') else 'lost'}" for n in nodes]


HELP = {
    "crm_attribute": """\
usage: crm_attribute -n NAME [-G | -v VALUE | -D] [-N NODE] [-l reboot|forever] [-t nodes|status|crm_config]
                     [-p[RSC]] [-q] [-d DEFAULT] [-z] [-s SET]
Paceline's crm_attribute for resource agents: node attributes (-l reboot: transient, in the status
section; -l forever: permanent), cluster options (-t crm_config) and promotion scores (-p).
""",
    "crm_master": """\
usage: crm_master [-G | -v VALUE | -D] [-N NODE] [-l reboot|forever] [-q] [-r RSC]
Paceline's crm_master: the promotion score master-RSC of the calling agent's resource.
""",
    "attrd_updater": """\
usage: attrd_updater -n NAME [-U VALUE | -Q [-A] | -D] [-N NODE] [-d DELAY] [-p]
Paceline's attrd_updater: transient node attributes; dampening (-d, -B, -Y) is accepted and ignored,
private (-p) attributes are stored like the others.
""",
    "crm_node": """\
usage: crm_node -n | -l | -p | -q | -i | -N ID
Paceline's crm_node: this node's name, the known nodes, the online ones, quorum.
""",
}


# ------------------------------------------------------------------ the cluster

class Cluster:
    """The gateway, reached like ``paceline ...`` does: one blocking connection for the whole call."""

    def __init__(self, tool: str):
        self.tool = tool
        self.client: GatewayClient | None = None

    def _client(self) -> GatewayClient:
        if self.client is None:
            from paceline.client.gateway import ClientError, GatewayClient, find_bus, find_credential

            try:
                url, cluster = find_bus(None, None, None)
                self.client = GatewayClient(url, cluster, find_credential(None))
            except ClientError as exc:
                raise ToolError(f"{self.tool}: {exc}", EX_DISCONNECT) from None
            except ValueError as exc:        # a cluster name that cannot be a subject token
                raise ToolError(f"{self.tool}: {exc}", EX_DISCONNECT) from None
        return self.client

    def call(self, request: Message, reply: type[R], timeout: float = REQUEST_TIMEOUT) -> R:
        """One typed request to the gateway; no bus or gateway is EX_DISCONNECT, a refusal a ToolCrmError."""
        from paceline.client.gateway import ClientError

        client = self._client()
        try:
            return client.call(request, reply, timeout=timeout)
        except ClientError as exc:
            if not exc.code:         # no bus, no gateway, no answer
                raise ToolError(f"{self.tool}: cannot reach the cluster: {exc}", EX_DISCONNECT) from None
            raise ToolCrmError(str(exc), exc.code) from None

    def attribute(self, req: AttrRequest, command: str, node: str | None = None) -> str | None:
        """``get`` (the value, None when not set), ``set`` or ``delete`` of the attribute ``req`` names."""
        from paceline.shared.messages import AttributeReply, AttributeRequest

        value = (req.value or "") if command == "set" else None
        request = AttributeRequest(command=command, scope=req.scope, name=req.name, node=req.node if node is None
                                   else node, value=value, utilization=req.utilization, set_name=req.set_name)
        return self.call(request, AttributeReply).value

    def nodes(self) -> tuple[list[dict], bool]:
        """The nodes the CIB knows (name, id, online) and whether the partition has quorum."""
        from paceline.shared.messages import NodesReply, NodesRequest

        reply = self.call(NodesRequest(), NodesReply)
        return [n.to_body() for n in reply.nodes], reply.quorate

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


class ToolCrmError(ToolError):
    """The gateway refused a request (an unknown node, a bad value); ``kind`` is its error code."""

    def __init__(self, message: str, kind: str):
        super().__init__(message, EX_NOSUCH if kind == "crm" else EX_ERROR)
        self.kind = kind


def _crm_reason(exc: ToolCrmError) -> str:
    """The gateway's message without the crm command it names (``node status-attr: ...``)."""
    text = str(exc)
    head, sep, rest = text.partition(": ")
    return rest if sep and head.startswith(("node ", "configure ")) else text


# ------------------------------------------------------------------ running a call

COMMANDS = {"query": "get", "update": "set", "delete": "delete"}


def run_attribute(req: AttrRequest, cluster: Cluster, out: TextIO) -> int:
    """Query, update or delete one attribute; answers printed on ``out``."""
    if req.scope in OPTION_SCOPES:
        return _run_option(req, cluster, out)
    if req.all_nodes:
        return _query_all_nodes(req, cluster, out)
    try:
        value = cluster.attribute(req, COMMANDS[req.command])
    except ToolCrmError as exc:
        raise ToolError(f"{req.tool}: {_crm_reason(exc)}", exc.code) from None
    if req.command != "query":
        return EX_OK
    if value is None:
        return _missing(req, out)
    _answer(req, value, out)
    return EX_OK


def _answer(req: AttrRequest, value: str, out: TextIO) -> None:
    if req.tool == "attrd_updater":
        print(format_attrd(req.name, req.node, value), file=out)
    else:
        print(format_attribute(req.scope, req.name, value, req.quiet), file=out)


def _missing(req: AttrRequest, out: TextIO) -> int:
    if req.default is not None:
        _answer(req, req.default, out)
        return EX_OK
    where = f"node {req.node}" if req.node else "the cluster"
    what = {"status": "transient attribute", "nodes": "utilization attribute" if req.utilization
            else "node attribute"}.get(req.scope, f"{req.scope} option")
    raise ToolError(f"{req.tool}: no {what} {req.name!r} on {where}", EX_NOSUCH)


def _query_all_nodes(req: AttrRequest, cluster: Cluster, out: TextIO) -> int:
    """``attrd_updater -Q -A``: one line per node that has the attribute."""
    nodes, _ = cluster.nodes()
    found = 0
    for node in nodes:
        try:
            value = cluster.attribute(req, "get", node=node["name"])
        except ToolCrmError as exc:
            if exc.kind == "crm":
                continue
            raise ToolError(f"{req.tool}: {_crm_reason(exc)}", exc.code) from None
        if value is not None:
            print(format_attrd(req.name, node["name"], value), file=out)
            found += 1
    if not found:
        raise ToolError(f"{req.tool}: no node has the transient attribute {req.name!r}", EX_NOSUCH)
    return EX_OK


def _run_option(req: AttrRequest, cluster: Cluster, out: TextIO) -> int:
    try:
        value = cluster.attribute(req, COMMANDS[req.command])
    except ToolCrmError as exc:
        if req.command == "delete" and exc.kind == "conflict":
            raise ToolError(f"{req.tool}: the configuration kept changing; {req.name} was not deleted") from None
        raise ToolError(f"{req.tool}: {_crm_reason(exc)}", EX_ERROR) from None
    if req.command != "query":
        return EX_OK
    if value is None:
        return _missing(req, out)
    _answer(req, value, out)
    return EX_OK


def run_crm_node(command: tuple[str, str], env: Mapping[str, str], cluster: Cluster | None, out: TextIO) -> int:
    what, arg = command
    if what == "name":
        print(local_node(env), file=out)
        return EX_OK
    assert cluster is not None
    nodes, quorate = cluster.nodes()
    if what == "quorum":
        print(1 if quorate else 0, file=out)
    elif what == "partition":
        print(partition_line(nodes), file=out)
    elif what == "list":
        for line in list_lines(nodes):
            print(line, file=out)
    else:
        wanted = local_node(env) if what == "cluster_id" else arg
        key, answer = ("name", "id") if what == "cluster_id" else ("id", "name")
        match = next((n for n in nodes if str(n.get(key)) == wanted), None)
        if match is None:
            raise ToolError(f"crm_node: no node {'named' if key == 'name' else 'with id'} {wanted!r} in the cluster",
                            EX_NOSUCH)
        print(match.get(answer) or match["name"], file=out)
    return EX_OK


def run(tool: str, argv: list[str], env: Mapping[str, str] | None = None, out: TextIO | None = None) -> int:
    """Run one tool call; errors are raised as :class:`ToolError`."""
    env = os.environ if env is None else env
    out = sys.stdout if out is None else out
    request: AttrRequest | tuple[str, str] | Info | None
    if tool == "crm_node":
        request = crm_node_request(argv)
    elif tool == "attrd_updater":
        request = attrd_updater_request(argv, env)
    elif tool == "crm_master":
        request = crm_master_request(argv, env)
    elif tool == "crm_attribute":
        request = crm_attribute_request(argv, env)
    elif tool in CLIENT_TOOLS:       # crm_mon, cibadmin: the clients' tools, loaded only for them
        from paceline.cli import pcmk_clients

        return pcmk_clients.run(tool, argv, out=out)
    elif tool == TICKET_TOOL:
        from paceline.cli import crm_ticket

        return crm_ticket.run(argv, out)
    else:
        raise usage(f"unknown tool {tool!r} (one of {', '.join((*TOOLS, *CLIENT_TOOLS, TICKET_TOOL))})")
    if request is None:
        return EX_OK
    if isinstance(request, Info):
        print(request.text.rstrip("\n"), file=out)
        return EX_OK
    if isinstance(request, tuple) and request[0] == "name":  # the local node's name needs no cluster
        return run_crm_node(request, env, None, out)
    cluster = Cluster(tool)
    try:
        if isinstance(request, tuple):
            return run_crm_node(request, env, cluster, out)
        return run_attribute(request, cluster, out)
    finally:
        cluster.close()


def main(tool: str | None = None, argv: list[str] | None = None) -> int:
    """Entry point of the wrappers: ``python -m paceline.cli.pcmk_tools TOOL ARGS...``.

    Ends the process itself once the output is out (no module teardown: a
    promotable agent runs this on every monitor).
    """
    if tool is None:
        args = sys.argv[1:]
        tool, argv = (args[0], args[1:]) if args else ("", [])
    argv = list(argv or [])
    name = tool or "pcmk_tools"
    try:
        code = run(name, argv)
    except ToolError as exc:
        message = str(exc)
        if not message.startswith(f"{name}:"):
            message = f"{name}: {message}"
        print(message, file=sys.stderr)
        code = exc.code
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = EX_OK
    except Exception as exc:  # never a traceback in an agent's log: one line and Pacemaker's "internal error"
        print(f"{name}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = EX_SOFTWARE
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    # Run the importable module, not this ``__main__`` copy: pcmk_clients raises paceline.cli.pcmk_tools'
    # ToolError, which a second copy of the class would not catch.
    from paceline.cli import pcmk_tools

    pcmk_tools.main()
