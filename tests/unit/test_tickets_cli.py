"""Tickets for users: the ``site ticket`` level, the ``crm_ticket`` stand-in, ``status -c`` and the store's
ticket changes.

Where Debian's ``crm_ticket`` and ``crm_mon`` (pacemaker-cli-utils 2.1.5) are installed, the stand-in's
answers and writes are compared with theirs on the same CIB file (``CIB_file``); the texts they printed
are kept here too, so that the formatting is checked everywhere.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from paceline.cli import crm_ticket as ct
from paceline.cli.pcmk_tools import ToolError
from paceline.crm.dispatch import execute
from paceline.crm.errors import CrmError
from paceline.shared import cib
from paceline.shared.cluster import crm_mon, tickets
from paceline.shared.cluster.unpack import unpack

from tests.support.cibs import NOW, both_online, prim
from tests.support.cibs import cib as make_cib

REAL = shutil.which("crm_ticket") is not None and shutil.which("crm_mon") is not None
needs_real = pytest.mark.skipif(not REAL, reason="Debian's crm_ticket/crm_mon are not installed "
                                                 "(apt-get install pacemaker-cli-utils)")

#: 2026-12-07 00:20:08 UTC
GRANTED_AT = 1796602808


def cluster(states: str, constraints: str = "") -> str:
    """Node d1 and the tickets ``states``, valid for Pacemaker's tools (which check the schema it names)."""
    xml = make_cib(prim("d1"), f"<tickets>{states}</tickets>" + both_online(), constraints)
    return xml.replace("<cib ", '<cib validate-with="pacemaker-3.0" ', 1)


def root_of(xml: str) -> cib.Element:
    return cib.parse_cib(xml)


# ------------------------------------------------------------------ formatting (Debian's texts)

def test_glib_order_is_the_order_debians_tools_list_in():
    # What crm_mon -c and crm_ticket -l printed for these tickets, created in this order.
    assert tickets.glib_order(list("abcd")) == list("bdac")
    assert tickets.glib_order(list("abcde")) == list("bdace")
    assert tickets.glib_order([f"x{i}" for i in range(1, 7)]) == ["x5", "x2", "x4", "x6", "x1", "x3"]
    assert tickets.glib_order([f"t{i}" for i in range(1, 10)]) == ["t9", "t2", "t8", "t1", "t7", "t6", "t5", "t4", "t3"]
    assert tickets.glib_order(["granted", "last-granted", "standby"]) == ["granted", "standby", "last-granted"]


def test_listing_and_status_lines():
    os.environ["TZ"] = "UTC"
    time.tzset()
    state = unpack(root_of(cluster(
        f'<ticket_state id="ticketA" granted="true" last-granted="{GRANTED_AT}" standby="true"/>'
        '<ticket_state id="ticketB" standby="false" foo="bar"/>')), NOW)
    a, b = state.tickets["ticketA"], state.tickets["ticketB"]
    assert tickets.listing_line(a) == "ticketA\tgranted [standby] last-granted='Mon Dec  7 00:20:08 2026'"
    assert tickets.listing_line(a, details=True) == \
        "ticketA\tgranted [standby] (granted=true, standby=true, last-granted='Mon Dec  7 00:20:08 2026')"
    assert tickets.listing_line(b) == "ticketB\trevoked          "
    assert tickets.listing_line(b, details=True) == "ticketB\trevoked           (standby=false, foo=bar)"
    assert tickets.status_line(a) == 'ticketA: granted [standby] last-granted="Mon Dec  7 00:20:08 2026"'
    assert tickets.status_line(b) == "ticketB: revoked"


def test_status_page_shows_tickets_with_c_only():
    xml = cluster('<ticket_state id="ticketA" granted="false"/>', '<rsc_ticket id="t" rsc="d1" ticket="ticketB"/>')
    page = crm_mon.render(root_of(xml), NOW, ("inactive", "tickets"))
    assert page.endswith("Tickets:\n  * ticketA: revoked\n  * ticketB: revoked\n")
    assert "Tickets:" not in crm_mon.render(root_of(xml), NOW, ("inactive",))


# ------------------------------------------------------------------ the store's changes

