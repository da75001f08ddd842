"""One registry of levels and commands: what dispatch runs, what the shell lists and completes, what help prints.

crmsh has one grammar serving every command; here one table serves every reader. For each level and
command it holds the handler, whether the command only reads, its usage (one line, plus optional detail),
the completer of its arguments, and the question to ask before it runs. ``paceline.crm.dispatch`` runs the
crm levels from it; the CLI (``paceline.cli.commands``) extends it with its own levels (``status``, ``cib``,
``simulate``, ``lab``) and the configure session's commands through the same types, and its shell, tab
completion and usage all read that one extended registry.

Handlers are named ``module:attribute`` and imported on first use: the one-shot CLI reads this table
without loading lxml or the crm language (a ``paceline status`` pays for neither). For the same reason
this module does without ``from __future__ import annotations``: NamedTuple fields given as strings are
compiled one by one when the class is made, which doubles the cost of importing it.
"""

import functools
import importlib
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, Protocol

from paceline.crm.errors import CrmError

#: Words that confirm a command on its own line (crmsh accepts ``--force`` too).
CONFIRM_WORDS = ("-y", "--yes", "--force")
#: Words that leave a level, and words that end a session or a script.
UP = ("..", "up", "end", "back")
QUIT = ("quit", "exit", "bye")
#: The shell's own words, besides levels and commands.
NAVIGATION = ("cd", *UP, "ls", "help", *QUIT)


class Facts(Protocol):
    """What completion may learn about the CIB and the cluster; the shell's completer answers."""

    def resource_ids(self) -> list[str]: ...

    def node_names(self) -> list[str]: ...

    def object_ids(self) -> list[str]: ...

    def agents(self) -> list[str]: ...

    def shadow_names(self) -> list[str]: ...


#: ``(facts, the words typed after the command, the word being typed) -> candidates``.
Completer = Callable[[Facts, list[str], str], list[str]]
#: ``(the words after the command) -> the question to ask before running it``.
Question = Callable[[list[str]], str | None]


@functools.cache
def resolve(ref: str) -> Callable[..., Any]:
    """The object a ``module:attribute[.attribute]`` reference names, imported on first use."""
    module, _, path = ref.partition(":")
    found: Any = importlib.import_module(module)
    for part in path.split("."):
        found = getattr(found, part)
    return found


class Command(NamedTuple):
    """One command of a level (a NamedTuple: defining it costs a tenth of a frozen dataclass, and the
    one-shot CLI defines it on every run).

    ``handler`` names the callable that runs it; its arguments depend on the level (crm levels:
    ``(cib root, Words, Context) -> str``; see the level's reader). ``session``: a command of the CLI's
    configure session rather than of the crm language; ``own_session``: typed as one command
    (``paceline configure load ...``) it needs a session of its own, committed at once. ``waits``: with
    ``-w`` the CLI waits for the cluster to settle after it (crmsh's ``@command.wait`` commands).
    """

    name: str
    args: str
    summary: str
    handler: str = ""
    read_only: bool = False
    complete: Completer | None = None
    aliases: tuple[str, ...] = ()
    detail: str = ""
    asks: Question | None = None
    session: bool = False
    own_session: bool = False
    waits: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def usage(self) -> str:
        """``name ARGS``: the one line ``help`` shows."""
        return f"{self.name} {self.args}".rstrip()

    def run(self) -> Callable[..., Any]:
        """The handler itself (its module is imported now)."""
        return resolve(self.handler)

    def question(self, args: list[str]) -> str | None:
        """What to ask before running with ``args``; None when nothing needs asking or ``-y`` confirms it."""
        if self.asks is None or not args or any(w in CONFIRM_WORDS for w in args):
            return None
        return self.asks(args)


