"""A CIB fuzzer: well-formed CIBs with values, elements and references the scheduler cannot use.

Issue 12: an op interval of 5,000 digits made every planning attempt raise, so
the DC managed nothing until the object was deleted. The promise since is that
no CIB, however large or strange, makes the scheduler (or the status page)
raise: what cannot be used is reported as a configuration error and the rest
is managed. A CIB stored before the value checks existed can hold anything,
so the checks in the cib-store are no defence here; this module makes such
CIBs on purpose.

``mutate`` applies random mutations that keep the XML well-formed: bad values
(non-numbers, 5,000-digit numbers, ``1e999``, negatives, empty, unicode,
INFINITY spellings) on every kind of attribute the scheduler reads (operation
timing, scores, meta attributes, cluster options, rules, node attributes,
operation history, node state), unknown or misplaced elements, missing
required attributes, references to nothing, duplicated ids and
self-references. ``exercise`` runs everything a CIB goes through on the DC and
in ``paceline status`` and returns what raised.
"""

from __future__ import annotations

import contextlib
import copy
import random
import signal
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from lxml import etree
from paceline.shared.cib import Element

#: Values no attribute of a CIB should make anything raise with.
BAD_VALUES: tuple[str, ...] = (
    "9" * 5000, "-" + "9" * 5000, "9" * 5000 + "s", "P" + "9" * 5000 + "D", "abc", "1e999", "-1e999", "1e3",
    "nan", "inf", "-inf", "-1", "-5s", "-0", "", " ", "\t", "0", "1", "\u2603 \u00fcn\u00efc\u00f6d\u00e9",
    "\u0661\u0662", "\u202e", "INFINITY", "-INFINITY", "+INFINITY", "infinity", "-infinity", "INFINITY5",
    "+-INFINITY", "1.5", "-1.5", "0x10", "99999999999999999999", "-99999999999999999999", "2147483648",
    "-2147483649", "4294967296", "10 s", "10xs", "10ms5", "P", "PT", "P1Y2M3W4DT5H6M7S", "PT-5S", "#default",
    "true", "no", "Bogus", "stopped", "Promoted", "2038-01-19T03:14:08Z", "9999-99-99", "0000-00-00T00:00:00",
    "2005-366", "24:61:61", "%s%n%x", "a:b:c", "(", "[", "*", "node1", "#uname", "fail-count-", "1:2:3:4:5",
    "::::", "0:0:0:", "-1:-1:-1:x", "999999999999:1:7:abc", "1:1:" + "9" * 5000 + ":x", "\u00b2", "1_000",
    "\u0663", "1" * 400, "-" + "1" * 400, "(a+)+$", "%9", "1-" + "9" * 30, "-5-3",
)

