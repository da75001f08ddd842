#!/usr/bin/env python3
"""Write a synthetic Pacemaker CIB with clones and promotable clones, for the scheduler bench.

    gen_clone_cib.py --nodes 16 --clones 200 --promotable 100 [--offline 1] [--seed 1] > cib.xml

The shared ``gen_cib.py`` writes primitives and groups only; this writes the
clone-heavy configuration real clusters run (dlm/lvmlockd/ping-style clones
everywhere, DRBD/PostgreSQL-style promotable clones with a service on the
promoted instance), settled as a running cluster leaves it:

* ``--clones`` anonymous, interleaved clones of ``ocf:heartbeat:Dummy``, one
  instance per node (no ``clone-max``), each with a 10 s monitor, chained in
  pairs (the second colocated INFINITY with and ordered after the first, as
  lvmlockd follows dlm);
* ``--promotable`` promotable clones of ``ocf:pacemaker:Stateful``
  (``promoted-max=1``, one instance per node) with a monitor per role (10 s
  Promoted, 11 s Unpromoted), and per promotable clone one ``Dummy`` service
  colocated INFINITY with its Promoted role and ordered after its promotion
  (``promote`` then ``start``), as a file system sits on a DRBD primary;
* resource-stickiness 50; fencing disabled, no-quorum-policy=ignore (as
  ``gen_cib.py``).

The status section is a settled cluster's: on every online node each clone
instance's start and monitor, each promotable instance's promote (rc 0, then
its Promoted monitor returning 8) or start (its Unpromoted monitor returning
0), each service's start and monitor on its promoted node and its probe
(``monitor_0``, rc 7) elsewhere, and the promotion scores the agent publishes
(``master-<primitive>`` transient attributes: the promoted node highest, the
others distinct, as a replication-aware agent ranks its replicas). With
``--offline K`` the last K nodes are down without history (a node lost), so
the transition promotes a new instance wherever a lost node was promoted and
starts its service there; without it the transition is empty (steady state).
Digests are those of a parameterless agent, as ``gen_cib.py`` computes them.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from dataclasses import dataclass

# MD5 of the parameter string Pacemaker digests for an agent with no parameters:
# " <parameters/>\n" for start/promote, and with CRM_meta_timeout="20000" for a monitor (as gen_cib.py).
START_DIGEST = hashlib.md5(b" <parameters/>\n").hexdigest()
MONITOR_DIGEST = hashlib.md5(b' <parameters CRM_meta_timeout="20000"/>\n').hexdigest()
FEATURE_SET = "3.16.1"          # Debian's 2.1.5 refuses to execute (-S) on a CIB newer than its own
PROMOTED_MONITOR_MS = 10000
UNPROMOTED_MONITOR_MS = 11000
CLONE_MONITOR_MS = 10000


@dataclass(frozen=True)
class Layout:
    """What the CIB holds: the node names, the counts, and where each promotable clone is promoted."""

    nodes: list[str]
    clones: int
    promotable: int
    promoted_on: list[str]          # per promotable clone: the node its promoted instance runs on
    scores: list[dict[str, int]]    # per promotable clone: node -> promotion score
    down: frozenset[str]


def plan(nodes: int, clones: int, promotable: int, offline: int, seed: int) -> Layout:
    """Choose the promoted node and the promotion scores of every promotable clone, reproducibly from ``seed``.

    Scores are distinct per node so that the instance to promote after a loss
    is decided by the promotion scores alone, not by tie-breaking order.
    """
    rnd = random.Random(seed)
    names = [f"node{i}" for i in range(1, nodes + 1)]
    promoted_on: list[str] = []
    scores: list[dict[str, int]] = []
    for _ in range(promotable):
        home = rnd.choice(names)
        ranks = rnd.sample(range(1, nodes + 1), nodes)
        scores.append({n: (1000 if n == home else 10 * rank) for n, rank in zip(names, ranks, strict=True)})
        promoted_on.append(home)
    down = frozenset(names[len(names) - offline:]) if offline else frozenset()
    return Layout(nodes=names, clones=clones, promotable=promotable, promoted_on=promoted_on, scores=scores,
                  down=down)


def _op(rid: str, name: str, interval_s: int, role: str | None = None) -> str:
    role_attr = f' role="{role}"' if role else ""
    return (f'<op id="{rid}-{name}-{interval_s}s" name="{name}" interval="{interval_s}s" timeout="20s"'
            f'{role_attr}/>')


def _primitive(rid: str, provider: str, agent: str, ops: list[str]) -> str:
    return (f'<primitive id="{rid}" class="ocf" provider="{provider}" type="{agent}">'
            f'<operations>{"".join(ops)}</operations></primitive>')


def _clone(cid: str, meta: dict[str, str], primitive: str) -> list[str]:
    pairs = "".join(f'<nvpair id="{cid}-meta-{k}" name="{k}" value="{v}"/>' for k, v in meta.items())
    return [f'      <clone id="{cid}">',
            f'        <meta_attributes id="{cid}-meta">{pairs}</meta_attributes>',
            f'        {primitive}',
            '      </clone>']


def configuration(lay: Layout) -> list[str]:
    """The ``<configuration>`` section: options, nodes, resources, constraints, defaults."""
    w = ['  <configuration>\n    <crm_config>\n      <cluster_property_set id="cib-bootstrap-options">',
         '        <nvpair id="opt-stonith" name="stonith-enabled" value="false"/>',
         '        <nvpair id="opt-quorum" name="no-quorum-policy" value="ignore"/>',
         '      </cluster_property_set>\n    </crm_config>\n    <nodes>']
    w += [f'      <node id="{i + 1}" uname="{n}"/>' for i, n in enumerate(lay.nodes)]
    w.append('    </nodes>\n    <resources>')
    for c in range(lay.clones):
        w += _clone(f"cl{c}", {"interleave": "true"},
                    _primitive(f"cl{c}_r", "heartbeat", "Dummy", [_op(f"cl{c}_r", "monitor", 10)]))
    for p in range(lay.promotable):
        rid = f"ms{p}_r"
        w += _clone(f"ms{p}", {"promotable": "true", "promoted-max": "1", "interleave": "true"},
                    _primitive(rid, "pacemaker", "Stateful",
                               [_op(rid, "monitor", 10, "Promoted"), _op(rid, "monitor", 11, "Unpromoted")]))
        w.append("      " + _primitive(f"svc{p}", "heartbeat", "Dummy", [_op(f"svc{p}", "monitor", 10)]))
    w.append('    </resources>\n    <constraints>')
    for c in range(1, lay.clones, 2):
        w.append(f'      <rsc_colocation id="col-cl{c}" rsc="cl{c}" with-rsc="cl{c - 1}" score="INFINITY"/>')
        w.append(f'      <rsc_order id="ord-cl{c}" first="cl{c - 1}" then="cl{c}" kind="Mandatory"/>')
    for p in range(lay.promotable):
        w.append(f'      <rsc_colocation id="col-svc{p}" rsc="svc{p}" with-rsc="ms{p}" with-rsc-role="Promoted" '
                 f'score="INFINITY"/>')
        w.append(f'      <rsc_order id="ord-svc{p}" first="ms{p}" first-action="promote" then="svc{p}" '
                 f'then-action="start" kind="Mandatory"/>')
    w += ['    </constraints>\n    <rsc_defaults>\n      <meta_attributes id="rsc-options">',
          '        <nvpair id="rsc-options-resource-stickiness" name="resource-stickiness" value="50"/>',
          '      </meta_attributes>\n    </rsc_defaults>\n  </configuration>']
    return w


class History:
    """Writes ``lrm_rsc_op`` records with increasing call ids, as one controller's executor numbers them."""

    def __init__(self) -> None:
        self.call = 1

    def op(self, node: str, rid: str, operation: str, interval_ms: int, rc: int) -> str:
        """One operation record; non-recurring ones carry the ``_last_0`` id Pacemaker gives them."""
        key = f"{rid}_{operation}_{interval_ms}"
        op_id = key if interval_ms else f"{rid}_last_0"
        digest = MONITOR_DIGEST if interval_ms else START_DIGEST
        magic = f"0:{rc};1:1:{rc}:00000000-0000-0000-0000-000000000000"
        line = (f'<lrm_rsc_op id="{op_id}" operation_key="{key}" operation="{operation}" '
                f'crm-debug-origin="do_update_resource" crm_feature_set="{FEATURE_SET}" '
                f'transition-key="1:1:{rc}:00000000-0000-0000-0000-000000000000" transition-magic="{magic}" '
                f'exit-reason="" on_node="{node}" call-id="{self.call}" rc-code="{rc}" op-status="0" '
                f'interval="{interval_ms}" last-rc-change="1700000000" exec-time="10" queue-time="0" '
                f'op-digest="{digest}"/>')
        self.call += 1
        return line

    def resource(self, rid: str, provider: str, agent: str, ops: list[str]) -> list[str]:
        return ([f'          <lrm_resource id="{rid}" class="ocf" provider="{provider}" type="{agent}">']
                + [f"            {o}" for o in ops] + ['          </lrm_resource>'])