class Level(NamedTuple):
    """A level of the shell (``configure``, ``node``, ...) with its commands, or a top-level command of its own
    (``status``, ``simulate``, ``lab``: no commands, a ``handler`` instead).

    ``args`` is what follows the name at the top level, ``summary`` one line about it, ``detail`` what
    ``help LEVEL`` adds after the list of commands; ``shell`` says whether the interactive shell offers it.
    """

    name: str
    summary: str
    commands: tuple[Command, ...] = ()
    args: str = "COMMAND ..."
    detail: str = ""
    handler: str = ""
    shell: bool = True

    @property
    def enterable(self) -> bool:
        """Whether ``cd LEVEL`` (or the level's name alone) enters it."""
        return bool(self.commands)

    def find(self, word: str) -> Command | None:
        return next((c for c in self.commands if word in c.names), None)

    def get(self, word: str) -> Command:
        """A command that must exist (for building registries)."""
        found = self.find(word)
        if found is None:
            raise KeyError(f"{self.name} has no command {word!r}")
        return found

    def names(self) -> list[str]:
        """Every command word, aliases too, sorted: what ``ls`` lists and errors offer."""
        return sorted(name for c in self.commands for name in c.names)

    def command(self, args: list[str]) -> Command:
        """The command ``args[0]`` names; a one-line error when there is none or it is unknown."""
        if not args:
            raise CrmError(f"{self.name}: missing command (one of {', '.join(self.names())})")
        found = self.find(args[0])
        if found is None:
            raise CrmError(f"{self.name}: unknown command {args[0]!r} (expected one of {', '.join(self.names())})")
        return found

    def with_commands(self, *commands: Command) -> "Level":
        """This level with ``commands`` added; one named like an existing command replaces it in place."""
        by_name = {c.name: c for c in commands}
        kept = tuple(by_name.pop(c.name, c) for c in self.commands)
        return self._replace(commands=kept + tuple(by_name.values()))

    def run(self) -> Callable[..., Any]:
        """The handler of a level that is one command."""
        return resolve(self.handler)


class Registry:
    """Levels in the order they are listed."""

    def __init__(self, levels: Iterable[Level]):
        self.levels = tuple(levels)
        self._by_name = {level.name: level for level in self.levels}

    def level(self, name: str) -> Level | None:
        return self._by_name.get(name)

    def get(self, name: str) -> Level:
        """A level that must exist (for building registries)."""
        return self._by_name[name]

    def names(self, shell: bool | None = None) -> list[str]:
        """Level names in order; ``shell=True`` only those the interactive shell offers."""
        return [lv.name for lv in self.levels if shell is None or lv.shell == shell]

    def extended(self, *levels: Level) -> "Registry":
        """A registry with ``levels`` added; one named like an existing level replaces it in place."""
        by_name = {level.name: level for level in levels}
        kept = [by_name.pop(level.name, level) for level in self.levels]
        return Registry([*kept, *by_name.values()])


# ---------------------------------------------------------------- completers

def complete_resources(facts: Facts, args: list[str], text: str) -> list[str]:
    return facts.resource_ids()


def complete_nodes(facts: Facts, args: list[str], text: str) -> list[str]:
    return facts.node_names()


def complete_objects(facts: Facts, args: list[str], text: str) -> list[str]:
    return facts.object_ids()


def complete_agents(facts: Facts, args: list[str], text: str) -> list[str]:
    return facts.agents()


def _complete_agent_object(facts: Facts, args: list[str], text: str) -> list[str]:
    """``primitive ID <agent>``, then its parts."""
    return facts.agents() if len(args) == 1 else ["params", "meta", "op", "utilization"]


def _complete_property(facts: Facts, args: list[str], text: str) -> list[str]:
    from paceline.crm.cluster_options import property_candidates

    return property_candidates(text)


def _complete_resource_then_node(facts: Facts, args: list[str], text: str) -> list[str]:
    return facts.node_names() if args else facts.resource_ids()


def _complete_classes(facts: Facts, args: list[str], text: str) -> list[str]:
    return ["ocf", "lsb"]


def fence_question(args: list[str]) -> str:
    uname = args[0]
    return (f"Fencing {uname} cuts its power (a reboot by default) and restarts every resource it runs on "
            f"other nodes. Fence {uname} now")


# ---------------------------------------------------------------- the crm levels

_PARTS = "[params NAME=VALUE ...] [meta NAME=VALUE ...] [utilization NAME=VALUE ...] [op NAME [NAME=VALUE ...]] ..."
_SET = "[$id=SET | SET:] NAME=VALUE ..."
_ATTR = "set|delete|show NAME [VALUE]"


def _cmd(name: str, args: str, summary: str, handler: str, *, read_only: bool = False,
         complete: Completer | None = None, aliases: tuple[str, ...] = (), detail: str = "",
         asks: Question | None = None, waits: bool = False) -> Command:
    """A crm command whose handler is ``paceline.crm.<handler>``."""
    return Command(name, args, summary, f"paceline.crm.{handler}", read_only=read_only, complete=complete,
                   aliases=aliases, detail=detail, asks=asks, waits=waits)