#: The attributes the scheduler reads, by element tag.
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "cib": ("have-quorum", "dc-uuid", "execution-date", "crm_feature_set", "no-quorum-panic", "epoch",
            "num_updates", "admin_epoch", "validate-with"),
    "node": ("id", "uname", "type", "score"),
    "primitive": ("id", "class", "provider", "type", "template", "description"),
    "template": ("id", "class", "provider", "type"),
    "group": ("id",),
    "clone": ("id",),
    "master": ("id",),
    "bundle": ("id",),
    "op": ("id", "name", "interval", "timeout", "start-delay", "interval-origin", "role", "on-fail", "enabled",
           "record-pending", "requires", "description"),
    "nvpair": ("id", "name", "value", "id-ref"),
    "meta_attributes": ("id", "score", "id-ref"),
    "instance_attributes": ("id", "score", "id-ref"),
    "utilization": ("id", "score"),
    "cluster_property_set": ("id", "score"),
    "rsc_location": ("id", "rsc", "rsc-pattern", "node", "score", "role", "resource-discovery"),
    "rsc_colocation": ("id", "rsc", "with-rsc", "score", "rsc-role", "with-rsc-role", "node-attribute",
                       "influence", "rsc-instance", "with-rsc-instance"),
    "rsc_order": ("id", "first", "then", "first-action", "then-action", "kind", "score", "symmetrical",
                  "require-all", "first-instance", "then-instance"),
    "rsc_ticket": ("id", "rsc", "ticket", "loss-policy", "rsc-role"),
    "resource_set": ("id", "sequential", "require-all", "ordering", "action", "role", "score", "kind",
                     "id-ref"),
    "resource_ref": ("id",),
    "rule": ("id", "score", "score-attribute", "boolean-op", "role", "id-ref"),
    "expression": ("id", "attribute", "operation", "value", "type", "value-source"),
    "date_expression": ("id", "operation", "start", "end"),
    "date_spec": ("id", "hours", "monthdays", "weekdays", "yeardays", "months", "weeks", "years", "weekyears",
                  "moon", "minutes", "seconds"),
    "duration": ("id", "hours", "monthdays", "weekdays", "yeardays", "months", "weeks", "years", "days",
                 "minutes", "seconds"),
    "rsc_expression": ("id", "class", "provider", "type"),
    "op_expression": ("id", "name", "interval"),
    "tag": ("id",),
    "obj_ref": ("id",),
    "node_state": ("id", "uname", "in_ccm", "crmd", "join", "expected", "crm-debug-origin"),
    "transient_attributes": ("id",),
    "lrm_resource": ("id", "class", "provider", "type", "container"),
    "fencing-level": ("id", "index", "target", "target-pattern", "target-attribute", "target-value", "devices"),
    "lrm_rsc_op": ("id", "operation", "call-id", "rc-code", "op-status", "interval", "last-rc-change",
                   "last-run", "exec-time", "queue-time", "transition-key", "transition-magic", "op-digest",
                   "op-restart-digest", "op-secure-digest", "op-force-restart", "op-secure-params", "on_node",
                   "exit-reason", "crm_feature_set"),
}

#: Meta attributes of a resource the scheduler reads.
RESOURCE_META = ("target-role", "is-managed", "maintenance", "priority", "resource-stickiness",
                 "migration-threshold", "failure-timeout", "multiple-active", "requires", "critical",
                 "allow-migrate", "container", "clone-max", "clone-node-max", "clone-min", "promoted-max",
                 "promoted-node-max", "master-max", "master-node-max", "promotable", "globally-unique",
                 "interleave", "notify", "ordered", "remote-node", "remote-port", "remote-addr",
                 "remote-connect-timeout", "provides", "target-role", "allow-unhealthy-nodes",
                 "shutdown-lock", "record-pending")
#: Operation meta attributes and op_defaults.
OP_META = ("interval", "timeout", "start-delay", "interval-origin", "on-fail", "role", "enabled",
           "record-pending", "requires", "OCF_CHECK_LEVEL")
#: Cluster options (new and old names).
CLUSTER_OPTIONS = ("no-quorum-policy", "symmetric-cluster", "maintenance-mode", "start-failure-is-fatal",
                   "enable-startup-probes", "stonith-enabled", "fencing-enabled", "stonith-action",
                   "fencing-action", "stonith-timeout", "have-watchdog", "startup-fencing",
                   "stop-orphan-resources", "stop-orphan-actions", "stop-all-resources", "cluster-recheck-interval",
                   "shutdown-lock", "shutdown-lock-limit", "node-health-strategy", "node-health-base",
                   "node-health-red", "node-health-yellow", "node-health-green", "placement-strategy",
                   "priority-fencing-delay", "concurrent-fencing", "node-pending-timeout", "batch-limit",
                   "migration-limit", "cluster-name", "remove-after-stop", "load-threshold",
                   "node-action-limit", "dc-deadtime", "election-timeout", "fencing-watchdog-timeout",
                   "stonith-watchdog-timeout", "cluster-delay", "pe-error-series-max")
#: Node attributes the scheduler reads (permanent or transient).
NODE_ATTRIBUTES = ("standby", "maintenance", "shutdown", "terminate", "#health-cpu", "health-disk",
                   "site-name", "fail-count-rsc", "last-failure-rsc", "master-rsc", "promotion-score",
                   "#node-unfenced", "#digests-all", "probe_complete")
