"""cib-store over a real nats-server: query, CAS writes, validation, patches, events, restarts."""

from __future__ import annotations

import asyncio

import nats
import pytest
from paceline.cib_store.service import run
from paceline.shared import bus, cib, codec
from paceline.shared.subjects import Subjects
from prometheus_client import REGISTRY

from tests.servicekit import running
from tests.support.wait import until_async

pytestmark = pytest.mark.integration
S = Subjects("default")

PRIMITIVE = '<primitive id="d1" class="ocf" provider="heartbeat" type="Dummy"/>'


def with_resources(xml_root: cib.Element, inner: str) -> str:
    res = cib.section(xml_root, "resources")
    for child in list(res):
        res.remove(child)
    res.append(cib.parse(f"<x>{inner}</x>")[0]) if inner else None
    return cib.serialize(xml_root)


async def query(nc) -> tuple[cib.Element, str]:
    reply = await bus.request(nc, S.cib("query"), "query")
    return cib.parse_cib(reply["xml"]), reply["version"]


async def test_replace_query_patch_and_events(nats_server, tmp_path):
    async with running("cib-store", run, nats_server.url, tmp_path) as ctx:
        nc = ctx.nc
        events: list[dict] = []

        async def on_event(msg):
            events.append(codec.decode(msg.data).body)

        await nc.subscribe(S.cib_changed, cb=on_event)
        root, version = await query(nc)
        assert version == "0.0.0"
        new = cib.empty(["primary", "secondary"])
        cib.section(new, "resources").append(cib.parse(PRIMITIVE))
        reply = await bus.request(nc, S.cib("replace"), "replace",
                                  {"xml": cib.serialize(new), "expected_version": version})
        assert reply["version"] == "0.1.0"
        # a stale expected version is refused and changes nothing
        with pytest.raises(bus.RemoteError) as err:
            await bus.request(nc, S.cib("replace"), "replace",
                              {"xml": cib.serialize(new), "expected_version": "0.0.0"})
        assert err.value.code == "conflict"
        reply = await bus.request(nc, S.cib("patch"), "patch", {"node": "primary", "client": "test", "ops": [
            {"op": "node_state", "attrs": {"in_ccm": "true", "crmd": "online"}},
            {"op": "attr", "name": "standby", "value": "on"}]})
        assert reply["version"] == "0.1.1"
        root, version = await query(nc)
        assert version == "0.1.1"
        ns = root.find("status/node_state")
        assert ns is not None and ns.get("uname") == "primary" and ns.get("id") == "1" and ns.get("crmd") == "online"
        assert [p.get("id") for p in root.iterfind("configuration/resources/primitive")][:1] == ["d1"]
        await asyncio.sleep(0.1)
        assert [e["scope"] for e in events] == ["configuration", "status"]
        assert events[0]["old"] == "0.0.0" and events[0]["new"] == "0.1.0"
        # a status patch's event carries its ops (the node's executor follows others' deletions); others none
        assert events[0]["ops"] == [] and events[1]["node"] == "primary" and events[1]["ops"] == [
            {"op": "node_state", "attrs": {"in_ccm": "true", "crmd": "online"}},
            {"op": "attr", "name": "standby", "value": "on"}]


async def test_invalid_changes_write_nothing(nats_server, tmp_path):
    async with running("cib-store", run, nats_server.url, tmp_path) as ctx:
        nc = ctx.nc
        _, before = await query(nc)
        bad_ref = cib.empty(["primary"])
        cib.section(bad_ref, "resources").append(cib.parse(PRIMITIVE))
        cib.section(bad_ref, "constraints").append(
            cib.parse('<rsc_location id="l1" rsc="nosuch" node="primary" score="50"/>'))
        dup = cib.empty(["primary"])
        cib.section(dup, "resources").append(cib.parse(PRIMITIVE))
        cib.section(dup, "resources").append(cib.parse(PRIMITIVE))
        for xml, needle in ((cib.serialize(bad_ref), "unknown resource 'nosuch'"),
                            (cib.serialize(dup), "duplicate id 'd1'"),
                            ("<cib><configuration>", "malformed XML")):
            with pytest.raises(bus.RemoteError) as err:
                await bus.request(nc, S.cib("replace"), "replace", {"xml": xml})
            assert err.value.code == "invalid" and needle in str(err.value)
        with pytest.raises(bus.RemoteError) as err:
            await bus.request(nc, S.cib("patch"), "patch", {"node": "primary", "ops": [{"op": "explode"}]})
        assert "unknown status op" in str(err.value)
        _, after = await query(nc)
        assert after == before


