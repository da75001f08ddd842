#!/usr/bin/env python3
"""Does the cib-store refuse exactly the CIBs Pacemaker's schema refuses? Mutated real CIBs, judged three ways.

Issue 12: a CIB with ``score="banana"`` or an element Pacemaker does not know was stored by
``cib.replace`` and its resource started. The store now validates every write against the CIB's RELAX NG
schema (:mod:`paceline.cib_store.schema`). This bench derives COUNT CIBs from the input CIBs of
Pacemaker's scheduler regression cases (``../shared/pacemaker-cases/xml``) by one random mutation each -
an attribute given a bad value, an unknown or misplaced element, a required attribute removed, an
attribute added - deterministically from --seed, and for each records:

- crm_verify's verdict (``crm_verify -V --xml-file F``), telling a schema failure ("CIB did not pass schema
  validation") from other configuration errors (no fencing device, ...): the reference;
- our validator's verdict with Pacemaker's schema files (/usr/share/pacemaker), and with the schema Paceline
  ships (services/cib-store/schema/paceline-cib.rng);
- whether the CIB passes everything the store checks (referential checks, value checks, the schema), and if
  so whether the scheduler raises on it.

About 1 in 8 mutations lands in the status section instead: the schema leaves the status free, so those
test that the scheduler copes with whatever the store lets through.

Cases whose ``validate-with`` names a schema newer than the reference Pacemaker's newest (2.1.5 knows up
to pacemaker-3.9) are not used: crm_verify refuses them for their version, whatever their content.

    .venv/bin/python bench/mutations.py [--count 200] [--seed 1] [--cases DIR] [--no-crm-verify] [--cost]

Prints the agreement counts, the disagreements, the scheduler's exceptions and (with --cost) what a
validation costs on a small and a large CIB.
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from lxml import etree
from paceline.cib_store.schema import PACEMAKER_DIR, Schemas
from paceline.shared import cib
from paceline.shared.cib import Element
from paceline.shared.cluster.checks import value_problems

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = Path(os.environ.get("PACELINE_SHARED", REPO.parent / "shared"))
#: The newest schema of the reference Pacemaker (Debian's 2.1.5): a case naming a newer one is not used.
REFERENCE_NEWEST = (3, 9)
#: What crm_verify -V prints when the CIB fails the schema (as opposed to other configuration errors).
SCHEMA_FAILURE = re.compile(r"did not pass schema validation|does not validate with any schema|"
                            r"Cannot upgrade configuration|Unknown validator", re.IGNORECASE)
_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)

BAD_VALUES = ("banana", "", "-1", "2.5", "INFINITY", "-INFINITY", "yes", "true", "Started", "Promoted",
              "10s", "a b", "0", "+5", "1e3", "never")
NEW_ELEMENTS = ("banana", "nvpair", "primitive", "rule", "op", "meta_attributes", "instance_attributes",
                "expression", "resource_ref", "lifetime", "operations", "utilization", "node", "date_spec")
NEW_ATTRIBUTES = ("colour", "score", "role", "interval", "kind", "target-role", "provider", "node", "id",
                  "description", "sequential", "value")
NEW_ATTRIBUTE_VALUES = ("1", "INFINITY", "Started", "true", "x", "10s", "member")


@dataclass
class Mutant:
    """One mutated CIB: where it came from, what was changed, and the document."""

    name: str
    case: str
    kind: str
    change: str
    xml: bytes


@dataclass
class Result:
    mutant: Mutant
    crm_verify: str | None = None        # "schema", "other", "ok"; None when not run
    pacemaker: list[str] | None = None   # our problems with Pacemaker's schema (None: not installed)
    lxml_pacemaker: bool | None = None   # plain lxml validation against that file (None: an upgraded CIB)
    shipped: list[str] = field(default_factory=list)
    store_accepts: bool = False
    scheduler_error: str | None = None


# ---------------------------------------------------------------- the sample

def case_dir(shared: Path) -> Path:
    return shared / "pacemaker-cases" / "xml"


def sources(cases: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """The case inputs mutations start from, and those left out with the reason."""
    usable: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for path in sorted(cases.glob("*.xml")):
        named = etree.parse(str(path), _PARSER).getroot().get("validate-with") or ""
        m = re.match(r"^pacemaker-(\d+)\.(\d+)$", named)
        if m and (int(m.group(1)), int(m.group(2))) > REFERENCE_NEWEST:
            skipped.append((path.stem, f"validate-with {named} is newer than the reference Pacemaker's newest "
                                       f"schema (pacemaker-{REFERENCE_NEWEST[0]}.{REFERENCE_NEWEST[1]})"))
            continue
        usable.append(path)
    return usable, skipped


def _elements(root: Element, where: str) -> list[Element]:
    """The elements a mutation may touch: the configuration (with the root), or the status."""
    if where == "status":
        status = root.find("status")
        return [] if status is None else [el for el in status.iter() if isinstance(el.tag, str)]
    conf = root.find("configuration")
    found = [root]
    if conf is not None:
        found += [el for el in conf.iter() if isinstance(el.tag, str)]
    return found


def _describe(el: Element) -> str:
    ident = el.get("id")
    return f"<{el.tag} id={ident!r}>" if ident is not None else f"<{el.tag}>"


def _attribute_of(rng: random.Random, pool: list[Element]) -> tuple[Element, str] | None:
    """A random element of ``pool`` that has attributes, and one of its attributes' names."""
    holders = [el for el in pool if len(el.attrib)]
    if not holders:
        return None
    el = rng.choice(holders)
    return el, rng.choice(sorted(cib.attributes(el)))