#: Attributes that name another object.
REFERENCES = (("rsc_location", "rsc"), ("rsc_location", "node"), ("rsc_colocation", "rsc"),
              ("rsc_colocation", "with-rsc"), ("rsc_order", "first"), ("rsc_order", "then"),
              ("resource_ref", "id"), ("obj_ref", "id"), ("primitive", "template"), ("nvpair", "id-ref"),
              ("meta_attributes", "id-ref"), ("instance_attributes", "id-ref"), ("rule", "id-ref"),
              ("node_state", "id"), ("node_state", "uname"), ("lrm_resource", "id"), ("lrm_rsc_op", "on_node"),
              ("cib", "dc-uuid"))
#: Tags an element may be given in the wrong place.
MISPLACED = ("primitive", "group", "clone", "master", "bundle", "op", "operations", "nvpair", "meta_attributes",
             "instance_attributes", "rule", "expression", "date_expression", "date_spec", "rsc_location",
             "rsc_order", "rsc_colocation", "resource_set", "resource_ref", "node", "node_state", "lrm",
             "lrm_resources", "lrm_resource", "lrm_rsc_op", "transient_attributes", "utilization", "template",
             "tag", "obj_ref", "bogus", "x-unknown")


def _elements(root: Element, tags: Iterable[str] | None = None) -> list[Element]:
    wanted = set(tags) if tags is not None else None
    return [el for el in root.iter() if isinstance(el.tag, str) and (wanted is None or el.tag in wanted)]


def _ids(root: Element) -> list[str]:
    return [i for el in _elements(root) if (i := el.get("id"))]


#: The values that froze the DC in the issue's incident; picked more often than their share of BAD_VALUES.
HUGE_VALUES: tuple[str, ...] = tuple(v for v in BAD_VALUES if len(v) >= 400)


def _bad(rng: random.Random) -> str:
    return rng.choice(HUGE_VALUES) if rng.random() < 0.3 else rng.choice(BAD_VALUES)


def _nvset(parent: Element, kind: str, rng: random.Random) -> Element:
    found = parent.find(kind)
    if found is None or rng.random() < 0.2:
        found = etree.SubElement(parent, kind, id=f"fz-{kind}-{rng.randrange(10**6)}")
    return found


def _add_nvpair(parent: Element, kind: str, name: str, rng: random.Random) -> str:
    nvset = _nvset(parent, kind, rng)
    value = _bad(rng)
    etree.SubElement(nvset, "nvpair", id=f"fz-nv-{rng.randrange(10**6)}", name=name, value=value)
    return f"{parent.tag} {parent.get('id')}: {kind} {name}={value[:20]!r}"


def _bad_known_attribute(root: Element, rng: random.Random) -> str | None:
    tag = rng.choice([t for t in ATTRIBUTES if root.find(f".//{t}") is not None or t == "cib"])
    el = rng.choice(_elements(root, (tag,)))
    name = rng.choice(ATTRIBUTES[tag])
    value = _bad(rng)
    el.set(name, value)
    return f"<{tag}> {name}={value[:20]!r}"


def _with_attributes(root: Element, rng: random.Random) -> Element | None:
    """A random element that has attributes (None when none has)."""
    candidates = [el for el in _elements(root) if el.attrib]
    return rng.choice(candidates) if candidates else None


def _bad_any_attribute(root: Element, rng: random.Random) -> str | None:
    el = _with_attributes(root, rng)
    if el is None:
        return None
    name = rng.choice([str(a) for a in el.attrib])
    value = _bad(rng)
    el.set(name, value)
    return f"<{el.tag}> {name}={value[:20]!r}"


def _bad_meta(root: Element, rng: random.Random) -> str | None:
    resources = _elements(root, ("primitive", "group", "clone", "master", "template"))
    rsc_defaults = root.find("configuration/rsc_defaults")
    if rsc_defaults is None and rng.random() < 0.2:
        conf = root.find("configuration")
        if conf is not None:
            rsc_defaults = etree.SubElement(conf, "rsc_defaults")
    targets = resources + ([rsc_defaults] if rsc_defaults is not None else [])
    if not targets:
        return None
    return _add_nvpair(rng.choice(targets), "meta_attributes", rng.choice(RESOURCE_META), rng)


