"""The cib-store's schema check: Pacemaker's RELAX NG grammar where installed, Paceline's own elsewhere.

Issue 12: a CIB Pacemaker's own schema refuses (``score="banana"``, an unknown element) was stored and its
resource started. These tests pin what the validator accepts and refuses with both grammars, that its
verdict is Pacemaker's (plain lxml validation against Pacemaker's file, and crm_verify where installed) on a
sample of mutated real CIBs, and that the grammar Paceline ships accepts every CIB of Pacemaker's own cases.
"""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from paceline.cib_store import schema
from paceline.cib_store.schema import Schemas
from paceline.shared import cib

from bench import mutations

ROOT = Path(__file__).resolve().parents[2]
PACEMAKER = schema.PACEMAKER_DIR
HAVE_PACEMAKER = (PACEMAKER / "pacemaker-3.0.rng").is_file()
needs_pacemaker = pytest.mark.skipif(
    not HAVE_PACEMAKER, reason=f"needs Pacemaker's schema files in {PACEMAKER} (Debian: pacemaker-common)")


def both() -> Iterator[Schemas]:
    yield Schemas.shipped()
    if HAVE_PACEMAKER:
        yield Schemas(PACEMAKER)


def with_config(resources: str = "", constraints: str = "", extra: str = "", validate_with: str = "pacemaker-3.9",
                status: str = "") -> cib.Element:
    root = cib.empty(["n1", "n2"])
    root.set("validate-with", validate_with)
    if resources:
        cib.section(root, "resources").extend(cib.parse(f"<x>{resources}</x>"))
    if constraints:
        cib.section(root, "constraints").extend(cib.parse(f"<x>{constraints}</x>"))
    if extra:
        cib.ensure_sections(root).extend(cib.parse(f"<x>{extra}</x>"))
    if status:
        cib.section(root, "status").extend(cib.parse(f"<x>{status}</x>"))
    return root


DUMMY = '<primitive id="d1" class="ocf" provider="heartbeat" type="Dummy">' \
        '<operations><op id="d1-mon" name="monitor" interval="10s"/></operations></primitive>'
RICH = dict(
    resources=DUMMY + (
        '<group id="g"><primitive id="g1" class="systemd" type="nginx"><meta_attributes id="g1-m">'
        '<nvpair id="g1-m-t" name="target-role" value="Started"/></meta_attributes></primitive></group>'
        '<clone id="c"><meta_attributes id="c-m"><nvpair id="c-m-p" name="promotable" value="true"/>'
        '</meta_attributes><primitive id="s" class="ocf" provider="pacemaker" type="Stateful">'
        '<operations><op id="s-mon" name="monitor" interval="11s" role="Promoted"/></operations></primitive></clone>'
        '<primitive id="fence" class="stonith" type="fence_dummy"/>'),
    constraints=(
        '<rsc_location id="l1" rsc="d1" node="n1" score="INFINITY"/>'
        '<rsc_location id="l2" rsc="g"><rule id="l2-r" score="-100" boolean-op="or">'
        '<expression id="l2-e" attribute="#uname" operation="eq" value="n2"/>'
        '<date_expression id="l2-d" operation="in_range" start="2024-01-01"><duration id="l2-du" days="1"/>'
        '</date_expression></rule></rsc_location>'
        '<rsc_colocation id="co" rsc="g" with-rsc="c" score="100" with-rsc-role="Promoted"/>'
        '<rsc_order id="o" first="c" then="g" kind="Mandatory" first-action="promote"/>'
        '<rsc_order id="os"><resource_set id="os-1" sequential="false"><resource_ref id="d1"/>'
        '<resource_ref id="g"/></resource_set></rsc_order>'
        '<rsc_ticket id="t" rsc="d1" ticket="ticketA" loss-policy="stop"/>'),
    extra=(
        '<rsc_defaults><meta_attributes id="rd"><nvpair id="rd-s" name="resource-stickiness" value="1"/>'
        '</meta_attributes></rsc_defaults>'
        '<fencing-topology><fencing-level id="fl" target="n1" index="1" devices="fence"/></fencing-topology>'
        '<tags><tag id="tg"><obj_ref id="d1"/></tag></tags>'
        '<alerts><alert id="a" path="/bin/true"><recipient id="a-r" value="/tmp/log"/></alert></alerts>'),
    status='<node_state id="1" uname="n1" crmd="online"><lrm id="1"><lrm_resources><lrm_resource id="d1" '
           'class="ocf" provider="heartbeat" type="Dummy"/></lrm_resources></lrm><anything whatever="x"/>'
           '</node_state>')


@pytest.mark.parametrize("schemas", list(both()), ids=lambda s: s.source)
def test_sound_cibs_validate(schemas: Schemas) -> None:
    assert schemas.problems(cib.empty()) == []
    assert schemas.problems(with_config(**RICH)) == []


