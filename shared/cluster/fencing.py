"""Which fence devices can fence a node, in which order, and from which node: the fencer's choices.

Pure functions over the CIB (no I/O), so the DC's fencer (``fencer.py``) and
the shell's ``node fence`` make the same decisions and both are unit-tested
offline. The rules are Pacemaker's fencer's:

- A device is a configured ``stonith:`` primitive that is not disabled
  (``target-role=Stopped``); a node that the device is banned from
  (a ``-INFINITY`` location constraint) may not run it.
- Which targets a device can fence (``pcmk_host_check``): ``static-list``
  (the nodes named in ``pcmk_host_list`` and ``pcmk_host_map``; the default
  when either is set), ``dynamic-list`` (whatever the agent's ``list`` action
  prints; the default otherwise), ``status`` (the agent's ``status`` for the
  target answers on or off) or ``none`` (every node).
- ``pcmk_host_map`` (``node1:port1;node2:port2``) names the port the agent is
  given for a node; without it the port is the node name.
- With a ``fencing-topology`` for the target, its levels are tried in index
  order and a level succeeds only when every device in it does. Without one,
  every capable device is a level of its own, highest ``priority`` first.
- The node that runs the agent is never the target while another node can:
  the node where the device is started first, then the DC, then any other
  online node the device is not banned from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from paceline.shared import cib, lrm
from paceline.shared.cib import Element
from paceline.shared.cluster.options import node_attributes, resource_meta
from paceline.shared.cluster.rules import RuleContext, nvsets
from paceline.shared.cluster.timespec import MAX_OP_MS, interval_ms
from paceline.shared.cluster.values import is_true, whole_int

#: pcmk_host_check values.
STATIC, DYNAMIC, STATUS, NONE = "static-list", "dynamic-list", "status", "none"
#: Pacemaker's fencing-timeout (formerly stonith-timeout) default, in seconds.
DEFAULT_TIMEOUT_S = 60
#: Actions that take a node down (the victim's history and transient attributes go with them).
DOWN_ACTIONS = ("off", "reboot")
_MAP_PAIRS = re.compile(r"[;\s]+")
_ACTIVE_OPS = ("start", "monitor", "migrate_from", "promote", "demote")
#: ``rc-code`` of a last operation that left its resource running (promoted or not), as the CIB spells it.
_RUNNING_RCS = (str(lrm.OCF_SUCCESS), str(lrm.OCF_RUNNING_PROMOTED))
_DONE = str(lrm.EXEC_DONE)


@dataclass(frozen=True)
class FenceDevice:
    """One configured fence device, as the fencer sees it."""

    id: str
    agent: str                                   # the fence agent (``type`` of the primitive)
    params: dict[str, str] = field(default_factory=dict)
    priority: int = 0
    banned: frozenset[str] = frozenset()         # nodes it may not run on
    running_on: frozenset[str] = frozenset()     # nodes where it is started (from the CIB status)
    order: int = 0                               # position in the CIB (ties between equal priorities)

    @property
    def host_map(self) -> dict[str, str]:
        return parse_host_map(self.params.get("pcmk_host_map", ""))

    @property
    def host_list(self) -> list[str]:
        return [h for h in re.split(r"[,\s]+", self.params.get("pcmk_host_list", "")) if h]

    @property
    def host_check(self) -> str:
        explicit = (self.params.get("pcmk_host_check") or "").strip().lower()
        if explicit in (STATIC, DYNAMIC, STATUS, NONE):
            return explicit
        return STATIC if self.host_list or self.host_map else DYNAMIC

    def static_targets(self) -> set[str]:
        return set(self.host_list) | set(self.host_map)

    def port_for(self, target: str) -> str:
        """What the agent is told to fence for ``target`` (``pcmk_host_map``'s port, else the name)."""
        return self.host_map.get(target, target)

    def can_fence_statically(self, target: str) -> bool | None:
        """True/False when the configuration alone decides; None when the agent must be asked."""
        check = self.host_check
        if check == NONE:
            return True
        if check == STATIC:
            return target in self.static_targets()
        return None

    def timeout_s(self, action: str, options: Mapping[str, str]) -> float:
        """``pcmk_<action>_timeout``, else the cluster's fencing-timeout, else 60 s."""
        for value in (self.params.get(f"pcmk_{action}_timeout"), options.get("fencing-timeout"),
                      options.get("stonith-timeout")):
            if value:
                seconds = parse_seconds(value)
                if seconds > 0:
                    return seconds
        return DEFAULT_TIMEOUT_S

    def agent_record(self) -> dict[str, str]:
        return {"class": "stonith", "type": self.agent}


def parse_host_map(text: str) -> dict[str, str]:
    """``node1:1;node2:2,3`` (also ``=`` and whitespace separators) -> {node: port}."""
    out: dict[str, str] = {}
    for pair in _MAP_PAIRS.split(text.strip()):
        name, sep, port = pair.partition(":") if ":" in pair else pair.partition("=")
        if sep and name and port:
            out[name] = port
    return out


def parse_seconds(text: str) -> float:
    """Pacemaker's interval spellings (``90``, ``90s``, ``2min``, ``500ms``, ``1h``); 0 when unreadable, at most
    the longest an operation may take (49 days: a timeout of 400 digits would otherwise be infinite)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|msec|s|sec|m|min|h|hr)?\s*", text or "", re.ASCII)
    if not m:
        return 0.0
    factor = {"ms": 0.001, "msec": 0.001, "m": 60, "min": 60, "h": 3600, "hr": 3600}.get(m.group(2) or "s", 1)
    return min(float(m.group(1)) * factor, MAX_OP_MS / 1000)


def parse_list_output(text: str) -> set[str]:
    """Targets in a fence agent's ``list`` output: one per line, ``port[,alias]``; both names count."""
    names: set[str] = set()
    for line in text.splitlines():
        for word in re.split(r"[,\s]+", line.strip())[:2]:
            if word:
                names.add(word)
    return names


def fencing_enabled(options: Mapping[str, str]) -> bool:
    """``fencing-enabled`` (``stonith-enabled`` before Pacemaker 3), true by default."""
    return is_true(options.get("fencing-enabled"), True)


def watchdog_wait(options: Mapping[str, str]) -> float:
    """Seconds after which a lost node counts as reset by its own watchdog (``stonith-watchdog-timeout``);
    0 when nodes have no watchdog (``have-watchdog``) or none is to be relied on."""
    if not is_true(options.get("have-watchdog"), False):
        return 0.0
    return max(0, interval_ms(options.get("fencing-watchdog-timeout") or "0")) / 1000


# ---------------------------------------------------------------- reading the CIB

def fence_devices(root: Element, now: float) -> list[FenceDevice]:
    """Every usable device at ``now``: stonith primitives not disabled, with their bans and where they run."""
    bans = _bans(root)
    running = _running(root)
    out = []
    for order, prim in enumerate(cib.primitives(root)):
        if prim.get("class") != "stonith" or not prim.get("type"):
            continue
        meta = resource_meta(prim, now)
        if (meta.get("target-role") or "").lower() == "stopped":
            continue
        rid = prim.get("id", "")
        priority = whole_int(meta.get("priority"), 0, -(2**31), 2**31 - 1) or 0
        out.append(FenceDevice(id=rid, agent=prim.get("type", ""),
                               params=nvsets(prim, "instance_attributes", RuleContext(now=now)), priority=priority,
                               banned=frozenset(bans.get(rid, ())), running_on=frozenset(running.get(rid, ())),
                               order=order))
    return out


def _bans(root: Element) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    cons = cib.section(root, "constraints", create=False)
    if cons is None:
        return out
    for loc in cons.iterfind("rsc_location"):
        score = (loc.get("score") or "").lstrip("-").lower()
        if loc.get("rsc") and loc.get("node") and (loc.get("score") or "").startswith("-") and \
                score in ("inf", "infinity"):
            out.setdefault(loc.get("rsc", ""), set()).add(loc.get("node", ""))
    return out


def _running(root: Element) -> dict[str, set[str]]:
    """Where each resource's last operation left it running (start/monitor succeeded, not stopped since)."""
    out: dict[str, set[str]] = {}
    for ns in root.iterfind("status/node_state"):
        for lr in ns.iterfind("lrm/lrm_resources/lrm_resource"):
            last = next((op for op in lr.iterfind("lrm_rsc_op") if op.get("id") == f"{lr.get('id')}_last_0"), None)
            if last is not None and last.get("operation") in _ACTIVE_OPS and last.get("rc-code") in _RUNNING_RCS \
                    and last.get("op-status", _DONE) == _DONE:
                out.setdefault(lr.get("id", ""), set()).add(ns.get("uname", ""))
    return out


def topology_levels(root: Element, target: str, now: float) -> list[list[str]]:
    """The ``fencing-topology`` levels that apply to ``target``, by index (empty: no topology for it)."""
    topo = root.find("configuration/fencing-topology")
    if topo is None:
        return []
    attrs: dict[str, str] | None = None
    levels: list[tuple[int, list[str]]] = []
    for level in topo.iterfind("fencing-level"):
        if level.get("target") is not None:
            applies = level.get("target") == target
        elif level.get("target-pattern") is not None:
            try:
                applies = re.fullmatch(level.get("target-pattern", ""), target) is not None
            except re.error:       # a pattern that is none matches no node (Pacemaker: regcomp fails)
                applies = False
        elif level.get("target-attribute") is not None:
            attrs = node_attributes(root, target, now) if attrs is None else attrs
            applies = attrs.get(level.get("target-attribute", "")) == level.get("target-value")
        else:
            applies = False
        if applies:
            devices = [d for d in re.split(r"[,\s]+", level.get("devices", "")) if d]
            index = whole_int(level.get("index", "0"), None, -(2**31), 2**31 - 1)
            if index is None:
                continue
            levels.append((index, devices))
    return [devices for _, devices in sorted(levels, key=lambda x: x[0])]


# ---------------------------------------------------------------- the plan

@dataclass(frozen=True)
class Plan:
    """Levels to try in order; each level is the devices that must all succeed."""

    levels: list[list[FenceDevice]]
    topology: bool = False

    @property
    def devices(self) -> list[FenceDevice]:
        seen: dict[str, FenceDevice] = {}
        for level in self.levels:
            for dev in level:
                seen.setdefault(dev.id, dev)
        return list(seen.values())


def plan(root: Element, target: str, now: float, known: Mapping[str, bool] | None = None) -> Plan:
    """What to try to fence ``target``, reading the configuration at ``now``.

    ``known`` holds answers the caller already got from agents (device id ->
    can fence the target) for devices whose host check needs one; devices with
    no answer yet are kept (the fencer asks before using them). A topology
    level that names a device which does not exist or cannot fence the target
    cannot succeed, and is left out.
    """
    known = known or {}
    by_id = {d.id: d for d in fence_devices(root, now)}

    def capable(dev: FenceDevice) -> bool:
        static = dev.can_fence_statically(target)
        if static is None:
            return known.get(dev.id, True)
        return static

    topo = topology_levels(root, target, now)
    if topo:
        levels = []
        for ids in topo:
            devs = [by_id.get(i) for i in ids]
            if devs and all(d is not None and capable(d) for d in devs):
                levels.append([d for d in devs if d is not None])
        return Plan(levels, topology=True)
    ordered = sorted(by_id.values(), key=lambda d: (-d.priority, d.order))
    return Plan([[d] for d in ordered if capable(d)])


def executing_nodes(dev: FenceDevice, target: str, online: Iterable[str], dc: str = "") -> list[str]:
    """Nodes that may run ``dev`` against ``target``, best first; the target itself only as a last resort."""
    allowed = [n for n in sorted(set(online)) if n not in dev.banned]
    others = [n for n in allowed if n != target]
    ranked = sorted(others, key=lambda n: (n not in dev.running_on, n != dc, n))
    return ranked or [n for n in allowed if n == target]


def victim_status_ops(action: str, now: int, origin: str = "paceline-fencer") -> list[dict[str, object]]:
    """The victim's status after fencing succeeded, as Pacemaker's controller records it.

    ``off``/``reboot``: the node is cleanly down (not to be fenced again), its
    operation history and transient attributes (``terminate`` too) are gone.
    ``on`` (unfencing): the node is marked unfenced.
    """
    if action in DOWN_ACTIONS:
        return [{"op": "node_state", "attrs": {**cib.NODE_STATE_DOWN, "crm-debug-origin": origin}}, {"op": "lrm_clear"},
                {"op": "attr_clear_prefix", "prefixes": [""]}]
    return [{"op": "attr", "name": "#node-unfenced", "value": str(now)}]