def node_history(lay: Layout, node: str, hist: History) -> list[str]:
    """Every resource's history on one online node of a settled cluster."""
    w: list[str] = []
    for c in range(lay.clones):
        rid = f"cl{c}_r"
        w += hist.resource(rid, "heartbeat", "Dummy", [hist.op(node, rid, "start", 0, 0),
                                                      hist.op(node, rid, "monitor", CLONE_MONITOR_MS, 0)])
    for p in range(lay.promotable):
        rid, svc = f"ms{p}_r", f"svc{p}"
        if lay.promoted_on[p] == node:
            ops = [hist.op(node, rid, "promote", 0, 0), hist.op(node, rid, "monitor", PROMOTED_MONITOR_MS, 8)]
            svc_ops = [hist.op(node, svc, "start", 0, 0), hist.op(node, svc, "monitor", CLONE_MONITOR_MS, 0)]
        else:
            ops = [hist.op(node, rid, "start", 0, 0), hist.op(node, rid, "monitor", UNPROMOTED_MONITOR_MS, 0)]
            svc_ops = [hist.op(node, svc, "monitor", 0, 7)]
        w += hist.resource(rid, "pacemaker", "Stateful", ops)
        w += hist.resource(svc, "heartbeat", "Dummy", svc_ops)
    return w