async def test_malformed_requests_are_counted_and_service_keeps_serving(nats_server, tmp_path):
    async with running("cib-store", run, nats_server.url, tmp_path) as ctx:
        def dropped() -> float:
            return REGISTRY.get_sample_value("paceline_malformed_messages_total",
                                             {"service": "cib-store", "subject": S.cib("patch")}) or 0.0

        before = dropped()
        for junk in (b"\xc1\xc1garbage", codec.encode("query"), codec.encode("patch", {"node": 3})):
            reply = codec.decode((await ctx.nc.request(S.cib("patch"), junk, timeout=2)).data)
            assert reply.kind == "error" and reply.body["code"] == "malformed"
        assert dropped() == before + 3
        _, version = await query(ctx.nc)
        assert version == "0.0.0"


async def test_survives_restart_of_nats_server(nats_server, tmp_path):
    async with running("cib-store", run, nats_server.url, tmp_path) as ctx:
        new = cib.empty(["primary"])
        cib.section(new, "resources").append(cib.parse(PRIMITIVE))
        await bus.request(ctx.nc, S.cib("replace"), "replace", {"xml": cib.serialize(new)})
        nats_server.stop()
        nats_server.start()
        async def answered() -> tuple[cib.Element, str]:
            try:
                return await query(ctx.nc)
            except (bus.BusUnavailable, bus.RemoteError) as exc:
                raise AssertionError(f"not answering yet: {exc}") from None

        root, version = await until_async(answered, "the cib-store answers again", 10, interval=0.1)
        assert version == "0.1.0"
        assert [p.get("id") for p in root.iterfind("configuration/resources/primitive")][:1] == ["d1"]
    # and a fresh cib-store instance over the same bucket sees the same CIB
    async with running("cib-store", run, nats_server.url, tmp_path):
        nc = await nats.connect(nats_server.url)
        _, version = await query(nc)
        assert version == "0.1.0"
        await nc.close()


async def test_a_configuration_over_nats_max_payload_is_stored_and_read_back(nats_server, tmp_path):
    """5,000 primitives with a parameter each make a configuration of about 1.3 MiB, over NATS's 1 MiB
    max_payload: the bucket holds it compressed, and a query returns it whole."""
    async with running("cib-store", run, nats_server.url, tmp_path) as ctx:
        _root, version = await query(ctx.nc)
        new = cib.empty(["primary", "secondary"])
        resources = cib.section(new, "resources")
        for i in range(5000):
            rid = f"big-resource-number-{i}"
            resources.append(cib.parse(
                f'<primitive id="{rid}" class="ocf" provider="heartbeat" type="Dummy"><instance_attributes '
                f'id="{rid}-ia"><nvpair id="{rid}-state" name="state" value="/run/{rid}.state"/>'
                "</instance_attributes></primitive>"))
        assert len(cib.serialize(new).encode()) > 1024 * 1024
        await bus.request(ctx.nc, S.cib("replace"), "replace", {"xml": cib.serialize(new),
                                                                 "expected_version": version}, timeout=30)
        root, _version = await query(ctx.nc)
        assert len(root.findall("configuration/resources/primitive")) == 5000


async def test_a_value_pacemaker_would_refuse_is_refused_by_the_store(nats_server, tmp_path):
    """Whoever writes (an admin's tool, not the crm shell), the store refuses a bad value with one line and
    keeps what it had."""
    async with running("cib-store", run, nats_server.url, tmp_path) as ctx:
        nc = ctx.nc
        _, before = await query(nc)
        bad = cib.empty(["primary"])
        cib.section(bad, "resources").append(cib.parse(
            '<primitive id="d1" class="ocf" provider="heartbeat" type="Dummy"><operations>'
            f'<op id="d1-mon" name="monitor" interval="{"9" * 30}"/></operations></primitive>'))
        with pytest.raises(bus.RemoteError) as err:
            await bus.request(nc, S.cib("replace"), "replace", {"xml": cib.serialize(bad)})
        assert err.value.code == "invalid" and "interval" in str(err.value) and "\n" not in str(err.value)
        _, after = await query(nc)
        assert after == before