def _bad_op(root: Element, rng: random.Random) -> str | None:
    prims = _elements(root, ("primitive", "template"))
    if rng.random() < 0.3 or not prims:
        conf = root.find("configuration")
        if conf is None:
            return None
        defaults = conf.find("op_defaults")
        if defaults is None:
            defaults = etree.SubElement(conf, "op_defaults")
        return _add_nvpair(defaults, "meta_attributes", rng.choice(OP_META), rng)
    prim = rng.choice(prims)
    ops = prim.find("operations")
    if ops is None:
        ops = etree.SubElement(prim, "operations")
    attrs = {"id": f"fz-op-{rng.randrange(10**6)}", "name": rng.choice(("monitor", "start", "stop", "promote",
                                                                        "demote", "migrate_to", "bogus")),
             "interval": "10s", "timeout": "20s"}
    attrs[rng.choice(OP_META)] = _bad(rng)
    if rng.random() < 0.3:
        del attrs[rng.choice(list(attrs))]
    op = etree.SubElement(ops, "op", attrs)
    if rng.random() < 0.3:
        _add_nvpair(op, "meta_attributes", rng.choice(OP_META), rng)
    return f"op {attrs}"[:120]


def _bad_option(root: Element, rng: random.Random) -> str | None:
    crm = root.find("configuration/crm_config")
    if crm is None:
        return None
    sets = crm.findall("cluster_property_set")
    target = rng.choice(sets) if sets and rng.random() < 0.8 else etree.SubElement(
        crm, "cluster_property_set", id=f"fz-cps-{rng.randrange(10**6)}")
    value = _bad(rng)
    name = rng.choice(CLUSTER_OPTIONS)
    etree.SubElement(target, "nvpair", id=f"fz-nv-{rng.randrange(10**6)}", name=name, value=value)
    return f"option {name}={value[:20]!r}"


def _bad_node_attribute(root: Element, rng: random.Random) -> str | None:
    targets = _elements(root, ("node", "transient_attributes"))
    if not targets:
        return None
    return _add_nvpair(rng.choice(targets), "instance_attributes", rng.choice(NODE_ATTRIBUTES), rng)


def _bad_rule(root: Element, rng: random.Random) -> str | None:
    targets = _elements(root, ("meta_attributes", "instance_attributes", "cluster_property_set", "rsc_location"))
    if not targets:
        return None
    parent = rng.choice(targets)
    rule = etree.SubElement(parent, "rule", id=f"fz-rule-{rng.randrange(10**6)}",
                            score=rng.choice(("INFINITY", "-INFINITY", "100", _bad(rng))))
    if rng.random() < 0.3:
        rule.set("boolean-op", rng.choice(("and", "or", _bad(rng))))
    kind = rng.choice(("expression", "date_expression", "date_spec", "duration", "rsc_expression",
                       "op_expression", "rule"))
    if kind == "expression":
        etree.SubElement(rule, "expression", id=f"fz-ex-{rng.randrange(10**6)}", attribute=rng.choice(
            ("#uname", "#health-cpu", "site-name", _bad(rng))), operation=rng.choice(
            ("eq", "ne", "lt", "gt", "lte", "gte", "defined", "not_defined", _bad(rng))), value=_bad(rng),
            type=rng.choice(("string", "integer", "number", "version", _bad(rng))))
    elif kind in ("date_expression", "date_spec", "duration"):
        de = etree.SubElement(rule, "date_expression", id=f"fz-de-{rng.randrange(10**6)}",
                              operation=rng.choice(("in_range", "date_spec", "gt", "lt", _bad(rng))))
        for name in ("start", "end"):
            if rng.random() < 0.6:
                de.set(name, _bad(rng))
        if kind != "date_expression" or rng.random() < 0.5:
            sub = etree.SubElement(de, "date_spec" if kind != "duration" else "duration",
                                   id=f"fz-ds-{rng.randrange(10**6)}")
            for name in rng.sample(ATTRIBUTES["duration" if kind == "duration" else "date_spec"][1:], 3):
                sub.set(name, _bad(rng))
    elif kind == "rsc_expression":
        etree.SubElement(rule, "rsc_expression", id=f"fz-rx-{rng.randrange(10**6)}", type=_bad(rng))
    elif kind == "op_expression":
        etree.SubElement(rule, "op_expression", id=f"fz-ox-{rng.randrange(10**6)}", name="monitor",
                         interval=_bad(rng))
    else:
        etree.SubElement(rule, "rule", id=f"fz-rr-{rng.randrange(10**6)}", score=_bad(rng))
    return f"rule under <{parent.tag}>"