_RULES = ("a rule's expressions: ATTR lt|gt|lte|gte|eq|ne [string:|number:|integer:|version:]VALUE,\n"
          "defined ATTR, not_defined ATTR, date gt|lt DATE, date in_range start=DATE end=DATE|years=N ...,\n"
          "date date_spec hours=9-17 weekdays=1-5 ...; #uname is the node's name")
_BUNDLE = ("network: ip-range-start=, control-port=, host-interface=, host-netmask=, add-host=, then\n"
           "port-mapping [id=] port=|range= [internal-port=] ...\n"
           "storage: storage-mapping [id=] source-dir=|source-dir-root= target-dir= [options=] ...\n"
           "with a primitive inside, ip-range-start or control-port is required (as in Pacemaker), and the\n"
           "run-command (Pacemaker's default: pacemaker-remoted) must be Paceline's paceline-remote\n"
           "(the executor README: Guest nodes and bundles)")
_SETS = ("resource sets: a run of plain resources is one set, ( A B ) a set with sequential=false,\n"
         "[ A B ] one with require-all=false; a set may carry sequential=, require-all= and {what}=")


CONFIGURE = Level("configure", "resources, constraints and cluster options (crmsh's configure level)", (
    _cmd("primitive", f"ID AGENT|@TEMPLATE {_PARTS}",
         "a resource: its agent (class:provider:type), parameters, meta attributes and operations",
         "configure:primitive", complete=_complete_agent_object),
    _cmd("rsc_template", f"ID AGENT {_PARTS}", "parts that primitives take with @TEMPLATE",
         "configure:rsc_template", complete=_complete_agent_object),
    _cmd("monitor", "RSC[:ROLE] INTERVAL[:TIMEOUT]", "add a monitor operation to a primitive (id RSC-monitor-INTERVAL)",
         "configure:monitor", complete=complete_resources),
    _cmd("group", "ID RSC ... [params ...] [meta ...]", "primitives that run together, started in order",
         "configure:group", complete=complete_resources),
    _cmd("clone", "ID RSC [params ...] [meta ...]", "a resource that runs on several nodes at once",
         "configure:clone", complete=complete_resources),
    _cmd("ms", "ID RSC [params ...] [meta ...]", "a promotable clone (the old spelling)",
         "configure:ms", complete=complete_resources),
    _cmd("bundle", "ID docker|podman|rkt image=IMAGE [replicas=N] [run-command=CMD] [options=OPTS] ... "
         "[network ... [port-mapping ...]] [storage storage-mapping ...] [meta ...] [primitive RSC]",
         "a resource in containers: N replicas of an image, each running the primitive (a guest node each)",
         "configure:bundle", complete=complete_resources, detail=_BUNDLE),
    _cmd("location", "ID RSC|{ RSC ... }|/PATTERN/ [role=ROLE] [resource-discovery=MODE] "
         "SCORE: NODE | rule [$id=ID] [$role=ROLE] [SCORE:] EXPRESSION [and|or EXPRESSION ...] ...",
         "where a resource may, must or must not run", "configure:location", complete=complete_resources,
         detail=_RULES),
    _cmd("colocation", "ID SCORE: RSC[:ROLE] RSC[:ROLE] ... [node-attribute=NAME] [influence=BOOL]",
         "resources that run together (or apart); ( ) and [ ] make resource sets", "configure:colocation",
         complete=complete_resources, aliases=("collocation",), detail=_SETS.format(what="role")),
    _cmd("order", "ID [KIND: | SCORE:] RSC[:ACTION] RSC[:ACTION] ... [symmetrical=BOOL]",
         "in which order resources start (and stop); ( ) and [ ] make resource sets", "configure:order",
         complete=complete_resources, detail=_SETS.format(what="action") + "\nKIND: Mandatory, Optional, "
         "Serialize; a score instead: 0 is Optional, any other Mandatory"),
    _cmd("rsc_ticket", "ID TICKET: RSC[:ROLE] ... [loss-policy=stop|demote|fence|freeze]",
         "resources that run only while a ticket is granted (site ticket); several make resource sets",
         "configure:rsc_ticket", complete=complete_resources,
         detail="loss-policy: what happens to a running resource when the ticket is revoked; by default\n"
                "demote for the Promoted role, stop otherwise (fence needs stonith-enabled)"),
    _cmd("property", _SET, "cluster options (set cib-bootstrap-options)", "configure:property_set",
         complete=_complete_property),
    _cmd("rsc_defaults", _SET, "defaults of resource meta attributes (set rsc-options)", "configure:rsc_defaults"),
    _cmd("op_defaults", _SET, "defaults of operation attributes (set op-options)", "configure:op_defaults"),
    _cmd("node", "[$id=ID | ID:] NAME[:TYPE] [attributes NAME=VALUE ...] [utilization NAME=VALUE ...]",
         "a node with its attributes and capacity; on an existing node, its attributes and capacity updated",
         "configure:node", complete=complete_nodes),
    _cmd("tag", "ID[:] RSC ...", "a named list of resources that commands and constraints may use",
         "configure:tag", complete=complete_resources),
    _cmd("delete", "ID ...", "delete objects; what referred to them follows, as crmsh does",
         "editing:delete", complete=complete_objects),
    _cmd("rename", "ID NEW-ID", "rename an object and every reference to it", "editing:rename",
         complete=complete_objects),
    _cmd("show", "[ID ... | type:TYPE ... | xml [ID ...]]", "the configuration in crm syntax (or XML)",
         "configure:show_command", read_only=True, complete=complete_objects),
    _cmd("verify", "", "report what Pacemaker would refuse; a sound configuration prints nothing",
         "configure:verify", read_only=True),
))

