"""The CIB held in a JetStream KV bucket, every write a compare-and-set on the key's revision.

Writers read a key, change it, and write it back only if nobody wrote in
between (``update(last=revision)``); on a lost race a merge-style change
(patch, modify) is re-applied to the fresh value, while a whole-document
replace with an expected version is refused so the caller can decide. A change
that fails validation raises before anything is written: the referential and
value checks of :mod:`paceline.shared`, then the CIB's RELAX NG schema
(:mod:`paceline.cib_store.schema`). Each refuses only what the write *adds*,
so a CIB stored before a check existed stays writable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree
from nats.js import JetStreamContext
from nats.js.errors import KeyDeletedError, KeyNotFoundError, KeyWrongLastSequenceError, NotFoundError
from nats.js.kv import KeyValue
from paceline.cib_store import layout
from paceline.cib_store.schema import Schemas
from paceline.cib_store.schema import default as default_schemas
from paceline.shared import cib, jetstream, limits, lrm
from paceline.shared.cluster import tickets
from paceline.shared.cluster.checks import new_problems, value_problems
from prometheus_client import Counter

#: Damaged values found in the bucket (written around the store) and read past.
CORRUPT = Counter("paceline_cib_damaged_values_total",
                  "CIB values in the bucket that were not a CIB (read past to the newest sound revision)")
MAX_RETRIES = 50
HISTORY = 64
#: How long a query that may be answered from the last good copy waits for the bucket's leader.
LEADER_PATIENCE = 1.5


class Conflict(Exception):
    """The CIB changed since the version the caller based its change on."""


@dataclass
class WriteResult:
    old: cib.Version
    new: cib.Version
    scope: str
    node: str = ""


def _replacement(element: cib.Element) -> Callable[[cib.Element], cib.Element]:
    """A status change that puts ``element`` in place of whatever the node's status was (an import)."""
    return lambda _current: element


def _same_configuration(current: cib.Version, expected: str) -> bool:
    """Writers base configuration changes on admin_epoch.epoch; status updates in between do not conflict."""
    want = cib.Version.parse(expected)
    return (current.admin_epoch, current.epoch) == (want.admin_epoch, want.epoch)