def _drop_attribute(root: Element, rng: random.Random) -> str | None:
    el = _with_attributes(root, rng)
    if el is None:
        return None
    required = [a for a in ("id", "class", "type", "provider", "rsc", "with-rsc", "first", "then", "score", "name",
                            "value", "operation", "uname", "interval", "call-id", "rc-code", "op-status",
                            "transition-key", "node", "attribute", "start", "template") if a in el.attrib]
    name = rng.choice(required or [str(a) for a in el.attrib])
    del el.attrib[name]
    return f"<{el.tag}> without {name}"


def _unknown_element(root: Element, rng: random.Random) -> str | None:
    parent = rng.choice(_elements(root))
    tag = rng.choice(MISPLACED)
    attrs = {"id": rng.choice((f"fz-{tag}-{rng.randrange(10**6)}", *(_ids(root)[:50] or ["x"])))}
    for name in rng.sample(ATTRIBUTES.get(tag, ("foo",)), min(3, len(ATTRIBUTES.get(tag, ("foo",))))):
        attrs[name] = rng.choice((_bad(rng), *(_ids(root)[:20] or ["x"])))
    parent.insert(rng.randrange(len(parent) + 1), etree.Element(tag, attrs))
    return f"<{tag}> under <{parent.tag}>"


def _dangling_reference(root: Element, rng: random.Random) -> str | None:
    tag, name = rng.choice(REFERENCES)
    found = _elements(root, (tag,))
    if not found:
        return None
    el = rng.choice(found)
    el.set(name, rng.choice(("does-not-exist", "", "x:0", "rsc:99", _bad(rng))))
    return f"<{tag}> {name} dangling"


def _duplicate_id(root: Element, rng: random.Random) -> str | None:
    ids = _ids(root)
    with_id = [el for el in _elements(root) if el.get("id")]
    if len(ids) < 2:
        return None
    el = rng.choice(with_id)
    el.set("id", rng.choice(ids))
    return f"<{el.tag}> id duplicated"


def _self_reference(root: Element, rng: random.Random) -> str | None:
    choice = rng.randrange(5)
    if choice == 0:
        for el in _elements(root, ("rsc_colocation",)):
            el.set("with-rsc", el.get("rsc", ""))
            return "colocation with itself"
        for el in _elements(root, ("rsc_order",)):
            el.set("then", el.get("first", ""))
            return "order after itself"
        return None
    if choice == 1:
        prims = _elements(root, ("primitive",))
        if not prims:
            return None
        prim = rng.choice(prims)
        _add_nvpair(prim, "meta_attributes", "container", rng)
        nv = prim.find("meta_attributes/nvpair[@name='container']")
        if nv is not None:
            nv.set("value", prim.get("id", ""))
        return "launched by itself"
    if choice == 2:
        prims = _elements(root, ("primitive",))
        if not prims:
            return None
        prim = rng.choice(prims)
        prim.set("template", prim.get("id", ""))
        return "its own template"
    if choice == 3:
        sets = _elements(root, ("meta_attributes", "instance_attributes", "rule"))
        if not sets:
            return None
        el = rng.choice(sets)
        el.set("id-ref", el.get("id", ""))
        return "id-ref to itself"
    resources = root.find("configuration/resources")
    groups = _elements(root, ("group", "clone", "master"))
    if resources is None or not groups:
        return None
    group = rng.choice(groups)
    group.append(copy.deepcopy(group))       # a group in itself (same ids)
    return "nested in itself"


def _remove_element(root: Element, rng: random.Random) -> str | None:
    candidates = [el for el in _elements(root) if el.getparent() is not None]
    if not candidates:
        return None
    el = rng.choice(candidates)
    parent = el.getparent()
    assert parent is not None
    parent.remove(el)
    return f"<{el.tag}> removed"


def _duplicate_element(root: Element, rng: random.Random) -> str | None:
    candidates = [el for el in _elements(root) if el.getparent() is not None]
    if not candidates:
        return None
    el = rng.choice(candidates)
    target = el.getparent() if rng.random() < 0.6 else rng.choice(_elements(root))
    assert target is not None
    target.append(copy.deepcopy(el))
    return f"<{el.tag}> copied under <{target.tag}>"