async def test_a_cib_the_schema_refuses_is_refused_and_changes_nothing(nats_server, tmp_path):
    """Issue 12: ``score="banana"`` in a rule, or an element Pacemaker does not know, was stored and its resource
    started. Each is now refused with one line naming the object and the fault, through every write."""
    async with running("cib-store", run, nats_server.url, tmp_path) as ctx:
        nc = ctx.nc
        good = cib.empty(["primary"])
        cib.section(good, "resources").append(cib.parse(PRIMITIVE))
        await bus.request(nc, S.cib("replace"), "replace", {"xml": cib.serialize(good)})
        before_root, before = await query(nc)
        banana = cib.parse_cib(cib.serialize(good))
        cib.section(banana, "constraints").append(cib.parse(
            '<rsc_location id="l1" rsc="d1"><rule id="l1-r" score="banana">'
            '<expression id="l1-e" attribute="#uname" operation="eq" value="primary"/></rule></rsc_location>'))
        unknown = cib.parse_cib(cib.serialize(good))
        cib.section(unknown, "resources")[0].append(cib.parse('<bananas id="b1"/>'))
        for doc, needles in ((banana, ("rsc_location 'l1' > rule 'l1-r'", "score='banana'")),
                             (unknown, ("primitive 'd1'", "<bananas>"))):
            with pytest.raises(bus.RemoteError) as err:
                await bus.request(nc, S.cib("replace"), "replace", {"xml": cib.serialize(doc)})
            message = str(err.value)
            assert err.value.code == "invalid" and "\n" not in message, message
            assert "refused by" in message and all(n in message for n in needles), message
        # the same through a section write
        with pytest.raises(bus.RemoteError) as err:
            await bus.request(nc, S.cib("modify"), "modify", {"section": "resources", "xml": (
                '<resources><primitive id="d1" class="ocf" provider="heartbeat" type="Dummy">'
                '<operations><op id="d1-mon" name="monitor" timeout="20s"/></operations>'
                "</primitive></resources>")})
        assert err.value.code == "invalid" and "op 'd1-mon': attribute interval is missing" in str(err.value)
        # and the DC facts on the root
        with pytest.raises(bus.RemoteError) as err:
            await bus.request(nc, S.cib("cluster"), "cluster", {"attrs": {"have-quorum": "maybe"}})
        assert err.value.code == "invalid" and "have-quorum='maybe'" in str(err.value)
        after_root, after = await query(nc)
        assert after == before
        assert cib.serialize(after_root) == cib.serialize(before_root)


@pytest.mark.parametrize("grammar", ["installed", "shipped"])
async def test_a_stored_cib_that_fails_the_schema_stays_writable_but_takes_no_new_fault(nats_server, grammar):
    """A CIB stored before the schema check (here: written into the bucket directly) keeps its fault through
    writes that do not touch it; a write that adds another fault is refused. With Pacemaker's grammar where
    installed, and with the one Paceline ships."""
    from paceline.cib_store import layout
    from paceline.cib_store.schema import Schemas
    from paceline.cib_store.store import CibStore

    nc = await nats.connect(nats_server.url)
    try:
        schemas = Schemas.installed() if grammar == "installed" else Schemas.shipped()
        store = CibStore(nc.jetstream(), "legacy", schemas=schemas)
        await store.open()
        old = cib.empty(["primary"])
        cib.section(old, "resources").append(cib.parse(
            '<primitive id="d1" class="ocf" provider="heartbeat" type="Dummy" colour="red"/>'))
        assert store.kv is not None
        await store.kv.put(layout.CONFIG_KEY, layout.stored(layout.config_document(old)))
        await store.modify("nodes", '<nodes><node id="1" uname="primary"/><node id="2" uname="secondary"/></nodes>')
        root, _version, _stale = await store.query()
        assert [n.get("uname") for n in root.iterfind("configuration/nodes/node")] == ["primary", "secondary"]
        with pytest.raises(cib.CibError) as err:
            await store.modify("constraints", '<constraints><rsc_location id="l1" rsc="d1" node="primary" '
                                              'score="50" resource-discovery="sometimes"/></constraints>')
        message = str(err.value)
        assert "resource-discovery='sometimes'" in message and "colour" not in message, message
        root, _version, _stale = await store.query()
        assert root.find("configuration/constraints/rsc_location") is None
    finally:
        await nc.close()