def _bad_value(rng: random.Random, pool: list[Element], serial: int) -> str | None:
    picked = _attribute_of(rng, pool)
    if picked is None:
        return None
    el, name = picked
    value = rng.choice(BAD_VALUES)
    el.set(name, value)
    return f"{_describe(el)} {name}={value!r}"


def _unknown_element(rng: random.Random, pool: list[Element], serial: int) -> str | None:
    parent = rng.choice(pool)
    tag = rng.choice(NEW_ELEMENTS)
    child = etree.Element(tag, id=f"mutant-{serial}")
    parent.insert(rng.randint(0, len(parent)), child)
    return f"<{tag}> inserted in {_describe(parent)}"


def _missing_attribute(rng: random.Random, pool: list[Element], serial: int) -> str | None:
    picked = _attribute_of(rng, pool)
    if picked is None:
        return None
    el, name = picked
    del el.attrib[name]
    return f"{_describe(el)} without {name}"


def _added_attribute(rng: random.Random, pool: list[Element], serial: int) -> str | None:
    el = rng.choice(pool)
    name = rng.choice(NEW_ATTRIBUTES)
    if el.get(name) is not None:
        return None
    value = rng.choice(NEW_ATTRIBUTE_VALUES)
    el.set(name, value)
    return f"{_describe(el)} given {name}={value!r}"


MUTATIONS: dict[str, Callable[[random.Random, list[Element], int], str | None]] = {
    "bad-value": _bad_value, "unknown-element": _unknown_element, "missing-attribute": _missing_attribute,
    "added-attribute": _added_attribute}


def mutants(cases: Path, count: int, seed: int) -> list[Mutant]:
    """``count`` mutated CIBs, the same ones for the same cases, count and seed."""
    usable, _skipped = sources(cases)
    if not usable:
        raise SystemExit(f"no case inputs in {cases}")
    rng = random.Random(seed)
    out: list[Mutant] = []
    while len(out) < count:
        path = rng.choice(usable)
        root = etree.parse(str(path), _PARSER).getroot()
        where = "status" if rng.random() < 0.125 else "configuration"
        kind = rng.choice(sorted(MUTATIONS))
        pool = _elements(root, where)
        if not pool:
            continue
        change = MUTATIONS[kind](rng, pool, len(out))
        if change is None:
            continue
        label = f"{kind} (status)" if where == "status" else kind
        out.append(Mutant(f"m{len(out):03d}-{path.stem}", path.stem, label, change, etree.tostring(root)))
    return out


# ---------------------------------------------------------------- the verdicts