def _random_constraint(root: Element, rng: random.Random) -> str | None:
    cons = root.find("configuration/constraints")
    if cons is None:
        return None
    ids = _ids(root)[:200] or ["x"]
    tag = rng.choice(("rsc_location", "rsc_colocation", "rsc_order", "rsc_ticket"))
    attrs = {"id": f"fz-c-{rng.randrange(10**6)}"}
    for name in rng.sample(ATTRIBUTES[tag][1:], min(4, len(ATTRIBUTES[tag]) - 1)):
        attrs[name] = rng.choice((*ids, _bad(rng))) if rng.random() < 0.6 else _bad(rng)
    el = etree.SubElement(cons, tag, attrs)
    if rng.random() < 0.3:
        rs = etree.SubElement(el, "resource_set", id=f"fz-rs-{rng.randrange(10**6)}")
        for name in rng.sample(ATTRIBUTES["resource_set"][1:], 2):
            rs.set(name, _bad(rng))
        for _ in range(rng.randrange(3)):
            etree.SubElement(rs, "resource_ref", id=rng.choice((*ids, _bad(rng))))
    return f"<{tag}> {attrs}"[:120]


Mutation = Callable[[Element, random.Random], "str | None"]

#: Every mutation, weighted by how often it is picked.
MUTATIONS: tuple[tuple[Mutation, int], ...] = (
    (_bad_known_attribute, 8), (_bad_any_attribute, 4), (_bad_meta, 5), (_bad_op, 4), (_bad_option, 3),
    (_bad_node_attribute, 2), (_bad_rule, 2), (_drop_attribute, 4), (_unknown_element, 2),
    (_dangling_reference, 2), (_duplicate_id, 2), (_self_reference, 2), (_remove_element, 2),
    (_duplicate_element, 2), (_random_constraint, 2),
)


def mutate(root: Element, rng: random.Random, count: int = 1) -> tuple[Element, list[str]]:
    """A copy of ``root`` with ``count`` random mutations, and a line describing each."""
    out = copy.deepcopy(root)
    done: list[str] = []
    funcs = [m for m, _w in MUTATIONS]
    weights = [w for _m, w in MUTATIONS]
    while len(done) < count:
        what = rng.choices(funcs, weights)[0](out, rng)
        if what is not None:
            done.append(what)
    return out, done


@dataclass
class Failure:
    """One input that made something raise."""

    seed_name: str
    mutations: list[str]
    stage: str
    error: str
    trace: str
    cib: Element