def test_changes_between_and_apply_changes_round_trip():
    before = cib.parse('<tickets><ticket_state id="a" granted="true"/><ticket_state id="b" x="1"/></tickets>')
    after = cib.parse('<tickets><ticket_state id="a" granted="false" standby="true"/><ticket_state id="c"/>'
                      '</tickets>')
    changes = tickets.changes_between(before, after)
    assert changes == {"a": {"granted": "false", "standby": "true"}, "c": {}, "b": None}
    stored = copy.deepcopy(before)
    tickets.apply_changes(stored, changes)
    assert {el.get("id"): cib.attributes(el) for el in stored} == {el.get("id"): cib.attributes(el) for el in after}
    assert tickets.changes_between(after, after) == {}


@pytest.mark.parametrize("bad", [[], {"": {}}, {"a": "x"}, {"a": {"id": "b"}}, {"a": {"bad name": "1"}},
                                 {"a": {"x": 5}}])
def test_a_change_that_cannot_be_one_applies_nothing(bad):
    el = cib.parse('<tickets><ticket_state id="a" granted="true"/></tickets>')
    before = cib.serialize(el)
    with pytest.raises(ValueError):
        tickets.apply_changes(el, bad)
    assert cib.serialize(el) == before


# ------------------------------------------------------------------ site ticket (crm)

def run_crm(root: cib.Element, line: str) -> str:
    return execute(root, line).output


def state_of(root: cib.Element, tid: str) -> dict[str, str] | None:
    holder = tickets.tickets_element(root, create=False)
    found = None if holder is None else next((el for el in holder if el.get("id") == tid), None)
    return None if found is None else {k: v for k, v in cib.attributes(found).items() if k != "id"}


def test_site_ticket_grant_and_revoke_must_be_confirmed():
    root = root_of(cluster(""))
    for line in ("site ticket grant T", "site ticket revoke T", "site ticket delete T"):
        with pytest.raises(CrmError, match="--force"):
            run_crm(root, line)
    assert state_of(root, "T") is None
    run_crm(root, "site ticket grant T --force")
    first = state_of(root, "T")
    assert first is not None and first["granted"] == "true" and int(first["last-granted"]) > 0
    assert run_crm(root, "site ticket show T") == "ticket T is granted"
    assert run_crm(root, "site ticket time T").startswith("ticket T last time granted on ")
    run_crm(root, "site ticket standby T")
    run_crm(root, "site ticket revoke T -y")
    assert state_of(root, "T") == {"granted": "false", "last-granted": first["last-granted"], "standby": "true"}
    run_crm(root, "site ticket activate T")
    run_crm(root, "site ticket attribute T set owner siteB")
    assert run_crm(root, "site ticket attribute T show owner") == "siteB"
    run_crm(root, "site ticket attribute T delete owner")
    run_crm(root, "site ticket delete T --force")
    assert state_of(root, "T") == {"last-granted": first["last-granted"], "standby": "false"}
    assert run_crm(root, "site ticket cleanup T") == "Cleaned up T"
    assert state_of(root, "T") is None


def test_site_ticket_refusals_are_one_line_and_change_nothing():
    root = root_of(cluster('<ticket_state id="T" granted="true"/>'))
    before = cib.serialize(root)
    for line, why in (("site ticket cleanup T", "is granted"), ("site ticket show U", "nothing to show"),
                      ("site ticket time T", "nothing to show"), ("site ticket bogus T", "unexpected 'bogus'"),
                      ("site ticket grant a$b --force", "may not"), ("site ticket show T extra", "unexpected"),
                      ("site ticket attribute T set granted x", "grant, revoke or delete"),
                      ("site ticket attribute T set 'bad name' x", "not an attribute")):
        with pytest.raises(CrmError, match=why):
            run_crm(root, line)
    assert cib.serialize(root) == before


# ------------------------------------------------------------------ crm_ticket, compared with Debian's

def answer(argv: str, root: cib.Element) -> tuple[str, list[str], int, str]:
    """The stand-in's stdout, lines to run, exit code and stderr for ``crm_ticket ARGV`` on ``root``."""
    request = ct.parse(argv.split())
    assert not isinstance(request, str)
    try:
        text, lines = ct.answer(request, root, NOW)
        return text, lines, 0, ""
    except ct.NotAllowed as exc:
        return exc.explanation, [], exc.code, str(exc)
    except ToolError as exc:
        return "", [], exc.code, str(exc)


