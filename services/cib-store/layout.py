"""How one CIB document is spread over KV keys, and put back together.

The configuration lives in one key, each node's ``node_state`` in its own key
(``status.<node>``) so executors on different nodes never contend, the
quorum/DC facts the DC maintains in ``cluster``, and the tickets' states
(``crm_ticket``; ``status/tickets`` in the document) in ``tickets``. num_updates is derived rather
than stored: it is how far the newest key revision is past the configuration's
revision, which is monotonic within an epoch and restarts at 0 when the
configuration changes - the same contract Pacemaker gives.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree
from paceline.shared import cib

CONFIG_KEY = "configuration"
CLUSTER_KEY = "cluster"
TICKETS_KEY = "tickets"
STATUS_PREFIX = "status."
#: Root attributes the DC owns (written through the "cluster" key, not the configuration).
CLUSTER_ATTRS = ("have-quorum", "dc-uuid")


def status_key(node: str) -> str:
    return STATUS_PREFIX + node


@dataclass
class Snapshot:
    """Everything read from the bucket, with the revision of each key."""

    config: cib.Element
    config_rev: int
    statuses: dict[str, tuple[cib.Element, int]] = field(default_factory=dict)
    cluster: dict[str, str] = field(default_factory=dict)
    cluster_rev: int = 0
    tickets: cib.Element | None = None
    tickets_rev: int = 0

    @property
    def num_updates(self) -> int:
        newest = max([self.config_rev, self.cluster_rev, self.tickets_rev, *(r for _, r in self.statuses.values())])
        return newest - self.config_rev

    @property
    def version(self) -> cib.Version:
        v = cib.version(self.config)
        return cib.Version(v.admin_epoch, v.epoch, self.num_updates)

    def assemble(self) -> cib.Element:
        root = etree.fromstring(etree.tostring(self.config))
        cib.ensure_sections(root)
        cib.set_version(root, self.version)
        for k in CLUSTER_ATTRS:
            if k in self.cluster:
                root.set(k, self.cluster[k])
        status = cib.section(root, "status")
        if self.tickets is not None and len(self.tickets):
            status.append(etree.fromstring(etree.tostring(self.tickets)))
        order = {n: i for i, n in enumerate(cib.node_names(root))}
        for node in sorted(self.statuses, key=lambda n: (order.get(n, len(order)), n)):
            status.append(etree.fromstring(etree.tostring(self.statuses[node][0])))
        return root


#: Values larger than this are stored zlib-compressed: NATS refuses any message over its ``max_payload``
#: (1 MiB by default), a KV value included, and a configuration of a few thousand resources is larger;
#: CIB XML compresses about tenfold.
STORE_COMPRESSED_OVER = 256 * 1024
#: The most a stored value may unpack to (a corrupt or hostile value is an error, not an outage).
MAX_LOADED = 256 * 1024 * 1024
_ZLIB = b"\x78"  # every zlib stream starts with it; an XML document starts with "<"


def stored(value: bytes) -> bytes:
    """A key's value as it goes into the bucket."""
    return zlib.compress(value, 6) if len(value) > STORE_COMPRESSED_OVER else value


def loaded(value: bytes) -> bytes:
    """A key's value as the bucket returned it, back to XML (plain values pass through)."""
    if not value.startswith(_ZLIB):
        return value
    unpack = zlib.decompressobj()
    out = unpack.decompress(value, MAX_LOADED)
    if unpack.unconsumed_tail:
        raise cib.CibError(f"a stored CIB value unpacks to more than {MAX_LOADED} bytes")
    return out


#: The root element each key's value has.
_ROOTS = {CONFIG_KEY: "cib", CLUSTER_KEY: "cluster", TICKETS_KEY: "tickets"}


def unsound(key: str, value: bytes) -> str | None:
    """Why a stored value cannot be what ``key`` holds (not XML, the wrong root element); None when it can.

    Only the store writes the bucket, but a raw write with the store's credential (or a disk error) must not
    make every reader fail: the store reads past such a value (``CibStore._get``).
    """
    if not value:
        return None
    try:
        parsed(key, loaded(value))
    except cib.CibError as exc:
        return str(exc)
    return None


def parsed(key: str, value: bytes) -> cib.Element:
    """A loaded value of ``key`` parsed; CibError when it is not XML or not the element the key holds."""
    root = cib.parse(value)
    want = "node_state" if key.startswith(STATUS_PREFIX) else _ROOTS.get(key)
    if want is not None and root.tag != want:
        raise cib.CibError(f"{key!r} holds a <{root.tag}> element where a <{want}> belongs")
    return root


#: Key -> (value, revision): what a read of the bucket found (a value of b"" is "no value").
Entries = dict[str, tuple[bytes, int]]


def snapshot(entries: Mapping[str, tuple[bytes, int]]) -> Snapshot:
    """The snapshot the bucket's keys make up (an empty configuration if there is none yet)."""
    value, rev = entries.get(CONFIG_KEY, (b"", 0))
    config = parsed(CONFIG_KEY, value) if value else etree.fromstring(config_document(cib.empty()))
    snap = Snapshot(config=config, config_rev=rev)
    for key, (value, rev) in entries.items():
        if not value:
            continue
        if key.startswith(STATUS_PREFIX):
            snap.statuses[key[len(STATUS_PREFIX):]] = (parsed(key, value), rev)
        elif key == CLUSTER_KEY:
            snap.cluster = cib.attributes(parsed(key, value))
            snap.cluster_rev = rev
        elif key == TICKETS_KEY:
            snap.tickets = parsed(key, value)
            snap.tickets_rev = rev
    return snap


def config_document(root: cib.Element) -> bytes:
    """The configuration key's value: the <cib> root (attributes) and <configuration>, no status."""
    doc = etree.Element("cib", {k: v for k, v in cib.attributes(root).items()
                                if k not in CLUSTER_ATTRS and k != "num_updates"})
    conf = root.find("configuration")
    doc.append(etree.fromstring(etree.tostring(conf)) if conf is not None else etree.Element("configuration"))
    cib.ensure_sections(doc)
    doc.remove(cib.section(doc, "status"))
    return etree.tostring(doc)


def root_attributes(value: bytes) -> dict[str, str]:
    """The attributes of a stored document's root element, without parsing the rest of it.

    For the DC's quorum/DC writes, which need the configuration's ``validate-with`` and nothing else:
    parsing a configuration of thousands of resources for it would cost more than the write.
    """
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True)
    step = 64 * 1024
    for at in range(0, len(value), step):
        parser.feed(value[at:at + step])
        for _event, el in parser.read_events():
            if isinstance(el, etree._Element):
                return cib.attributes(el)
    raise cib.CibError("a stored CIB value has no root element")


def split_status(root: cib.Element) -> dict[str, cib.Element]:
    out = {}
    status = root.find("status")
    if status is not None:
        for ns in status.iterfind("node_state"):
            name = ns.get("uname") or ns.get("id")
            if name:
                out[name] = ns
    return out


def cluster_document(attrs: Mapping[str, str]) -> bytes:
    return etree.tostring(etree.Element("cluster", {k: v for k, v in attrs.items() if v is not None}))