_NODE_ARGS = "[NODE] [forever|reboot]"
NODE = Level("node", "standby, maintenance, attributes and fencing of nodes", (
    _cmd("standby", _NODE_ARGS, "move every resource off the node (default: this node)",
         "nodes:standby", complete=complete_nodes, waits=True),
    _cmd("online", _NODE_ARGS, "take the node out of standby", "nodes:online", complete=complete_nodes, waits=True),
    _cmd("maintenance", _NODE_ARGS, "leave the node's resources alone", "nodes:maintenance",
         complete=complete_nodes, waits=True),
    _cmd("ready", _NODE_ARGS, "take the node out of maintenance", "nodes:ready", complete=complete_nodes, waits=True),
    _cmd("attribute", f"NODE {_ATTR}", "a node attribute in the configuration", "nodes:attribute",
         complete=complete_nodes, waits=True),
    _cmd("utilization", f"NODE {_ATTR}", "a node's capacity for resources' utilization",
         "nodes:utilization", complete=complete_nodes, waits=True),
    _cmd("status-attr", f"NODE {_ATTR}", "a transient node attribute (status section)", "nodes:status_attr",
         complete=complete_nodes),
    _cmd("delete", "NODE", "remove a node from the configuration", "nodes:delete_node",
         complete=complete_nodes),
    _cmd("show", "[NODE ...]", "nodes in crm syntax", "nodes:show_nodes", read_only=True,
         complete=complete_nodes, aliases=("list",)),
    _cmd("status", "[NODE ...]", "what the cluster knows of each node's membership", "nodes:node_status",
         read_only=True, complete=complete_nodes),
    _cmd("clearstate", "NODE", "forget a node's operation history and transient attributes",
         "nodes:clearstate", complete=complete_nodes, waits=True),
    _cmd("fence", "NODE [-y]", "have the cluster fence the node (asks first; -y confirms)", "nodes:fence",
         complete=complete_nodes, asks=fence_question, waits=True),
))

