"""Cluster options and node attributes as the DC reads them, for services that need only those.

The executor (``start-failure-is-fatal``, ``node-action-limit``), the fencer
and the membership read a few options without unpacking the whole cluster;
they get them here, from the same rule-aware reading :func:`.unpack.unpack`
uses: property sets in Pacemaker's order (``cib-bootstrap-options`` first,
then by score), rules evaluated at ``now``, old option names folded onto new
ones. So no service can act on a different value than the DC plans with.
"""

from __future__ import annotations

from collections.abc import Mapping

from paceline.shared import cib
from paceline.shared.cib import Element
from paceline.shared.cluster.rules import RuleContext, nvsets
from paceline.shared.cluster.values import fold_option_aliases, is_true

#: The set Pacemaker reads before every other cluster property set.
BOOTSTRAP_SET = "cib-bootstrap-options"


def cluster_options(root: Element, now: float) -> dict[str, str]:
    """``crm_config`` as one map: the sets whose rules pass at ``now``, first value wins, aliases folded."""
    crm = cib.section(root, "crm_config", create=False)
    out = nvsets(crm, "cluster_property_set", RuleContext(now=now), first=BOOTSTRAP_SET)
    fold_option_aliases(out)
    return out


def option_is_true(options: Mapping[str, str], name: str, default: bool) -> bool:
    """A boolean cluster option, ``default`` when unset or not a boolean (Pacemaker's reading)."""
    return is_true(options.get(name), default)


def node_attribute_map(el: Element, options: Mapping[str, str], dc_uuid: str | None, now: float) -> dict[str, str]:
    """A node's attributes as rules and constraints see them: the built-in ``#`` ones, then its own
    ``instance_attributes`` (rules evaluated), then ``#site-name`` (its ``site-name``, else the cluster's name)."""
    name = el.get("uname") or el.get("id") or ""
    node_id = el.get("id", name)
    attrs = {"#uname": name, "#id": node_id, "#kind": "cluster",
             "#is_dc": "true" if dc_uuid is not None and node_id == dc_uuid else "false"}
    cluster_name = options.get("cluster-name")
    if cluster_name:
        attrs["#cluster-name"] = cluster_name
    attrs.update(nvsets(el, "instance_attributes", RuleContext(node_attrs=attrs, now=now)))
    if "site-name" in attrs:
        attrs["#site-name"] = attrs["site-name"]
    elif cluster_name:
        attrs["#site-name"] = cluster_name
    return attrs


def node_attributes(root: Element, uname: str, now: float) -> dict[str, str]:
    """A node's permanent attributes as the DC reads them; empty when the CIB has no such node."""
    el = cib.node_by_uname(root, uname)
    if el is None:
        return {}
    return node_attribute_map(el, cluster_options(root, now), root.get("dc-uuid"), now)


def resource_meta(el: Element, now: float) -> dict[str, str]:
    """One resource element's own meta attributes, rules evaluated (no defaults, no parents)."""
    return nvsets(el, "meta_attributes", RuleContext(now=now))
