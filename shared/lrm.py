"""Operation history in the CIB status section, exactly as Pacemaker records it.

The executor writes these records, the scheduler reads them back, and
``paceline simulate -S`` fabricates them, so the format is defined once here:
``lrm_resource``/``lrm_rsc_op`` elements, their ids (``RSC_last_0``,
``RSC_last_failure_0``, ``RSC_monitor_INTERVAL``), transition keys, the
parameter digest, and the small patch language the cib-store applies to one
node's status.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from paceline.shared.cib import FEATURE_SET, Element

# OCF exit codes (OCF 1.1) --------------------------------------------------
OCF_SUCCESS = 0
OCF_ERR_GENERIC = 1
OCF_ERR_ARGS = 2
OCF_ERR_UNIMPLEMENTED = 3
OCF_ERR_PERM = 4
OCF_ERR_INSTALLED = 5
OCF_ERR_CONFIGURED = 6
OCF_NOT_RUNNING = 7
OCF_RUNNING_PROMOTED = 8
OCF_FAILED_PROMOTED = 9
OCF_DEGRADED = 190
OCF_DEGRADED_PROMOTED = 191

RC_TEXT = {
    OCF_SUCCESS: "ok", OCF_ERR_GENERIC: "error", OCF_ERR_ARGS: "invalid parameter",
    OCF_ERR_UNIMPLEMENTED: "unimplemented feature", OCF_ERR_PERM: "insufficient privileges",
    OCF_ERR_INSTALLED: "not installed", OCF_ERR_CONFIGURED: "not configured", OCF_NOT_RUNNING: "not running",
    OCF_RUNNING_PROMOTED: "promoted", OCF_FAILED_PROMOTED: "promoted (failed)",
    OCF_DEGRADED: "OCF_DEGRADED", OCF_DEGRADED_PROMOTED: "OCF_DEGRADED_PROMOTED",
}

# Pacemaker's execution status (op-status) ----------------------------------
EXEC_PENDING = -1
EXEC_DONE = 0
EXEC_CANCELLED = 1
EXEC_TIMEOUT = 2
EXEC_NOT_SUPPORTED = 3
EXEC_ERROR = 4
EXEC_ERROR_HARD = 5
EXEC_ERROR_FATAL = 6
EXEC_NOT_INSTALLED = 7

EXEC_TEXT = {
    EXEC_PENDING: "pending", EXEC_DONE: "complete", EXEC_CANCELLED: "Cancelled", EXEC_TIMEOUT: "Timed Out",
    EXEC_NOT_SUPPORTED: "NOT SUPPORTED", EXEC_ERROR: "Error", EXEC_ERROR_HARD: "Hard error",
    EXEC_ERROR_FATAL: "Fatal error", EXEC_NOT_INSTALLED: "Not installed",
}


def op_key(rsc: str, task: str, interval_ms: int) -> str:
    return f"{rsc}_{task}_{interval_ms}"


def record_id(rsc: str, task: str, interval_ms: int, failed: bool = False) -> str:
    """Pacemaker keeps one record per recurring op and one "last" (plus "last failure") otherwise."""
    if failed:
        return f"{rsc}_last_failure_0"
    if interval_ms > 0:
        return f"{rsc}_{task}_{interval_ms}"
    return f"{rsc}_last_0"


def params_digest(params: Mapping[str, str]) -> str:
    """Digest of the definition an operation ran with; a change means the resource must restart."""
    return _params_digest(tuple(params.items()))


#: Digests are asked for every history entry and every graph action, mostly of the same few parameter sets
#: (a large cluster's resources often have none): each set is hashed once. Bounded for a long-lived DC.
_DIGEST_CACHE = 4096


def _md5_hex(data: bytes) -> str:
    """The md5 of ``data`` in hex, from CPython's own md5 where it has one: hashlib loads OpenSSL first, a
    noticeable part of a one-shot ``paceline simulate``'s start (both give the same digest)."""
    try:
        from _md5 import md5  # type: ignore[import-not-found]  # no stub: CPython's builtin md5 module
    except ImportError:
        from hashlib import md5
    return str(md5(data, usedforsecurity=False).hexdigest())


@functools.lru_cache(maxsize=_DIGEST_CACHE)
def _params_digest(items: tuple[tuple[str, str], ...]) -> str:
    params = dict(items)
    text = "".join(f'{k}="{params[k]}" ' for k in sorted(params))
    return _md5_hex(text.encode())


#: Never part of Pacemaker's parameter digest (bookkeeping the controller adds to an operation).
DIGEST_EXCLUDED = frozenset(("id", "crm_feature_set", "op-digest", "on_node", "on_node_uuid", "pcmk_external_ip"))
_ATTR_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;",
                 **{c: f"&#x{c:02X};" for c in (*range(0x20), 0x7F)}}


def pacemaker_digest(params: Mapping[str, str], timeout_ms: int | None = None) -> str:
    """``op-digest`` exactly as Pacemaker's controller records it, so an imported CIB keeps its resources.

    The md5 of ``" <parameters a="1" b="2"/>\\n"``: instance attributes sorted
    bytewise, values XML-escaped, ``CRM_meta_*`` dropped - except that a
    recurring operation keeps ``CRM_meta_timeout`` (pass ``timeout_ms``), so
    changing a monitor's timeout reschedules it.
    """
    return _pacemaker_digest(tuple(params.items()), timeout_ms)