async def test_a_damaged_value_written_around_the_store_is_read_past_and_replaced(nats_server, tmp_path):
    """A raw bucket write (someone holding the store's key): ``<not-xml`` broke every reader and recovery.
    The store reads the key's newest sound revision instead, counts it, and the next write replaces it."""
    async with running("cib-store", run, nats_server.url, tmp_path) as ctx:
        nc = ctx.nc
        new = cib.empty(["primary", "secondary"])
        cib.section(new, "resources").append(cib.parse(PRIMITIVE))
        await bus.request(nc, S.cib("replace"), "replace", {"xml": cib.serialize(new)})
        await bus.request(nc, S.cib("patch"), "patch", {"node": "primary", "client": "test", "ops": [
            {"op": "attr", "name": "standby", "value": "on"}]})
        kv = await nc.jetstream().key_value(S.cib_bucket)
        for key, junk in (("configuration", b"<not-xml"), ("status.primary", b"<cib/>"), ("cluster", b"\x00")):
            await kv.put(key, junk)
        damaged = REGISTRY.get_sample_value("paceline_cib_damaged_values_total") or 0.0
        root, _version = await query(nc)
        assert cib.find_resource(root, "d1") is not None
        assert cib.node_state(root, "primary", create=False) is not None
        assert (REGISTRY.get_sample_value("paceline_cib_damaged_values_total") or 0.0) >= damaged + 2
        await bus.request(nc, S.cib("patch"), "patch", {"node": "primary", "client": "test", "ops": [
            {"op": "attr", "name": "standby", "value": "off"}]})
        await bus.request(nc, S.cib("cluster"), "cluster", {"attrs": {"have-quorum": "1"}, "client": "test"})
        await bus.request(nc, S.cib("modify"), "modify", {"section": "resources", "xml": "<resources>" + PRIMITIVE
                                                           + PRIMITIVE.replace('id="d1"', 'id="d2"') + "</resources>"})
        for key in ("configuration", "status.primary", "cluster"):
            assert (await kv.get(key)).value not in (b"<not-xml", b"<cib/>", b"\x00"), key
        root, _version = await query(nc)
        assert cib.find_resource(root, "d1") is not None and cib.find_resource(root, "d2") is not None


async def test_a_configuration_over_the_size_limit_is_refused(nats_server, tmp_path):
    from paceline.shared.limits import MAX_CIB_BYTES

    async with running("cib-store", run, nats_server.url, tmp_path) as ctx:
        big = cib.empty(["primary"])
        prim = cib.parse(PRIMITIVE)
        prim.set("description", "x" * MAX_CIB_BYTES)
        cib.section(big, "resources").append(prim)
        with pytest.raises(bus.RemoteError, match="over the limit of 8 MiB"):
            await bus.request(ctx.nc, S.cib("replace"), "replace", {"xml": cib.serialize(big)}, timeout=30)
        root, _version = await query(ctx.nc)
        assert cib.find_resource(root, "d1") is None


async def test_tickets_are_stored_as_changes_and_read_back_first_in_the_status(nats_server, tmp_path):
    """``cib.tickets``: each change applies to the tickets as stored (writers of different tickets never undo
    each other); the document shows them first in the status section; a change that cannot be one (not an
    attribute name) is refused and writes nothing; a change that changes nothing is no write."""
    async with running("cib-store", run, nats_server.url, tmp_path) as ctx:
        nc = ctx.nc
        await bus.request(nc, S.cib("patch"), "patch", {"node": "primary", "client": "test", "ops": [
            {"op": "node_state", "attrs": {"in_ccm": "true", "crmd": "online"}}]})
        reply = await bus.request(nc, S.cib("tickets"), "tickets",
                                  {"changes": {"siteA": {"granted": "true", "last-granted": "100"}}})
        assert reply["changed"]
        await bus.request(nc, S.cib("tickets"), "tickets", {"changes": {"siteB": {"standby": "true"}}})
        await bus.request(nc, S.cib("tickets"), "tickets", {"changes": {"siteA": {"granted": "false"}}})
        root, version = await query(nc)
        status = root.find("status")
        assert status is not None and status[0].tag == "tickets" and status[1].tag == "node_state"
        assert [cib.attributes(el) for el in status[0]] == [
            {"id": "siteA", "granted": "false", "last-granted": "100"}, {"id": "siteB", "standby": "true"}]
        with pytest.raises(bus.RemoteError) as err:
            await bus.request(nc, S.cib("tickets"), "tickets", {"changes": {"siteA": {"bad name": "1"}}})
        assert err.value.code == "invalid"
        unchanged = await bus.request(nc, S.cib("tickets"), "tickets", {"changes": {"siteB": {"standby": "true"}}})
        assert not unchanged["changed"]
        await bus.request(nc, S.cib("tickets"), "tickets", {"changes": {"siteA": None}})
        root, new_version = await query(nc)
        assert [el.get("id") for el in root.iterfind("status/tickets/ticket_state")] == ["siteB"]
        assert new_version != version