def crm_verify(path: Path, timeout: float = 120.0) -> str:
    """crm_verify's verdict on a CIB file: "schema" (fails the schema), "other" (other errors) or "ok"."""
    done = subprocess.run(["crm_verify", "-V", "--xml-file", str(path)], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if SCHEMA_FAILURE.search(done.stdout + done.stderr):
        return "schema"
    return "ok" if done.returncode == 0 else "other"


def lxml_verdict(root: Element, schemas: Schemas) -> bool | None:
    """Plain lxml validation of the whole document against the file our validator picks: the reference for
    the store's way of validating (status set aside, faults located object by object).

    None for a CIB naming a schema older than Pacemaker's tools use: its verdict also depends on Pacemaker's
    upgrade, which one validation does not tell (crm_verify is the reference there).
    """
    validator = schemas.for_cib(root)
    if validator is None:  # validate-with="none"
        return True
    if validator.upgrades:
        return None
    return bool(etree.RelaxNG(etree.parse(str(validator.path))).validate(copy.deepcopy(root)))


def store_accepts(root: Element, schemas: Schemas) -> bool:
    """Whether the store would write this CIB over an empty one: every check it makes finds nothing."""
    return not cib.validate(root) and not value_problems(root) and not schemas.problems(root)


def judge(mutant: Mutant, work: Path, pacemaker: Schemas | None, shipped: Schemas, run_crm_verify: bool) -> Result:
    result = Result(mutant)
    root = cib.parse(mutant.xml)
    file = work / f"{mutant.name}.xml"
    file.write_bytes(mutant.xml)
    if run_crm_verify:
        result.crm_verify = crm_verify(file)
    if pacemaker is not None:
        result.pacemaker = pacemaker.problems(root)
        result.lxml_pacemaker = lxml_verdict(root, pacemaker)
    result.shipped = shipped.problems(root)
    result.store_accepts = store_accepts(root, pacemaker or shipped)
    if result.store_accepts:
        try:
            from paceline.policy.scheduler import schedule
            schedule(cib.parse_cib(mutant.xml))
        except Exception as exc:  # the count is the finding: the scheduler should never raise
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            result.scheduler_error = f"{type(exc).__name__}: {exc} ({Path(frame.filename).name}:{frame.lineno})"
    return result


# ---------------------------------------------------------------- the cost of a validation

def _best_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def cost(cases: Path, schemas: Schemas, label: str) -> list[str]:
    """What one validation costs on a small real CIB and on generated large ones."""
    lines = []
    small = cases / "1360.xml"
    docs: list[tuple[str, Element]] = []
    if small.is_file():
        docs.append(("small (case 1360)", cib.parse(small.read_bytes())))
    gen = cases.parent.parent / "bench" / "gen_cib.py"
    for resources, nodes in ((2000, 16), (10000, 32)):
        if gen.is_file():
            xml = subprocess.run([sys.executable, str(gen), "--nodes", str(nodes), "--resources", str(resources),
                                  "--running"], capture_output=True, check=True).stdout
            docs.append((f"large ({resources} resources, {nodes} nodes, settled)", cib.parse(xml)))
    for name, root in docs:
        schemas.problems(root)  # compile first
        count = sum(1 for _ in root.iter())
        validator = schemas.for_cib(root)
        assert validator is not None
        whole = _best_ms(partial(validator.grammar.validate, root), 5)
        store = _best_ms(partial(schemas.problems, root), 5)
        line = (f"  {label}, {name}, {count} elements: {store:.2f} ms as the store validates "
                f"(status set aside), {whole:.2f} ms with the status")
        op = root.find("configuration/resources//op")
        if op is not None:  # a fault deep in the document: found object by object, then explained
            op.set("role", "Boss")
            faulty = _best_ms(partial(schemas.problems, root), 3)
            del op.attrib["role"]
            line += f"; {faulty:.1f} ms to find and explain one bad op role"
        lines.append(line)
    return lines


# ---------------------------------------------------------------- report

def _share(n: int, total: int) -> str:
    return f"{n}/{total} ({100.0 * n / total:.1f}%)" if total else "0/0"


def report(results: Sequence[Result], show: int) -> int:
    total = len(results)
    kinds = Counter(r.mutant.kind for r in results)
    print("mutations: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    disagreements = 0
    verified = [r for r in results if r.crm_verify is not None]
    if verified:
        verdicts = Counter(r.crm_verify for r in verified)
        print(f"crm_verify: {verdicts['schema']} fail the schema, {verdicts['other']} pass it with other "
              f"configuration errors, {verdicts['ok']} clean")
    with_pcmk = [r for r in results if r.pacemaker is not None]
    if with_pcmk:
        direct = [r for r in with_pcmk if r.lxml_pacemaker is not None]
        same_lxml = [r for r in direct if (not r.pacemaker) == r.lxml_pacemaker]
        print(f"our validator with Pacemaker's schema vs lxml on the same file: {_share(len(same_lxml), len(direct))}"
              f" agree ({len(with_pcmk) - len(direct)} CIBs of a pre-3.0 schema go through Pacemaker's upgrade)")
        disagreements += len(direct) - len(same_lxml)
        if verified:
            agree = [r for r in verified if r.pacemaker is not None
                     and bool(r.pacemaker) == (r.crm_verify == "schema")]
            print(f"our validator with Pacemaker's schema vs crm_verify on the schema question: "
                  f"{_share(len(agree), len(verified))} agree")
            for r in [r for r in verified if r not in agree][:show]:
                print(f"  differ: {r.mutant.name}: {r.mutant.change}: crm_verify {r.crm_verify}, "
                      f"ours {r.pacemaker[:1] if r.pacemaker else 'accepted'}")
            disagreements += len(verified) - len(agree)
        agree_shipped = [r for r in with_pcmk if bool(r.shipped) == bool(r.pacemaker)]
        print(f"Paceline's shipped schema vs Pacemaker's schema: {_share(len(agree_shipped), total)} agree")
        for r in [r for r in with_pcmk if r not in agree_shipped][:show]:
            print(f"  differ: {r.mutant.name} ({r.mutant.kind}): {r.mutant.change}: "
                  f"Pacemaker's {r.pacemaker[:1] if r.pacemaker else 'accepts'}, "
                  f"shipped {r.shipped[:1] if r.shipped else 'accepts'}")
    else:
        refused = sum(1 for r in results if r.shipped)
        print(f"Pacemaker's schema files are not installed: the shipped schema refuses {refused} of {total}")
    accepted = [r for r in results if r.store_accepts]
    raised = [r for r in accepted if r.scheduler_error]
    print(f"the store accepts {len(accepted)} of {total}; the scheduler raised on {len(raised)} of them")
    for r in raised[:show]:
        print(f"  {r.mutant.name}: {r.mutant.change}: {r.scheduler_error}")
    return disagreements


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=Path, default=None,
                    help="the case inputs (default: $PACELINE_SHARED or ../shared, then pacemaker-cases/xml)")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pacemaker-schemas", type=Path, default=PACEMAKER_DIR)
    ap.add_argument("--no-crm-verify", action="store_true", help="skip crm_verify (the slow part)")
    ap.add_argument("--cost", action="store_true", help="also time validations on a small and large CIBs")
    ap.add_argument("--show", type=int, default=10, help="how many disagreements and exceptions to list")
    ap.add_argument("--keep", type=Path, default=None, help="write the mutated CIBs to this folder")
    a = ap.parse_args(argv)
    cases = a.cases or case_dir(DEFAULT_SHARED)
    if not cases.is_dir():
        print(f"the case inputs are missing: no folder {cases} (set PACELINE_SHARED or pass --cases)",
              file=sys.stderr)
        return 2
    usable, skipped = sources(cases)
    print(f"cases: {len(usable)} of {len(usable) + len(skipped)} in {cases} used; seed {a.seed}")
    for name, why in skipped:
        print(f"  skipped {name}: {why}")
    pacemaker = Schemas.installed(a.pacemaker_schemas)
    pcmk: Schemas | None = pacemaker if pacemaker.directory is not None else None
    shipped = Schemas.shipped()
    run_crm_verify = not a.no_crm_verify and shutil.which("crm_verify") is not None
    if not a.no_crm_verify and not run_crm_verify:
        print("crm_verify is not installed (Debian: pacemaker-cli-utils): no reference verdicts")
    start = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="paceline-mutations-") as tmp:
        work = a.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for mutant in mutants(cases, a.count, a.seed):
            results.append(judge(mutant, work, pcmk, shipped, run_crm_verify))
    print(f"judged {len(results)} mutated CIBs in {time.monotonic() - start:.1f} s")
    disagreements = report(results, a.show)
    if a.cost:
        print("validation cost (best of 5):")
        if pcmk is not None:
            for line in cost(cases, pcmk, "Pacemaker's schema"):
                print(line)
        for line in cost(cases, shipped, "shipped schema"):
            print(line)
    if results:
        sizes = [len(m.xml) for m in (r.mutant for r in results)]
        print(f"mutated CIBs: median {statistics.median(sizes) / 1024:.0f} KiB")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