def test_crm_ticket_refuses_what_needs_force_with_pacemakers_words():
    root = root_of(cluster('<ticket_state id="T" granted="true"/>'))
    out, lines, code, err = answer("-t T -r", root)
    assert (code, err, lines) == (4, "crm_ticket: Ticket modification not allowed", [])
    assert out.startswith("Revoking 'T' can trigger the specified 'loss-policy'(s) relating to 'T'.\n")
    assert answer("-t T -g", root)[0].startswith("This command cannot help you verify whether 'T'")
    assert answer("-t T -C", root)[2:] == (4, "")
    assert answer("-t T -r --force", root)[1] == ["site ticket revoke T --force"]
    assert answer("-t T -g -s --force", root)[1] == ["site ticket grant T --force", "site ticket standby T"]
    assert answer("-t T -S owner -v x -D foo", root)[1] == ["site ticket attribute T delete foo",
                                                           "site ticket attribute T set owner x"]
    assert answer("-g", root)[2:] == (64, "crm_ticket: Must supply ticket ID with -t")
    assert answer("-t T", root)[2:] == (64, "crm_ticket: Must supply a command")
    assert answer("-t T -S owner", root)[2:] == (64, "crm_ticket: Must supply value with -v for -S owner")
    assert answer("-t U -l", root)[2:] == (105, "crm_ticket: No such ticket 'U'")
    assert answer("-t U -G granted", root)[2:] == (105, "")
    assert answer("-t U -G granted -d no", root)[0] == "no\n"


CIBS = {
    "mixed": cluster(f'<ticket_state id="ticketA" granted="true" last-granted="{GRANTED_AT}" standby="true"/>'
                     '<ticket_state id="ticketB" standby="false" foo="bar"/><ticket_state id="c"/>',
                     '<rsc_ticket id="t1" rsc="d1" ticket="ticketA" loss-policy="stop"/>'
                     '<rsc_ticket id="t2" rsc="d1" ticket="ticketD"/><rsc_ticket id="t3" rsc="d1" ticket="ticketA"/>'),
    "revoked": cluster('<ticket_state id="ticketA" granted="false"/>',
                       '<rsc_ticket id="t1" rsc="d1" ticket="ticketA" rsc-role="Started" loss-policy="fence"/>'),
    "none": cluster("", '<rsc_ticket id="t1" rsc="d1" ticket="ticketA"/>'),
}
QUERIES = ["-l", "-L", "-w", "-q", "-c", "-t ticketA -l", "-t ticketA -L", "-t ticketA -w", "-t ticketA -q",
           "-t ticketA -c", "-t ticketD -L", "-t zz -l", "-t zz -q", "-t zz -c", "-t ticketA -G granted",
           "-t ticketA -G standby", "-t ticketB -G foo", "-t zz -G granted -d x", "-t ticketA -g",
           "-t ticketA -r", "-t ticketA -D granted", "-t ticketA -S foo", "-t ticketA", "-g", "-t zz -C",
           "-t ticketA -C", "-t ticketA -S granted -v true", "-t ticketA -S granted -v false"]


def real_crm_ticket(argv: str, path: Path) -> tuple[str, int, str]:
    env = {**os.environ, "CIB_file": str(path), "TZ": "UTC"}
    done = subprocess.run(["crm_ticket", *argv.split()], capture_output=True, text=True, env=env, timeout=60)
    return done.stdout, done.returncode, done.stderr.strip()