BAD = [
    # (what, the change, words the one line must carry)
    ("a score that is no number",
     dict(constraints='<rsc_location id="l1" rsc="d1" node="n1" score="banana"/>'),
     ("constraints > rsc_location 'l1'", "score='banana' is not a score")),
    ("a rule score that is no number",
     dict(constraints='<rsc_location id="l1" rsc="d1"><rule id="r1" score="banana"><expression id="e1" '
                      'attribute="#uname" operation="eq" value="n1"/></rule></rsc_location>'),
     ("rsc_location 'l1' > rule 'r1'", "score='banana'")),
    ("an unknown element", dict(resources=DUMMY.replace("</primitive>", '<bananas id="b"/></primitive>')),
     ("primitive 'd1'", "unknown element <bananas>")),
    ("an unknown attribute", dict(resources=DUMMY.replace('type="Dummy"', 'type="Dummy" colour="red"')),
     ("primitive 'd1'", "unknown attribute colour='red'")),
    ("a missing interval", dict(resources=DUMMY.replace(' interval="10s"', "")),
     ("op 'd1-mon'", "attribute interval is missing")),
    ("a role that is none", dict(resources=DUMMY.replace('interval="10s"', 'interval="10s" role="Boss"')),
     ("op 'd1-mon'", "role='Boss' is not one of")),
    ("a boolean that is none", dict(resources=DUMMY.replace('interval="10s"', 'interval="10s" enabled="maybe"')),
     ("op 'd1-mon'", "enabled='maybe' is not a boolean")),
    ("an id with a space", dict(resources=DUMMY.replace('id="d1"', 'id="d 1"')), ("'d 1'", "is not a valid id")),
    ("an agent class that is none", dict(resources=DUMMY.replace('class="ocf"', 'class="banana"')),
     ("primitive 'd1'", "class='banana' is not one of")),
    ("an unknown section", dict(extra='<bananas/>'), ("configuration", "unknown element <bananas>")),
    ("a reference to nothing", dict(resources='<primitive id="d2" template="nosuch"/>'),
     ("primitive 'd2'", "template='nosuch' refers to no element")),
    ("an unknown validate-with", dict(validate_with="banana"), ("cib", "validate-with='banana'")),
]


@pytest.mark.parametrize("schemas", list(both()), ids=lambda s: s.source)
@pytest.mark.parametrize(("what", "change", "words"), BAD, ids=[b[0] for b in BAD])
def test_faults_are_refused_in_one_line_saying_what_and_where(schemas: Schemas, what: str, change: dict[str, str],
                                                              words: tuple[str, ...]) -> None:
    root = with_config(**change)
    problems = schemas.problems(root)
    assert problems, f"{what} was accepted"
    assert all("\n" not in p for p in problems)
    assert all(w in problems[0] for w in words), problems
    refusal = str(schemas.refusal(root, problems))
    assert refusal.startswith("refused by ") and "\n" not in refusal


def test_a_fault_reads_the_same_wherever_the_object_moved() -> None:
    """Faults are named by ids, not positions: a write that adds objects before a stored fault adds no problem."""
    shipped = Schemas.shipped()
    bad = '<primitive id="d9" class="ocf" provider="heartbeat" type="Dummy" colour="red"/>'
    alone = shipped.problems(with_config(resources=bad))
    moved = shipped.problems(with_config(resources=DUMMY + bad))
    assert alone == moved and len(alone) == 1


def test_every_faulty_object_is_reported_not_only_the_first() -> None:
    """libxml2 stops at the first bad child of a section; the store needs all of them to tell old faults from new."""
    bad = ''.join(f'<primitive id="d{i}" class="ocf" provider="heartbeat" type="Dummy" colour="red"/>'
                  for i in range(5))
    problems = Schemas.shipped().problems(with_config(resources=DUMMY + bad, constraints=(
        '<rsc_location id="l1" rsc="d1" node="n1" score="pear"/>')))
    assert len(problems) == 6, problems


def test_the_status_is_free_form_and_the_document_is_left_as_it_was() -> None:
    for schemas in both():
        root = with_config(resources=DUMMY, status='<node_state id="1" uname="n1"><bananas colour="x"/>text'
                                                   '</node_state>')
        before = etree.tostring(root)
        assert schemas.problems(root) == []
        assert etree.tostring(root) == before


def test_validate_with_none_turns_the_check_off() -> None:
    for schemas in both():
        root = with_config(resources=DUMMY.replace('type="Dummy"', 'type="Dummy" colour="red"'), validate_with="none")
        assert schemas.for_cib(root) is None and schemas.problems(root) == []


