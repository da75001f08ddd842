"""What a command may learn from outside the CIB, and what it hands back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from paceline.crm.preferences import Preferences, session

AgentKnown = Callable[[str, "str | None", str], "bool | None"]
AgentMetaSource = Callable[[str, "str | None", str], "AgentMeta | None"]
Explain = Callable[[str], str]


@dataclass(frozen=True)
class AgentMeta:
    """The parameters an agent declares in its meta-data: name -> required.

    crmsh refuses a primitive that leaves out a required parameter or sets one
    the agent does not declare; this is the part of the meta-data needed for
    that check.
    """

    params: dict[str, bool] = field(default_factory=dict)

    @property
    def required(self) -> list[str]:
        return [name for name, req in self.params.items() if req]

    @classmethod
    def from_xml(cls, text: str | bytes) -> AgentMeta:
        """Read an OCF ``meta-data`` document (``<resource-agent><parameters>...``)."""
        if isinstance(text, str):
            text = text.encode()
        root = etree.fromstring(text, etree.XMLParser(resolve_entities=False, no_network=True))
        params: dict[str, bool] = {}
        for p in root.iterfind("parameters/parameter"):
            name = p.get("name")
            if name:
                params[name] = p.get("required", "0").strip().lower() in ("1", "true", "yes")
        return cls(params)


@dataclass
class Context:
    """The world around the CIB.

    ``local_node`` is the node ``node standby`` means when no node is named.
    ``agent_known(cls, provider, type)`` says whether an agent is installed
    (None: cannot tell). ``agent_meta`` optionally gives an agent's declared
    parameters so missing required / undeclared parameters are refused as
    crmsh does.
    ``agents`` (an ``ra.AgentSource``: ``listing()``, ``metadata_xml(...)``)
    answers the ``ra`` level; ``explain(rsc)`` renders ``resource why``.
    ``preferences``: crmsh's ``-o core.*`` options the command runs with.
    """

    local_node: str = ""
    agent_known: AgentKnown | None = None
    agent_meta: AgentMetaSource | None = None
    agents: Any = None
    explain: Explain | None = None
    preferences: Preferences = field(default_factory=session)


@dataclass
class Outcome:
    """What a command printed, and whether the CIB changed."""

    output: str = ""
    changed: bool = False