@needs_real
@pytest.mark.parametrize("name", sorted(CIBS))
def test_crm_ticket_queries_match_debians(name, tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    path = tmp_path / "cib.xml"
    path.write_text(CIBS[name])
    root = root_of(CIBS[name])
    for argv in QUERIES:
        out, lines, code, err = answer(argv, root)
        out += "".join(f"{p}\n" for line in lines if (p := execute(copy.deepcopy(root), line).output))
        assert (out, code, err.strip()) == real_crm_ticket(argv, path), argv


@needs_real
@pytest.mark.parametrize("argv", ["-t ticketA -g --force", "-t ticketA -r --force", "-t ticketA -s",
                                  "-t ticketB -a", "-t ticketB -g -s --force", "-t new -s",
                                  "-t ticketB -S owner -v siteB -S x -v 1", "-t ticketB -D foo",
                                  "-t ticketA -D granted --force", "-t ticketB -C", "-t ticketA -C --force",
                                  "-t ticketA -S granted -v false --force"])
def test_crm_ticket_writes_match_debians(argv, tmp_path):
    """The ``site ticket`` lines the stand-in sends leave the tickets as Debian's crm_ticket leaves them (the
    moment of a grant aside)."""
    path = tmp_path / "cib.xml"
    path.write_text(CIBS["mixed"])
    out, code, err = real_crm_ticket(argv, path)
    assert code == 0, err
    theirs = root_of(path.read_text())
    ours = root_of(CIBS["mixed"])
    text, lines, our_code, _err = answer(argv, ours)
    assert our_code == 0
    printed = [execute(ours, line).output for line in lines]
    assert text + "".join(f"{p}\n" for p in printed if p) == out

    def states(root: cib.Element) -> dict[str, dict[str, str]]:
        holder = tickets.tickets_element(root, create=False)
        found = {el.get("id", ""): dict(cib.attributes(el)) for el in (holder if holder is not None else [])}
        for attrs in found.values():
            if "last-granted" in attrs and attrs["last-granted"] != str(GRANTED_AT):
                attrs["last-granted"] = "now"
        return found

    assert states(ours) == states(theirs)


@needs_real
def test_status_tickets_section_matches_crm_mon(tmp_path):
    path = tmp_path / "cib.xml"
    path.write_text(CIBS["mixed"])
    env = {**os.environ, "CIB_file": str(path), "TZ": "UTC"}
    theirs = subprocess.run(["crm_mon", "-1", "-r", "-c"], capture_output=True, text=True, env=env, timeout=60)
    os.environ["TZ"] = "UTC"
    time.tzset()
    ours = crm_mon.render(root_of(CIBS["mixed"]), NOW, ("inactive", "tickets"))
    assert ours[ours.index("Tickets:"):] == theirs.stdout[theirs.stdout.index("Tickets:"):]


# ------------------------------------------------------------------ configure rsc_ticket

def test_configure_rsc_ticket_writes_what_crmsh_writes_and_shows_it_back():
    root = root_of(make_cib(prim("d1") + prim("d2"), both_online()))
    for line in ("configure rsc_ticket t1 ticketA: d1 loss-policy=stop",
                 "configure rsc_ticket t2 ticketB: d1 d2:Promoted loss-policy=demote",
                 "configure rsc_ticket t3 ticketC: d2:Started"):
        run_crm(root, line)
    made = {el.get("id"): el for el in root.iterfind("configuration/constraints/rsc_ticket")}
    assert cib.attributes(made["t1"]) == {"id": "t1", "ticket": "ticketA", "rsc": "d1", "loss-policy": "stop"}
    assert [(s.get("id"), s.get("role"), [r.get("id") for r in s]) for s in made["t2"]] == [
        ("t2-0", None, ["d1"]), ("t2-1", "Promoted", ["d2"])]
    assert cib.attributes(made["t3"]) == {"id": "t3", "ticket": "ticketC", "rsc": "d2", "rsc-role": "Started"}
    assert run_crm(root, "configure show type:rsc_ticket").splitlines() == [
        "rsc_ticket t1 ticketA: d1 loss-policy=stop",
        "rsc_ticket t2 ticketB: d1 d2:Promoted loss-policy=demote",
        "rsc_ticket t3 ticketC: d2:Started"]
    state = unpack(root, NOW)
    assert [(d.id, d.rsc.id, d.loss_policy) for d in state.rsc_tickets] == [
        ("t1", "d1", "stop"), ("t2-0", "d1", "demote"), ("t2-1", "d2", "demote"), ("t3", "d2", "stop")]
    before = cib.serialize(root)
    for line, why in (("configure rsc_ticket t4 ticketD: nothing", "no resource or tag 'nothing'"),
                      ("configure rsc_ticket t4 ticketD: d1 loss-policy=explode", "loss-policy=stop|demote"),
                      ("configure rsc_ticket t4 ticketD d1", "TICKET:"),
                      ("configure rsc_ticket t1 ticketD: d1", "t1")):
        with pytest.raises(CrmError, match=why):
            run_crm(root, line)
    assert cib.serialize(root) == before