class CibStore:
    def __init__(self, js: JetStreamContext, bucket: str, replicas: int = 1, log: Any = None,
                 schemas: Schemas | None = None):
        """``schemas``: the grammars writes are checked against (default: Pacemaker's where installed)."""
        self.js = js
        self.schemas = schemas if schemas is not None else default_schemas()
        self.bucket = bucket
        self.replicas = replicas
        self.log = log
        self.kv: KeyValue | None = None
        self.last_good: layout.Entries | None = None  # the newest copy read from the leader

    async def open(self) -> None:
        kv = self.kv = await jetstream.open_kv(self.js, self.bucket, HISTORY, self.replicas, self.log)

        async def initialise() -> None:
            try:
                await kv.create(layout.CONFIG_KEY, layout.stored(layout.config_document(cib.empty())))
            except KeyWrongLastSequenceError:
                pass  # already initialised (possibly by another instance just now)

        await jetstream.when_available(initialise, self.bucket, self.log)

    # ------------------------------------------------------------ reading
    async def _get(self, key: str) -> tuple[bytes | None, int]:
        assert self.kv is not None
        try:
            entry = await self.kv.get(key)
        except (KeyNotFoundError, KeyDeletedError):
            return None, 0
        return layout.loaded(entry.value or b""), entry.revision or 0

    # A value that is not what its key holds (a raw write into the bucket by someone with the store's key,
    # ``<not-xml``) is not taken for it: the newest sound value of the key's history is read instead, under
    # the newest revision, so that the next write replaces the damage (a compare-and-set on that revision)
    # and nothing reads garbage meanwhile. Values are checked only when reading them failed: a sound read
    # costs nothing more.
    async def _sound_value(self, key: str, value: bytes, revision: int) -> bytes:
        """``value`` if it is sound, else the newest sound value of ``key``'s history; none: empty (as if not
        written yet) for a node's status or the DC's facts, CibError for the configuration."""
        problem = layout.unsound(key, value)
        if problem is None:
            return value
        CORRUPT.inc()
        for older_revision, older in reversed(await self._history(key, revision)):
            if layout.unsound(key, older) is None:
                if self.log is not None:
                    self.log.error("a stored CIB value is damaged: reading the newest sound one instead",
                                   key=key, revision=revision, problem=problem, sound_revision=older_revision)
                return layout.loaded(older)
        if key != layout.CONFIG_KEY:
            # A node's status or the DC's facts: their writers record them again; read as not written yet.
            if self.log is not None:
                self.log.error("a stored CIB value is damaged and none before it is sound: read as empty",
                               key=key, revision=revision, problem=problem)
            return b""
        raise cib.CibError(f"the stored configuration is damaged ({problem}) and no earlier revision is sound")

    async def _history(self, key: str, before: int) -> list[tuple[int, bytes]]:
        """``key``'s earlier values (revision, raw value), oldest first, read message by message from the
        stream (next by subject): ``KeyValue.history`` starts a watcher whose first answer may say "nothing
        pending" before the consumer caught up (it raised "no keys found" on a loaded machine)."""
        stream, subject = f"KV_{self.bucket}", f"$KV.{self.bucket}.{key}"
        out: list[tuple[int, bytes]] = []
        seq = 1
        for _ in range(HISTORY + 1):
            try:
                msg = await self.js.get_msg(stream, seq=seq, subject=subject, next=True)
            except NotFoundError:
                break
            if msg.seq is None or msg.seq >= before:
                break
            if msg.data:
                out.append((msg.seq, msg.data))
            seq = msg.seq + 1
        return out

    async def _mended(self, entries: layout.Entries) -> layout.Entries:
        """``entries`` with every damaged value replaced by its key's newest sound one."""
        return {key: (await self._sound_value(key, value, rev), rev) for key, (value, rev) in entries.items()}

    async def _parse(self, key: str, value: bytes | None, revision: int) -> cib.Element | None:
        """One key's value parsed, read past when damaged; None when there is none (or none sound)."""
        if not value:
            return None
        try:
            return layout.parsed(key, value)
        except cib.CibError:
            sound = await self._sound_value(key, value, revision)
            return layout.parsed(key, sound) if sound else None

    async def _key_names(self) -> list[str]:
        """Every key that has a value or a delete marker, from the server's per-subject stream state.

        Not ``KeyValue.keys()``: that walks an ephemeral watcher, which misses or repeats keys that
        are written while it runs and leaves a consumer on the server for minutes, so that after a
        thousand reads the stream refuses new consumers. A CIB read without a node's status or the
        DC facts is a wrong CIB (the DC would plan as if the node ran nothing). One stream-info
        request answers from the stream's own index, at one point in time, and leaves nothing behind.
        """
        prefix = f"$KV.{self.bucket}."
        info = await self.js.stream_info(f"KV_{self.bucket}", subjects_filter=prefix + ">")
        return sorted(subject[len(prefix):] for subject in (info.state.subjects or {}))

    async def _leader_entries(self) -> layout.Entries:
        """Every key of the CIB as the bucket's leader has it (JetStream reads go to the stream leader)."""
        value, rev = await self._get(layout.CONFIG_KEY)
        entries: layout.Entries = {layout.CONFIG_KEY: (value or b"", rev)}
        for key in await self._key_names():
            if key.startswith(layout.STATUS_PREFIX) or key in (layout.CLUSTER_KEY, layout.TICKETS_KEY):
                v, r = await self._get(key)
                if v:
                    entries[key] = (v, r)
        return entries

    async def read(self) -> layout.Snapshot:
        """The CIB from the bucket's leader (what every write is based on); remembered as the last good copy."""
        entries = await self._leader_entries()
        try:
            snap = layout.snapshot(entries)
        except cib.CibError:
            entries = await self._mended(entries)
            snap = layout.snapshot(entries)
        self.last_good = entries
        return snap

    async def query(self, fresh: bool = True) -> tuple[cib.Element, cib.Version, bool]:
        """The CIB, its version, and whether it is the last good copy rather than the leader's.

        When the machine holding the bucket's stream leader dies, JetStream takes seconds to elect
        another, and a leader read waits all that time. Unless ``fresh`` is asked for, a read that the
        leader has not answered within :data:`LEADER_PATIENCE` is served from the last copy this
        instance read, so that ``paceline status`` shows the cluster during the election. Readers that
        act on what they read (the DC, membership, the executor) ask for ``fresh``; every write reads
        the leader's copy and is a compare-and-set on it, so a stale copy never becomes a write.
        """
        if fresh or self.last_good is None:
            snap = await self.read()
            return snap.assemble(), snap.version, False
        try:
            snap = await asyncio.wait_for(self.read(), LEADER_PATIENCE)
            return snap.assemble(), snap.version, False
        except jetstream.LEADERLESS as exc:
            if self.log is not None:
                self.log.warning("the bucket's leader did not answer: serving the last good copy",
                                 error=str(exc) or type(exc).__name__)
            snap = layout.snapshot(self.last_good)
            return snap.assemble(), snap.version, True

    # ------------------------------------------------------------ config writes
    async def _write_config(self, change: Callable[[cib.Element], cib.Element],
                            expected: str | None, client: str) -> WriteResult:
        for _ in range(MAX_RETRIES):
            snap = await self.read()
            old = snap.version
            if expected is not None and not _same_configuration(old, expected):
                raise Conflict(f"the configuration is at version {old}, not {expected}: re-read and try again")
            current = snap.assemble()
            before = value_problems(current)  # a CIB stored before the checks existed stays writable
            new_root = change(current)
            cib.ensure_sections(new_root)
            cib.check(new_root)
            added = new_problems(before, new_root, value_problems)
            if added:
                raise cib.CibError("; ".join(added), added)
            ver = cib.version(new_root)
            epoch = max(old.epoch + 1, ver.epoch if ver.admin_epoch > old.admin_epoch else 0)
            cib.set_version(new_root, cib.Version(max(old.admin_epoch, ver.admin_epoch), epoch, 0))
            cib.stamp_change(new_root, client)
            refused = self._schema_additions(snap, new_root)
            if refused:
                raise self.schemas.refusal(new_root, refused)
            document = layout.config_document(new_root)
            if len(document) > limits.MAX_CIB_BYTES:
                raise cib.CibError(limits.refusal("the configuration", len(document), limits.MAX_CIB_BYTES,
                                                  "MAX_CIB_BYTES"))
            try:
                assert self.kv is not None
                await self.kv.update(layout.CONFIG_KEY, layout.stored(document), last=snap.config_rev)
            except KeyWrongLastSequenceError:
                if expected is not None:
                    raise Conflict("the CIB changed while this change was being written; try again") from None
                continue
            return WriteResult(old, cib.Version(cib.version(new_root).admin_epoch, epoch, 0), "configuration")
        raise Conflict("too much contention writing the configuration")

    def _schema_additions(self, snap: layout.Snapshot, new_root: cib.Element) -> list[str]:
        """The schema problems ``new_root`` has that the stored CIB (``snap``) did not have.

        The document as it will be stored (versions and change stamp set) is what is checked, as
        Pacemaker checks the result of a change. The stored CIB is validated only when the new one fails,
        so that a sound write costs one validation.
        """
        after = self.schemas.problems(new_root)
        if not after:
            return []
        before = self.schemas.problems(snap.assemble())
        return new_problems(before, new_root, lambda _root: after)

    async def replace(self, xml: str, expected: str | None = None, client: str = "cibadmin",
                      with_status: bool = False) -> WriteResult:
        """Replace the configuration; with ``with_status`` (an imported CIB) also each node's status."""
        incoming = cib.parse_cib(xml)
        cib.check(incoming)
        result = await self._write_config(lambda _current: incoming, expected, client)
        if with_status:
            for node, ns in layout.split_status(incoming).items():
                await self._write_status(node, _replacement(ns))
            imported = tickets.tickets_element(incoming, create=False)
            if imported is not None:
                current = await self.read()
                await self.set_tickets(tickets.changes_between(current.tickets, imported))
        return result

    async def modify(self, section: str, xml: str, client: str = "cibadmin") -> WriteResult:
        """Replace one configuration section (crm_config, nodes, resources, constraints, ...)."""
        if section not in cib.CONFIG_SECTIONS:
            raise cib.CibError(f"unknown section {section!r}; one of {', '.join(cib.CONFIG_SECTIONS)}")
        new_section = cib.parse(xml)
        if new_section.tag != section:
            raise cib.CibError(f"expected a <{section}> element, got <{new_section.tag}>")

        def change(current: cib.Element) -> cib.Element:
            conf = cib.ensure_sections(current)
            old = conf.find(section)
            copy = etree.fromstring(etree.tostring(new_section))
            if old is None:
                conf.append(copy)
            else:
                conf.replace(old, copy)
            return current

        return await self._write_config(change, None, client)

    async def erase(self, client: str = "cibadmin") -> WriteResult:
        """Empty the configuration but keep the node list, as ``crm configure erase`` does."""

        def change(current: cib.Element) -> cib.Element:
            conf = cib.ensure_sections(current)
            for name in ("crm_config", "resources", "constraints", "rsc_defaults", "op_defaults"):
                el = conf.find(name)
                if el is not None:
                    for child in list(el):
                        el.remove(child)
            return current

        return await self._write_config(change, None, client)

    # ------------------------------------------------------------ status writes
    async def _write_status(self, node: str, change: Callable[[cib.Element], cib.Element]) -> WriteResult:
        assert self.kv is not None
        key = layout.status_key(node)
        for _ in range(MAX_RETRIES):
            value, rev = await self._get(key)
            config_value, config_rev = await self._get(layout.CONFIG_KEY)
            config = await self._parse(layout.CONFIG_KEY, config_value, config_rev)
            if config is None:
                config = cib.empty()
            ns = await self._parse(key, value, rev)
            if ns is None:
                n = cib.node_by_uname(config, node)
                ns = etree.Element("node_state", id=(n.get("id") if n is not None else None) or node, uname=node)
            ns = change(ns)
            ver = cib.version(config)
            try:
                value = layout.stored(etree.tostring(ns))
                new_rev = (await self.kv.update(key, value, last=rev) if rev else await self.kv.create(key, value))
            except KeyWrongLastSequenceError:
                continue
            return WriteResult(cib.Version(ver.admin_epoch, ver.epoch, max(0, rev - config_rev)),
                               cib.Version(ver.admin_epoch, ver.epoch, new_rev - config_rev), "status", node)
        raise Conflict(f"too much contention writing the status of {node}")

    async def patch(self, node: str, ops: Sequence[Mapping[str, Any]]) -> WriteResult:
        """Apply a status patch (paceline.shared.lrm's language) to one node's status."""

        def change(ns: cib.Element) -> cib.Element:
            lrm.apply_status_ops(ns, ops)
            return ns

        # Validate the ops on a scratch element first, so a bad patch writes nothing.
        lrm.apply_status_ops(etree.Element("node_state", id="probe", uname=node), ops)
        return await self._write_status(node, change)

    async def _check_cluster_facts(self, current: Mapping[str, str], wanted: Mapping[str, str]) -> None:
        """Refuse facts the schema does not allow on the CIB root (a ``have-quorum`` that is no boolean).

        Only the root element is validated: these attributes live nowhere else, and reading only the
        configuration's start tag keeps the DC's writes cheap on a large CIB.
        """
        value, rev = await self._get(layout.CONFIG_KEY)
        try:
            base = layout.root_attributes(value) if value else cib.attributes(cib.empty())
        except cib.CibError:
            config = await self._parse(layout.CONFIG_KEY, value, rev)
            base = cib.attributes(config if config is not None else cib.empty())
        base.setdefault("num_updates", "0")  # derived, not stored; the schema wants it on every CIB
        after = self.schemas.root_problems({**base, **wanted})
        if not after:
            return
        before = self.schemas.root_problems({**base, **current})
        added = [p for p in after if p not in set(before)]
        if added:
            raise self.schemas.refusal(etree.Element("cib", base), added)

    async def set_cluster(self, attrs: Mapping[str, str | None]) -> WriteResult | None:
        """Record quorum and DC facts; a write only happens when something changed."""
        assert self.kv is not None
        for _ in range(MAX_RETRIES):
            value, rev = await self._get(layout.CLUSTER_KEY)
            facts = await self._parse(layout.CLUSTER_KEY, value, rev)
            current = cib.attributes(facts) if facts is not None else {}
            wanted = dict(current)
            for k, v in attrs.items():
                if v is None:
                    wanted.pop(k, None)
                else:
                    wanted[k] = v
            if wanted == current and rev:
                return None
            await self._check_cluster_facts(current, wanted)
            try:
                doc = layout.cluster_document(wanted)
                if rev:
                    await self.kv.update(layout.CLUSTER_KEY, doc, last=rev)
                else:
                    await self.kv.create(layout.CLUSTER_KEY, doc)
            except KeyWrongLastSequenceError:
                await asyncio.sleep(0)
                continue
            snap = await self.read()
            return WriteResult(snap.version, snap.version, "cluster")
        raise Conflict("too much contention writing the cluster facts")

    # ------------------------------------------------------------ tickets
    async def set_tickets(self, changes: tickets.TicketChanges) -> WriteResult | None:
        """Apply a change of the tickets' states (``paceline.shared.cluster.tickets.changes_between``) to the
        tickets as they are stored; a write only happens when something changed."""
        assert self.kv is not None
        for _ in range(MAX_RETRIES):
            value, rev = await self._get(layout.TICKETS_KEY)
            stored = await self._parse(layout.TICKETS_KEY, value, rev)
            current = stored if stored is not None else etree.Element("tickets")
            wanted = etree.fromstring(etree.tostring(current))
            try:
                tickets.apply_changes(wanted, changes)
            except ValueError as exc:
                raise cib.CibError(f"tickets: {exc}") from None
            if etree.tostring(wanted) == etree.tostring(current) and rev:
                return None
            try:
                doc = layout.stored(etree.tostring(wanted))
                if rev:
                    await self.kv.update(layout.TICKETS_KEY, doc, last=rev)
                else:
                    await self.kv.create(layout.TICKETS_KEY, doc)
            except KeyWrongLastSequenceError:
                await asyncio.sleep(0)
                continue
            snap = await self.read()
            return WriteResult(snap.version, snap.version, "tickets")
        raise Conflict("too much contention writing the tickets")
