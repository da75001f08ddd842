"""The transition graph: what the scheduler decides and the transition engine executes.

An action is one operation on one node (or a pseudo-action that only orders
others, like a group's "started"). ``inputs`` are the ids of actions that must
complete first. The same structure travels on the bus (``to_body``) and is saved
by ``paceline simulate -G`` as Pacemaker-style XML (``to_xml``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree

if TYPE_CHECKING:
    from paceline.shared.messages import ActionRequest


@dataclass(slots=True)
class Action:
    id: int
    task: str                      # start, stop, monitor, promote, ..., or a pseudo task
    rsc: str | None = None
    node: str | None = None
    interval_ms: int = 0
    timeout_ms: int = 20000
    agent: dict[str, str] = field(default_factory=dict)   # class, provider, type
    params: dict[str, str] = field(default_factory=dict)  # instance attributes
    meta: dict[str, str] = field(default_factory=dict)    # resource/op meta the agent sees
    pseudo: bool = False
    expected_rc: int = 0           # 7 for a probe that expects "not running"
    inputs: list[int] = field(default_factory=list)
    digest: str = ""

    @property
    def key(self) -> str:
        return f"{self.rsc}_{self.task}_{self.interval_ms}" if self.rsc else self.task

    @property
    def is_probe(self) -> bool:
        return self.task == "monitor" and self.interval_ms == 0

    def label(self) -> str:
        """How crm_simulate names the action in 'Executing Cluster Transition'."""
        if self.pseudo:
            return f"Pseudo action:   {self.key}"
        verb = "Resource action:"
        return f"{verb} {self.rsc:<15} {self.task:<10} on {self.node}" if self.rsc else \
            f"Cluster action:  {self.task} on {self.node}"

    def to_body(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Action:
        return cls(**{k: body[k] for k in cls.__dataclass_fields__ if k in body})

    def request(self, term: int, transition: int, dc: str = "", members: tuple[str, ...] = ()) -> ActionRequest:
        """What the DC sends the action's executor: the action as it is, stamped with the DC's mandate (its
        term, name and view members: the executor acts only when its own view agrees).

        Built through the message's own check, so an action the executor would
        refuse as malformed fails here, before it is sent.
        """
        from paceline.shared.messages import ActionRequest  # on use: the offline simulate never sends one

        return ActionRequest.from_body({**self.to_body(), "term": term, "transition": transition, "dc": dc,
                                        "members": list(members)})


@dataclass
class Graph:
    actions: list[Action] = field(default_factory=list)
    transition_id: int = 0

    def by_id(self) -> dict[int, Action]:
        return {a.id: a for a in self.actions}

    def to_body(self) -> dict[str, Any]:
        return {"transition_id": self.transition_id, "actions": [a.to_body() for a in self.actions]}

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Graph:
        return cls(actions=[Action.from_body(a) for a in body.get("actions", [])],
                   transition_id=int(body.get("transition_id", 0)))

    def to_xml(self) -> str:
        """Pacemaker's transition graph layout: one synapse per action, its inputs as triggers.

        Fencing is a ``crm_event``, ordering-only actions are ``pseudo_event``s,
        everything else an ``rsc_op``; a trigger names its input with the same tag.
        """
        root = etree.Element("transition_graph", transition_id=str(self.transition_id))
        tags = {a.id: _xml_tag(a) for a in self.actions}
        for i, a in enumerate(self.actions):
            syn = etree.SubElement(root, "synapse", id=str(i))
            act = etree.SubElement(syn, "action_set")
            el = etree.SubElement(act, tags[a.id], id=str(a.id), operation=a.task, operation_key=a.key)
            if a.node:
                el.set("on_node", a.node)
            if a.rsc and not a.pseudo:
                prim = etree.SubElement(el, "primitive", id=a.rsc)
                for k in ("class", "provider", "type"):
                    if a.agent.get(k):
                        prim.set(k, a.agent[k])
            attrs = etree.SubElement(el, "attributes", CRM_meta_timeout=str(a.timeout_ms))
            if a.interval_ms:
                attrs.set("CRM_meta_interval", str(a.interval_ms))
            if a.task == "stonith":
                attrs.set("CRM_meta_stonith_action", a.meta.get("fencing-action", "reboot"))
            elif a.is_probe and not a.pseudo:
                attrs.set("CRM_meta_op_target_rc", str(a.expected_rc))
            for k, v in sorted(a.params.items()):
                if _XML_NAME.fullmatch(k):  # a parameter named "1" (seen in real CIBs) cannot be an attribute
                    attrs.set(k, v)
            inputs = etree.SubElement(syn, "inputs")
            for dep in a.inputs:
                trig = etree.SubElement(inputs, "trigger")
                etree.SubElement(trig, tags.get(dep, "rsc_op"), id=str(dep))
        return etree.tostring(root, pretty_print=True, encoding="unicode")


#: Parameter names that can be XML attribute names (the graph writes parameters as attributes).
_XML_NAME = re.compile(r"[A-Za-z_][\w.-]*")


def _xml_tag(action: Action) -> str:
    if action.task == "stonith":
        return "pseudo_event" if action.pseudo else "crm_event"
    return "pseudo_event" if action.pseudo else "rsc_op"