def small_cibs() -> list[tuple[str, Element]]:
    """Hand-made seeds where every mutation lands on something the scheduler reads: each kind of resource
    (primitive, group, clone, promotable clone, template, fencing device), every kind of constraint (with
    sets, tags, rules and roles), defaults, node attributes and utilization, and a status with running,
    failed and pending operations, fail counts and a shutdown lock."""
    from paceline.shared.cib import parse_cib

    from tests.support import cibs

    nv = cibs.nvpairs
    resources = (
        cibs.prim("p1", {"priority": "10", "resource-stickiness": "5", "migration-threshold": "3",
                         "failure-timeout": "60s"}, monitor="10s")
        + '<primitive id="p2" class="ocf" provider="heartbeat" type="Dummy"><operations>'
        '<op id="p2-start" name="start" interval="0" timeout="30s" on-fail="restart"/>'
        '<op id="p2-mon" name="monitor" interval="20s" timeout="20s" start-delay="5s" role="Started"/>'
        '</operations><utilization id="p2-u">' + nv("p2u", {"cpu": "2"}) + '</utilization></primitive>'
        '<template id="tmpl" class="ocf" provider="heartbeat" type="Dummy"><operations>'
        '<op id="tmpl-mon" name="monitor" interval="15s"/></operations></template>'
        '<primitive id="p3" template="tmpl"/>'
        '<primitive id="fence1" class="stonith" type="fence_dummy"><instance_attributes id="fence1-ia">'
        + nv("fence1", {"pcmk_host_list": "node1 node2", "pcmk_reboot_timeout": "90s", "priority": "3"})
        + '</instance_attributes></primitive>'
        '<group id="g1"><meta_attributes id="g1-meta">' + nv("g1", {"target-role": "Started"})
        + '</meta_attributes>' + cibs.prim("g1a") + cibs.prim("g1b", monitor="30s") + '</group>'
        '<clone id="c1"><meta_attributes id="c1-meta">' + nv("c1", {"clone-max": "2", "interleave": "true"})
        + '</meta_attributes>' + cibs.prim("cp", monitor="10s") + '</clone>'
        '<clone id="ms1"><meta_attributes id="ms1-meta">' + nv("ms1", {"promotable": "true", "promoted-max": "1",
                                                                         "notify": "true"})
        + '</meta_attributes><primitive id="st" class="ocf" provider="pacemaker" type="Stateful"><operations>'
        '<op id="st-mon-p" name="monitor" interval="10s" role="Promoted"/>'
        '<op id="st-mon-u" name="monitor" interval="11s" role="Unpromoted"/></operations></primitive></clone>'
        '<clone id="cg"><group id="cgg">' + cibs.prim("cga") + cibs.prim("cgb") + '</group></clone>'
    )
    constraints = (
        '<rsc_location id="l1" rsc="p1" node="node1" score="100"/>'
        '<rsc_location id="l2" rsc-pattern="^g1(.*)" score="-INFINITY" node="node2" resource-discovery="never"/>'
        '<rsc_location id="l3" rsc="ms1"><rule id="l3-r" role="Promoted" score="50" boolean-op="and">'
        '<expression id="l3-e" attribute="site" operation="eq" value="a"/>'
        '<date_expression id="l3-d" operation="in_range" start="2020-01-01"><duration id="l3-du" years="10"/>'
        '</date_expression></rule></rsc_location>'
        '<rsc_location id="l4" rsc="p2"><rule id="l4-r" score-attribute="weight">'
        '<date_expression id="l4-d" operation="date_spec"><date_spec id="l4-ds" hours="0-23" weekdays="1-7"/>'
        '</date_expression></rule></rsc_location>'
        '<rsc_colocation id="co1" rsc="p2" with-rsc="p1" score="INFINITY"/>'
        '<rsc_colocation id="co2" rsc="g1" with-rsc="ms1" with-rsc-role="Promoted" score="500"/>'
        '<rsc_colocation id="co3" score="-100"><resource_set id="co3-a" sequential="false">'
        '<resource_ref id="p3"/><resource_ref id="t1"/></resource_set></rsc_colocation>'
        '<rsc_order id="o1" first="c1" then="g1" kind="Mandatory"/>'
        '<rsc_order id="o2" first="ms1" first-action="promote" then="p3" then-action="start" score="0"/>'
        '<rsc_order id="o3"><resource_set id="o3-a" require-all="false"><resource_ref id="p1"/>'
        '<resource_ref id="p2"/></resource_set><resource_set id="o3-b"><resource_ref id="cg"/></resource_set>'
        '</rsc_order>'
    )
    extra = ('<rsc_defaults><meta_attributes id="rd">' + nv("rd", {"resource-stickiness": "1"})
             + '</meta_attributes></rsc_defaults><op_defaults><meta_attributes id="od">'
             + nv("od", {"timeout": "40s"}) + '</meta_attributes></op_defaults>'
             '<tags><tag id="t1"><obj_ref id="p1"/><obj_ref id="g1"/></tag></tags>'
             '<fencing-topology><fencing-level id="fl1" target="node1" index="1" devices="fence1"/>'
             '<fencing-level id="fl2" target-pattern="node[0-9]" index="2" devices="fence1,nothere"/>'
             '<fencing-level id="fl3" target-attribute="site" target-value="a" index="3" devices="fence1"/>'
             '</fencing-topology>')
    ops = cibs.op
    status = (
        cibs.node_state("node1", lrm=cibs.up("p1", "g1a", "fence1")
                        + cibs.lrm_rsc("p2", ops("p2", "start", rc=1, call=3), ops("p2", "stop", call=4))
                        + cibs.lrm_rsc("cp", ops("cp", "start", call=5), ops("cp", "monitor", call=6, interval=10000))
                        + cibs.lrm_rsc("st", ops("st", "promote", call=7, rc=0), ops("st", "demote", status=-1,
                                                                                      call=8)),
                        attrs={"fail-count-p2#start_0": "INFINITY", "last-failure-p2#start_0": "1699999000",
                               "master-st": "10", "weight": "7"})
        + cibs.node_state("node2", lrm=cibs.up("g1b", "cga"), attrs={"standby": "off", "site": "a"})
        + cibs.node_state("node3", online=False, lrm=cibs.up("p3"))
    )
    first = cibs.cib(resources, status, constraints, nodes=("node1", "node2", "node3"),
                     options={"placement-strategy": "balanced", "shutdown-lock": "true",
                              "no-quorum-policy": "ignore", "cluster-recheck-interval": "5min"},
                     extra_config=extra, node_attrs={"node1": {"site": "a"}, "node3": {"site": "b"}})
    second = cibs.cib(resources, status, constraints, nodes=("node1", "node2", "node3"),
                      options={"stonith-enabled": "true", "startup-fencing": "true"}, quorum=False,
                      extra_config=extra)
    return [("small-balanced", parse_cib(first)), ("small-fencing", parse_cib(second))]