@functools.lru_cache(maxsize=_DIGEST_CACHE)
def _pacemaker_digest(items: tuple[tuple[str, str], ...], timeout_ms: int | None) -> str:
    kept = {k: str(v) for k, v in items if k not in DIGEST_EXCLUDED and not k.startswith("CRM_meta_")}
    if timeout_ms is not None:
        kept["CRM_meta_timeout"] = str(timeout_ms)
    attrs = "".join(f' {k}="{kept[k].translate(_ATTR_ESCAPES)}"' for k in sorted(kept, key=str.encode))
    return _md5_hex(f" <parameters{attrs}/>\n".encode())


@dataclass
class OpResult:
    """What the executor learned from running one operation."""

    rsc: str
    task: str
    interval_ms: int
    rc: int
    op_status: int = EXEC_DONE
    call_id: int = 0
    exec_ms: int = 0
    queue_ms: int = 0
    exit_reason: str = ""
    digest: str = ""
    transition_key: str = ""
    node: str = ""
    last_rc_change: int = 0
    expected_rc: int = OCF_SUCCESS

    @property
    def failed(self) -> bool:
        return self.op_status != EXEC_DONE or self.rc != self.expected_rc

    def attrs(self, record: str) -> dict[str, str]:
        magic = f"{self.op_status}:{self.rc};{self.transition_key}" if self.transition_key else ""
        out = {
            "id": record, "operation_key": op_key(self.rsc, self.task, self.interval_ms),
            "operation": self.task, "crm-debug-origin": "paceline-executor",
            "crm_feature_set": FEATURE_SET, "transition-key": self.transition_key,
            "transition-magic": magic, "exit-reason": self.exit_reason, "on_node": self.node,
            "call-id": str(self.call_id), "rc-code": str(self.rc), "op-status": str(self.op_status),
            "interval": str(self.interval_ms),
            "last-rc-change": str(self.last_rc_change or int(time.time())),
            "exec-time": str(self.exec_ms), "queue-time": str(self.queue_ms),
        }
        if self.digest:
            out["op-digest"] = self.digest
        return out

    def to_body(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> OpResult:
        """A result off the bus, checked by its message class (MalformedMessage names a bad field)."""
        from paceline.shared.messages import OperationResult

        return cls(**OperationResult.from_body(dict(body)).to_body())


def result_ops(result: OpResult, agent: Mapping[str, str]) -> list[dict[str, Any]]:
    """The status patch that records one result (and its failure, with fail counts)."""
    ops: list[dict[str, Any]] = [{"op": "lrm_op", "rsc": result.rsc, "agent": dict(agent),
                                  "record": result.attrs(record_id(result.rsc, result.task,
                                                                   result.interval_ms))}]
    if result.failed and not (result.task == "stop" and result.op_status == EXEC_CANCELLED):
        ops.append({"op": "lrm_op", "rsc": result.rsc, "agent": dict(agent),
                    "record": result.attrs(record_id(result.rsc, result.task, result.interval_ms, True))})
        key = f"{result.rsc}#{result.task}_{result.interval_ms}"
        ops.append({"op": "attr_incr", "name": f"fail-count-{key}"})
        ops.append({"op": "attr", "name": f"last-failure-{key}", "value": str(int(time.time()))})
    return ops


# ---------------------------------------------------------------- status patch

class PatchError(ValueError):
    pass


def _child(parent: Element, tag: str, ident: str | None = None, **attrs: str) -> Element:
    for el in parent.iterfind(tag):
        if ident is None or el.get("id") == ident:
            return el
    el = etree.SubElement(parent, tag)
    if ident is not None:
        el.set("id", ident)
    for k, v in attrs.items():
        el.set(k, v)
    return el


def _attr_set(ns: Element) -> Element:
    ta = _child(ns, "transient_attributes", ns.get("id"))
    return _child(ta, "instance_attributes", f"status-{ns.get('id')}")


def _set_node_state(ns: Element, op: Mapping[str, Any]) -> None:
    """``node_state``: set the node_state's own attributes (a None value removes one)."""
    for k, v in dict(op.get("attrs", {})).items():
        if v is None:
            ns.attrib.pop(k, "")
        else:
            ns.set(str(k), str(v))


def _record_op(ns: Element, op: Mapping[str, Any]) -> None:
    """``lrm_op``: write one ``lrm_rsc_op`` record (replacing the one with its id) under its resource."""
    rsc, record = op.get("rsc"), dict(op.get("record", {}))
    if not rsc or not record.get("id"):
        raise PatchError("lrm_op needs rsc and record.id")
    agent = dict(op.get("agent", {}))
    lrm = _child(ns, "lrm") if ns.find("lrm") is not None else _child(ns, "lrm", ns.get("id"))
    lrs = _child(lrm, "lrm_resources")
    lr = _child(lrs, "lrm_resource", rsc)
    for k in ("type", "class", "provider"):
        if agent.get(k):
            lr.set(k, agent[k])
    rec = _child(lr, "lrm_rsc_op", record["id"])
    if _call_id(rec) > _call_id(record):
        return  # a stale write landing late (retried after a lost answer): the newer record stays
    rec.attrib.clear()
    for k, v in record.items():
        rec.set(k, str(v))


def _call_id(record: Mapping[str, Any] | Element) -> int:
    """A record's call-id (-1 when absent or not a number): call-ids only grow within one executor."""
    try:
        return int(str(record.get("call-id", -1)))
    except ValueError:
        return -1


def _delete_op(ns: Element, op: Mapping[str, Any]) -> None:
    """``lrm_op_delete``: drop one record of one resource."""
    for lr in ns.iterfind("lrm/lrm_resources/lrm_resource"):
        if lr.get("id") == op.get("rsc"):
            for rec in lr.iterfind("lrm_rsc_op"):
                if rec.get("id") == op.get("id"):
                    lr.remove(rec)


def _delete_resource(ns: Element, op: Mapping[str, Any]) -> None:
    """``lrm_delete``: forget a resource's whole history on the node."""
    lrs = ns.find("lrm/lrm_resources")
    if lrs is not None:
        for lr in lrs.iterfind("lrm_resource"):
            if lr.get("id") == op.get("rsc"):
                lrs.remove(lr)


def _clear_history(ns: Element, op: Mapping[str, Any]) -> None:
    """``lrm_clear``: forget the node's whole operation history (it was fenced)."""
    lrm = ns.find("lrm")
    if lrm is not None:
        ns.remove(lrm)


def _set_attribute(ns: Element, op: Mapping[str, Any]) -> None:
    """``attr`` (set, or remove with a None value) and ``attr_incr`` (add ``by``, default 1): a transient
    node attribute."""
    kind, name = op.get("op"), op.get("name")
    if not name:
        raise PatchError(f"{kind} needs a name")
    attrs = _attr_set(ns)
    nv = next((x for x in attrs.iterfind("nvpair") if x.get("name") == name), None)
    if kind == "attr_incr":
        current = int(nv.get("value", "0")) if nv is not None and nv.get("value", "").isdigit() else 0
        value: str | None = str(current + int(op.get("by", 1)))
    else:
        value = op.get("value")
    if value is None:
        if nv is not None:
            attrs.remove(nv)
    elif nv is None:
        etree.SubElement(attrs, "nvpair", id=f"{attrs.get('id')}-{name}", name=name, value=str(value))
    else:
        nv.set("value", str(value))


def _clear_attributes(ns: Element, op: Mapping[str, Any]) -> None:
    """``attr_clear_prefix``: remove the transient attributes whose names start with one of ``prefixes``."""
    prefixes = tuple(op.get("prefixes", ()))
    attrs = ns.find("transient_attributes/instance_attributes")
    if attrs is not None:
        for nv in list(attrs.iterfind("nvpair")):
            if (nv.get("name") or "").startswith(prefixes):
                attrs.remove(nv)


#: The status patch language: op name -> what it does to one ``node_state``.
_STATUS_OPS: dict[str, Callable[[Element, Mapping[str, Any]], None]] = {
    "node_state": _set_node_state, "lrm_op": _record_op, "lrm_op_delete": _delete_op,
    "lrm_delete": _delete_resource, "lrm_clear": _clear_history, "attr": _set_attribute,
    "attr_incr": _set_attribute, "attr_clear_prefix": _clear_attributes,
}


def apply_status_ops(ns: Element, ops: Iterable[Mapping[str, Any]]) -> None:
    """Apply a status patch to one ``node_state`` element (raises PatchError on a bad op)."""
    for op in ops:
        kind = op.get("op")
        handler = _STATUS_OPS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            raise PatchError(f"unknown status op {kind!r}")
        handler(ns, op)


def status_diff(old: Element, new: Element) -> list[dict[str, Any]]:
    """The patch that turns one node's status ``old`` into ``new`` for what crm commands change.

    Commands such as ``resource cleanup`` edit a copy of the CIB; sending only
    the difference (dropped resource histories, changed transient attributes)
    keeps concurrent executor writes to the same node intact.
    """
    ops: list[dict[str, Any]] = []
    new_rscs = {lr.get("id") for lr in new.iterfind("lrm/lrm_resources/lrm_resource")}
    for lr in old.iterfind("lrm/lrm_resources/lrm_resource"):
        if lr.get("id") not in new_rscs:
            ops.append({"op": "lrm_delete", "rsc": lr.get("id")})

    def attrs(ns: Element) -> dict[str | None, str]:
        return {nv.get("name"): nv.get("value", "")
                for nv in ns.iterfind("transient_attributes/instance_attributes/nvpair")}

    before, after = attrs(old), attrs(new)
    for name in before.keys() - after.keys():
        ops.append({"op": "attr", "name": name, "value": None})
    for name, value in after.items():
        if before.get(name) != value:
            ops.append({"op": "attr", "name": name, "value": value})
    return ops