def status(lay: Layout) -> list[str]:
    """The ``<status>`` section: online nodes with promotion scores and history, lost nodes without."""
    w = ['  <status>']
    hist = History()
    for i, n in enumerate(lay.nodes):
        nid = i + 1
        if n in lay.down:
            w.append(f'    <node_state id="{nid}" uname="{n}" in_ccm="false" crmd="offline" join="down" '
                     f'expected="down"/>')
            continue
        w.append(f'    <node_state id="{nid}" uname="{n}" in_ccm="true" crmd="online" join="member" '
                 f'expected="member">')
        w.append(f'      <transient_attributes id="{nid}">\n        <instance_attributes id="status-{nid}">')
        w += [f'          <nvpair id="status-{nid}-master-ms{p}_r" name="master-ms{p}_r" '
              f'value="{lay.scores[p][n]}"/>' for p in range(lay.promotable)]
        w.append('        </instance_attributes>\n      </transient_attributes>')
        w.append(f'      <lrm id="{nid}">\n        <lrm_resources>')
        w += node_history(lay, n, hist)
        w.append('        </lrm_resources>\n      </lrm>\n    </node_state>')
    w.append('  </status>')
    return w


def render(lay: Layout) -> str:
    """The whole CIB as text."""
    head = (f'<cib admin_epoch="0" epoch="1" num_updates="0" validate-with="pacemaker-3.7" '
            f'crm_feature_set="{FEATURE_SET}" have-quorum="1" dc-uuid="1">')
    return "\n".join([head, *configuration(lay), *status(lay), "</cib>"]) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=16)
    ap.add_argument("--clones", type=int, default=200)
    ap.add_argument("--promotable", type=int, default=100)
    ap.add_argument("--offline", type=int, default=0, help="the last K nodes are down (a node loss)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    if a.nodes < 1 or a.clones < 0 or a.promotable < 0 or not 0 <= a.offline < a.nodes:
        print("gen_clone_cib: need nodes >= 1, clones and promotable >= 0, 0 <= offline < nodes", file=sys.stderr)
        return 2
    sys.stdout.write(render(plan(a.nodes, a.clones, a.promotable, a.offline, a.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
