"""``paceline status``: crm_mon's layout, built from the CIB alone.

The node and resource sections come from the scheduler's own unpacking of the
CIB (the same view of the cluster the DC plans with); this module adds the
"Cluster Summary" header crm_mon prints: stack, DC and quorum, times, counts.
"""

from __future__ import annotations

import re
import textwrap
import time
from typing import Any

from paceline.policy.scheduler import render_status, unpack
from paceline.shared import cib

VERSION = "0.1.0"
SECTION = re.compile(r"^\* (\S.*:)$")


def _dc_line(root: cib.Element) -> str:
    dc_id = root.get("dc-uuid")
    name = None
    if dc_id:
        for n in cib.node_elements(root):
            if n.get("id") == dc_id:
                name = n.get("uname")
        name = name or dc_id
    quorum = "partition with quorum" if cib.is_true(root.get("have-quorum")) else "partition WITHOUT quorum"
    return f"Current DC: {name} (version {VERSION}) - {quorum}" if name else "Current DC: NONE"


def summary(root: cib.Element, state: Any, now: float | None = None) -> list[str]:
    now = now or time.time()
    n_res = sum(1 for _ in cib.primitives(root))
    disabled = sum(1 for p in cib.primitives(root) if _disabled(root, p))
    blocked = ""
    res_line = f"{n_res} resource instances configured"
    if disabled:
        res_line += f" ({disabled} DISABLED)"
    change = root.get("cib-last-written") or time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(now))
    who = f" by {root.get('update-user', 'root')} via {root.get('update-client', 'cibadmin')}"
    origin = root.get("update-origin")
    return [
        "Cluster Summary:",
        "  * Stack: paceline (NATS)",
        f"  * {_dc_line(root)}",
        f"  * Last updated: {time.strftime('%a %b %d %H:%M:%S %Y', time.localtime(now))}",
        f"  * Last change:  {change}{who}" + (f" on {origin}" if origin else ""),
        f"  * {len(cib.node_elements(root))} nodes configured",
        f"  * {res_line}{blocked}",
    ]


def _disabled(root: cib.Element, prim: cib.Element) -> bool:
    el: cib.Element | None = prim
    while el is not None and el.tag in cib.RESOURCE_TAGS:
        if cib.nvset_values(el).get("target-role", "").lower() == "stopped":
            return True
        el = el.getparent()
    return False


def render(root: cib.Element, now: float | None = None) -> str:
    """crm_mon's page: the scheduler's lists lose one level of nesting (crm_simulate indents them)."""
    state = unpack(root)
    body = [SECTION.sub(r"\1", line) for line in textwrap.dedent("\n".join(render_status(state))).splitlines()]
    return "\n".join(summary(root, state, now)) + "\n\n" + "\n".join(body).rstrip("\n") + "\n"