@needs_pacemaker
def test_pacemakers_grammar_is_picked_by_validate_with() -> None:
    schemas = Schemas(PACEMAKER)
    assert schemas.for_cib(with_config(validate_with="pacemaker-3.7")).name == "pacemaker-3.7"  # type: ignore[union-attr]
    root = with_config()
    del root.attrib["validate-with"]
    assert schemas.for_cib(root).name == schemas.newest  # type: ignore[union-attr]
    if (PACEMAKER / "pacemaker-next.rng").is_file():
        assert schemas.for_cib(with_config(validate_with="pacemaker-next")).name == "pacemaker-next"  # type: ignore[union-attr]
    # Promoted is a role name since pacemaker-3.7: a 3.0 CIB may not use it, a 3.7 one may
    promoted = DUMMY.replace('interval="10s"', 'interval="10s" role="Promoted"')
    assert schemas.problems(with_config(resources=promoted, validate_with="pacemaker-3.0"))
    assert not schemas.problems(with_config(resources=promoted, validate_with="pacemaker-3.7"))


@needs_pacemaker
def test_a_cib_of_a_newer_pacemaker_is_checked_against_the_newest_grammar_installed() -> None:
    schemas = Schemas(PACEMAKER)
    root = with_config(resources=DUMMY, validate_with="pacemaker-9.99")
    validator = schemas.for_cib(root)
    assert validator is not None and validator.name == schemas.newest and validator.stand_in == schemas.newest
    assert schemas.problems(root) == [] and root.get("validate-with") == "pacemaker-9.99"
    bad = with_config(resources=DUMMY.replace('type="Dummy"', 'type="Dummy" colour="red"'),
                      validate_with="pacemaker-9.99")
    assert schemas.problems(bad)


@needs_pacemaker
def test_a_pre_3_cib_must_survive_pacemakers_upgrade() -> None:
    """Pacemaker's tools upgrade a 2.x CIB to 3.0 before using it; a CIB valid for 2.10 whose upgrade fails
    the 3.0 schema (a cluster-infrastructure option without a value) is one Pacemaker refuses to use."""
    schemas = Schemas(PACEMAKER)
    root = with_config(resources=DUMMY, validate_with="pacemaker-2.10")
    assert schemas.problems(root) == []
    options = cib.section(root, "crm_config")
    options.append(cib.parse('<cluster_property_set id="o"><nvpair id="o-ci" name="cluster-infrastructure"/>'
                             "</cluster_property_set>"))
    assert Schemas(PACEMAKER).for_cib(root).upgrades  # type: ignore[union-attr]
    problems = schemas.problems(root)
    assert problems and problems[0].startswith("cannot be upgraded to pacemaker-3.0: "), problems
    assert "attribute value is missing" in problems[0]


def test_the_shipped_grammar_is_package_data() -> None:
    assert schema.SHIPPED.is_file()
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert any(pattern for pattern in data["paceline.cib_store"]
               if schema.SHIPPED.relative_to(ROOT / "services" / "cib-store").match(pattern))


def test_grammars_are_compiled_once() -> None:
    assert schema.compiled(schema.SHIPPED) is schema.compiled(schema.SHIPPED)


# ---------------------------------------------------------------- Pacemaker's cases

def test_every_case_input_is_accepted_by_the_shipped_grammar(shared_dir: Path) -> None:
    """The 455 inputs of Pacemaker's scheduler cases are real CIBs (pacemaker-2.5 to 3.10)."""
    shipped = Schemas.shipped()
    refused = {}
    cases = sorted(mutations.case_dir(shared_dir).glob("*.xml"))
    assert len(cases) > 400
    for path in cases:
        problems = shipped.problems(cib.parse(path.read_bytes()))
        if problems:
            refused[path.stem] = problems[0]
    assert refused == {}


@needs_pacemaker
def test_mutated_cibs_get_pacemakers_verdict(shared_dir: Path, tmp_path: Path) -> None:
    """40 mutated case CIBs: our verdict with Pacemaker's grammar is plain lxml validation against the file
    (for CIBs of 3.x schemas) and crm_verify's schema verdict (for all) where crm_verify is installed."""
    pacemaker = Schemas(PACEMAKER)
    have_crm_verify = shutil.which("crm_verify") is not None
    differ = []
    for mutant in mutations.mutants(mutations.case_dir(shared_dir), 40, seed=12):
        root = cib.parse(mutant.xml)
        refused = bool(pacemaker.problems(root))
        direct = mutations.lxml_verdict(root, pacemaker)
        if direct is not None and (not refused) != direct:
            differ.append((mutant.name, mutant.change, "lxml", "valid" if direct else "invalid"))
        if have_crm_verify:
            file = tmp_path / f"{mutant.name}.xml"
            file.write_bytes(mutant.xml)
            verdict = mutations.crm_verify(file)
            if refused != (verdict == "schema"):
                differ.append((mutant.name, mutant.change, "crm_verify", verdict))
    assert differ == []