def exercise(root: Element, now: float) -> tuple[str, BaseException] | None:
    """Everything the DC and ``paceline status`` do with a CIB; the stage that raised and its exception.

    The scheduler, the transition applied as ``paceline simulate -S`` does and the result unpacked again, the
    status page in every format, the recheck timer, ``resource why`` on the first resource, and the fencer's
    choice of devices for (up to three) nodes.
    """
    from paceline.policy.recheck import next_recheck
    from paceline.policy.scheduler import schedule
    from paceline.policy.scheduler.explain import explain
    from paceline.policy.simulate import apply_transition
    from paceline.shared.cluster import crm_mon, fencing
    from paceline.shared.cluster.options import cluster_options
    from paceline.shared.cluster.status_view import render_status
    from paceline.shared.cluster.unpack import unpack

    stage = "schedule"
    try:
        result = schedule(copy.deepcopy(root), now=now)
        if result.state.resources:
            stage = "explain"
            explain(copy.deepcopy(root), result.state.resources[0].id, now).text()
        stage = "render_status"
        render_status(result.state)
        stage = "next_recheck"
        next_recheck(result.state, now)
        stage = "graph"
        result.graph.to_xml()
        stage = "apply_transition"
        revised = apply_transition(root, result.graph, now)
        stage = "unpack revised"
        render_status(unpack(revised, now))
        for fmt in ("text", "json", "xml"):
            stage = f"crm_mon {fmt}"
            crm_mon.render_as(copy.deepcopy(root), fmt, now)
        stage = "fencing plan"
        options = cluster_options(root, now)
        fencing.watchdog_wait(options)
        for node in list(result.state.nodes)[:3]:
            for device in fencing.plan(root, node, now).devices:
                device.timeout_s("reboot", options)
                device.can_fence_statically(node)
    except Exception as exc:        # what we are looking for
        return stage, exc
    return None


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise TimeoutError in the block after ``seconds``: a value that makes the scheduler loop (a clone of
    10**20 instances) is as bad as one that makes it raise. Only in the main thread (signals), else no limit."""
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def fuzz(seeds: Iterable[tuple[str, Element]], rng: random.Random, per_seed: int, now: float,
         max_mutations: int = 3, time_limit: float | None = 20.0) -> tuple[int, list[Failure]]:
    """Run ``per_seed`` mutated copies of each seed CIB through :func:`exercise`; how many ran, and failures
    (what raised, or took longer than ``time_limit`` seconds)."""
    failures: list[Failure] = []
    runs = 0
    for name, seed in seeds:
        for _ in range(per_seed):
            mutated, what = mutate(seed, rng, rng.randint(1, max_mutations))
            runs += 1
            with _time_limit(time_limit):
                raised = exercise(mutated, now)
            if raised is not None:
                stage, exc = raised
                failures.append(Failure(name, what, stage, f"{type(exc).__name__}: {exc}"[:300],
                                        "".join(traceback.format_exception(exc))[-3000:], mutated))
    return runs, failures