_RSC = "RSC ..."
RESOURCE = Level("resource", "start, stop, move and clean up resources", (
    _cmd("start", _RSC, "target-role=Started", "resource_level:start", complete=complete_resources, waits=True),
    _cmd("stop", _RSC, "target-role=Stopped", "resource_level:stop", complete=complete_resources, waits=True),
    _cmd("promote", _RSC, "target-role=Promoted", "resource_level:promote", complete=complete_resources, waits=True),
    _cmd("demote", _RSC, "target-role=Unpromoted", "resource_level:demote", complete=complete_resources, waits=True),
    _cmd("restart", _RSC, "stop, then start (live: waits for each)", "resource_level:restart",
         complete=complete_resources, waits=True),
    _cmd("manage", _RSC, "is-managed=true", "resource_level:manage", complete=complete_resources),
    _cmd("unmanage", _RSC, "is-managed=false: the cluster leaves it alone", "resource_level:unmanage",
         complete=complete_resources),
    _cmd("maintenance", "RSC [on|off]", "the resource's maintenance meta attribute",
         "resource_level:maintenance", complete=complete_resources, waits=True),
    _cmd("meta", f"RSC {_ATTR}", "a meta attribute (a clone's child: the clone's)", "resource_level:meta",
         complete=complete_resources, waits=True),
    _cmd("param", f"RSC {_ATTR}", "an instance parameter", "resource_level:param",
         complete=complete_resources, waits=True),
    _cmd("utilization", f"RSC {_ATTR}", "what the resource uses of a node's capacity",
         "resource_level:utilization", complete=complete_resources, waits=True),
    _cmd("migrate", "RSC NODE [LIFETIME] [force]", "prefer NODE (constraint cli-prefer-RSC)",
         "resource_level:migrate", complete=_complete_resource_then_node, aliases=("move",),
         detail="LIFETIME: an ISO 8601 duration (PT1H, P1D, P1Y2M); the constraint ends then", waits=True),
    _cmd("ban", "RSC NODE [LIFETIME] [force]", "keep off NODE (constraint cli-ban-RSC-on-NODE)",
         "resource_level:ban", complete=_complete_resource_then_node,
         detail="LIFETIME: an ISO 8601 duration (PT1H, P1D, P1Y2M); the constraint ends then", waits=True),
    _cmd("clear", "RSC [force]", "remove what migrate and ban left", "resource_level:clear",
         complete=complete_resources, aliases=("unmigrate", "unmove"), waits=True),
    _cmd("cleanup", "[RSC] [NODE] [force]", "forget operation history and failures",
         "resource_level:cleanup", complete=complete_resources, aliases=("refresh",), waits=True),
    _cmd("failcount", "RSC show|delete|set NODE [0]", "the resource's failure count on a node",
         "resource_level:failcount", complete=complete_resources, waits=True),
    _cmd("status", "[RSC ...]", "where resources run", "resource_level:status", read_only=True,
         complete=complete_resources, aliases=("show", "list", "locate")),
    _cmd("why", "RSC", "the scheduler's score breakdown on every node", "resource_level:why",
         read_only=True, complete=complete_resources),
))

RA = Level("ra", "the resource agents the nodes have and what they take", (
    _cmd("classes", "", "the agent classes and OCF providers", "ra:classes", read_only=True,
         complete=complete_agents),
    _cmd("list", "CLASS [PROVIDER]", "the agents of a class", "ra:list_agents", read_only=True,
         complete=_complete_classes),
    _cmd("providers", "TYPE [ocf]", "the OCF providers of an agent", "ra:providers", read_only=True,
         complete=complete_agents),
    _cmd("info", "AGENT", "an agent's parameters and operations, from its meta-data", "ra:info",
         read_only=True, complete=complete_agents, aliases=("meta",)),
    _cmd("validate", "AGENT|RSC [NAME=VALUE ...]",
         "check parameters against the meta-data, then by the agent's own validate-all", "ra:validate",
         read_only=True, complete=complete_agents),
))

_TICKET_WORDS = ("grant", "revoke", "standby", "activate", "show", "time", "delete", "cleanup", "attribute")


def ticket_question(args: list[str]) -> str | None:
    """Granting and revoking a ticket ask first (the site level's own question, loaded only then)."""
    if len(args) < 2 or args[0] not in ("grant", "revoke", "delete"):
        return None
    return resolve("paceline.crm.site:question")(args)


def _complete_ticket_words(_facts: Facts, typed: list[str], word: str) -> list[str]:
    return [w for w in _TICKET_WORDS if w.startswith(word)] if not typed else []


SITE = Level("site", "tickets of multi-site clusters (crmsh's site level)", (
    _cmd("ticket", "grant|revoke|standby|activate|show|time|delete|cleanup TICKET [--force]",
         "a ticket's state: resources that depend on it (rsc_ticket) run only while it is granted",
         "site:ticket", complete=_complete_ticket_words, asks=ticket_question, waits=True,
         detail="grant and revoke (and delete, which revokes) must be confirmed: --force or -y, as crm_ticket\n"
                "asks; standby stops what depends on the ticket in order, activate lets it run again;\n"
                "show: granted or revoked; time: when last granted; cleanup: forget a revoked ticket's state;\n"
                "attribute TICKET set|delete|show NAME [VALUE]: any other attribute of its state"),
))

# Typed as one command, a configure command that changes the CIB commits at once: crmsh's -w waits after a commit.
CONFIGURE = CONFIGURE._replace(commands=tuple(c._replace(waits=not c.read_only) for c in CONFIGURE.commands))

#: The crm levels: what ``paceline.crm.dispatch`` runs.
CRM = Registry((CONFIGURE, NODE, RESOURCE, RA, SITE))
