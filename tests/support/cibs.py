"""Small hand-written CIBs for scheduler tests, and running the scheduler on them.

A test states the one thing its cluster is about (a constraint, a failed
operation, a standby node) and these builders fill in the rest of a valid
CIB: two online nodes, fencing off, quorum, Dummy resources. Everything is
evaluated at the fixed time ``NOW``, so failure expiry, shutdown locks and
"last-rc-change" never depend on the clock.
"""

from __future__ import annotations

from paceline.policy.scheduler import ScheduleResult, schedule
from paceline.shared.cib import parse_cib
from paceline.shared.lrm import pacemaker_digest, params_digest

#: The time every test CIB is evaluated at (2023-11-14 22:13:20 UTC).
NOW = 1_700_000_000.0

ONLINE = 'in_ccm="true" crmd="online" join="member" expected="member"'
OFFLINE = 'in_ccm="false" crmd="offline" join="down" expected="down"'


def nvpairs(prefix: str, values: dict[str, str]) -> str:
    """``<nvpair>`` elements with ids ``PREFIX-NAME``: ids must be unique in a CIB."""
    return "".join(f'<nvpair id="{prefix}-{k}" name="{k}" value="{v}"/>' for k, v in values.items())


def node_state(name: str, online: bool = True, lrm: str = "", attrs: dict[str, str] | None = None) -> str:
    """A node's status: a member of the cluster (or cleanly down), with operation history ``lrm`` and transient
    node attributes ``attrs`` (fail counts, standby, promotion scores)."""
    transient = ""
    if attrs:
        transient = (f'<transient_attributes id="{name}"><instance_attributes id="status-{name}">'
                     f'{nvpairs(name, attrs)}</instance_attributes></transient_attributes>')
    return (f'<node_state id="{name}" uname="{name}" {ONLINE if online else OFFLINE}>{transient}'
            f'<lrm id="{name}"><lrm_resources>{lrm}</lrm_resources></lrm></node_state>')


def op(rsc: str, task: str, rc: int = 0, call: int = 1, interval: int = 0, expected: int | None = None,
       digest: str | None = None, status: int = 0) -> str:
    """One operation history entry, as the executor records it.

    ``expected`` is the rc the DC asked for (it defaults to ``rc``: the operation did what was asked);
    ``digest`` is the op-digest of the parameters it ran with; ``status`` the execution status (-1 pending).
    A one-shot operation is the resource's ``_last_0`` record, a recurring one is named after its interval.
    """
    expected = rc if expected is None else expected
    record = f"{rsc}_last_0" if interval == 0 else f"{rsc}_{task}_{interval}"
    dig = f' op-digest="{digest}"' if digest else ""
    return (f'<lrm_rsc_op id="{record}" operation="{task}" interval="{interval}" rc-code="{rc}" '
            f'op-status="{status}" call-id="{call}" transition-key="1:1:{expected}:test" '
            f'last-rc-change="{int(NOW) - 100}"{dig}/>')


def lrm_rsc(rsc: str, *ops: str) -> str:
    """A resource's history on one node (an ocf:heartbeat:Dummy), made of ``op`` entries."""
    return f'<lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy">{"".join(ops)}</lrm_resource>'


def running(rsc: str, call: int = 1) -> str:
    """History of a resource started successfully, with our digest of its (empty) parameters."""
    return lrm_rsc(rsc, op(rsc, "start", call=call, digest=params_digest({})))


def up(*rids: str) -> str:
    """Histories of resources started successfully, recorded with Pacemaker's digest of their (empty)
    definition: crm_simulate, too, sees nothing redefined."""
    return "".join(lrm_rsc(r, op(r, "start", digest=pacemaker_digest({}))) for r in rids)


def prim(rid: str, meta: dict[str, str] | None = None, monitor: str | None = None, params: str = "") -> str:
    """An ocf:heartbeat:Dummy primitive with meta attributes, an optional recurring monitor (interval such as
    "10s", timeout 30s) and ``params`` (an ``<instance_attributes>`` element, written out by the caller)."""
    meta_xml = ""
    if meta:
        meta_xml = f'<meta_attributes id="{rid}-meta">{nvpairs(rid, meta)}</meta_attributes>'
    ops = ""
    if monitor:
        ops = f'<operations><op id="{rid}-mon" name="monitor" interval="{monitor}" timeout="30s"/></operations>'
    return f'<primitive id="{rid}" class="ocf" provider="heartbeat" type="Dummy">{params}{meta_xml}{ops}</primitive>'


def cib(resources: str, status: str, constraints: str = "", nodes: tuple[str, ...] = ("node1", "node2"),
        options: dict[str, str] | None = None, quorum: bool = True, extra_config: str = "",
        node_attrs: dict[str, dict[str, str]] | None = None) -> str:
    """A whole CIB: cluster ``options`` (stonith-enabled=false unless given), ``nodes`` with their permanent
    ``node_attrs``, the ``resources`` and ``constraints`` sections, ``extra_config`` (rsc_defaults, tags...)
    after them, and the ``status`` section (``node_state`` elements)."""
    opts = {"stonith-enabled": "false", **(options or {})}
    node_xml = ""
    for n in nodes:
        attrs = (node_attrs or {}).get(n)
        inner = f'<instance_attributes id="{n}-ia">{nvpairs(n, attrs)}</instance_attributes>' if attrs else ""
        node_xml += f'<node id="{n}" uname="{n}">{inner}</node>'
    return (f'<cib have-quorum="{1 if quorum else 0}" epoch="1" num_updates="0" admin_epoch="0">'
            f'<configuration><crm_config><cluster_property_set id="cib-bootstrap-options">{nvpairs("o", opts)}'
            f'</cluster_property_set></crm_config><nodes>{node_xml}</nodes><resources>{resources}</resources>'
            f'<constraints>{constraints}</constraints>{extra_config}</configuration>'
            f'<status>{status}</status></cib>')


def both_online(lrm1: str = "", lrm2: str = "", attrs: dict[str, str] | None = None) -> str:
    """Status of node1 (history ``lrm1``, transient ``attrs``) and node2 (history ``lrm2``), both members."""
    return node_state("node1", lrm=lrm1, attrs=attrs) + node_state("node2", lrm=lrm2)


def run(xml: str) -> ScheduleResult:
    """The scheduler's answer for a CIB at ``NOW``."""
    return schedule(parse_cib(xml), now=NOW)


def folded(result: ScheduleResult) -> list[str]:
    """The Transition Summary with runs of blanks folded to one (crm_simulate pads its columns)."""
    return [" ".join(line.split()) for line in result.summary]
