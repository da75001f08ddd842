"""The CIB's RELAX NG schema, checked on every configuration write, as Pacemaker's CIB manager does.

A CIB that Pacemaker's own schema refuses (``score="banana"``, an element it
does not know) must never be stored: the scheduler and every tool after it
assume the document has the shape the schema promises. The value checks of
:mod:`paceline.shared.cluster.checks` look at the values Paceline reads; the
schema looks at everything else, and is Pacemaker's definition rather than
ours, so that a CIB Paceline stores is one Pacemaker would store.

Which grammar:

* where Pacemaker is installed (``/usr/share/pacemaker/pacemaker-X.Y.rng``),
  the file the CIB's ``validate-with`` names, as Pacemaker picks it;
  ``pacemaker-next`` is its own file; with no ``validate-with`` the newest
  installed; a version newer than any installed (a CIB written by a newer
  Pacemaker) is checked against the newest installed, as if it named that
  one, rather than refused, because Paceline reads it; any other name is
  left to the newest grammar, whose list of known names then refuses it;
  a CIB naming a schema older than the newest major version's first (2.x
  where 3.x is installed) must also get through Pacemaker's upgrade, as
  Pacemaker's scheduler and crm_verify require: validate against each later
  schema, and against the next major's first after Pacemaker's own XSL
  upgrade (see :meth:`Validator._upgrade_problems`);
* elsewhere, the grammar Paceline ships (``schema/paceline-cib.rng``): one
  description of the current format, written for Paceline;
* ``validate-with="none"`` switches checking off, as it does in Pacemaker.

Every installed grammar leaves the status section free-form (anything the
cluster records), so the status is set aside while validating (a third of the
cost on a large CIB) and status patches are not validated at all: no patch
can change the verdict.

When a document fails, libxml2's first complaint is often about the outermost
element and in its own words ("Element resources has extra content:
primitive"). To say *what* and *where* in one line, and to be able to tell
the problems a write adds from those a stored CIB already had, each failing
configuration object is validated alone (found by halving the sections'
children), and the report names it by its ids, not by its position. Where
libxml2 only says an element "failed to validate", the element's attributes
are tried changed, dropped and added on that small document to find the
fault. A reference to an id that is nowhere (libxml2 refuses those too) is
named from the whole document's report.

Pure: no bus. Compiled grammars are cached per file (compiled on first use).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from paceline.shared import cib
from paceline.shared.cib import Element

#: Where Debian's (and most distributions') pacemaker-schemas / pacemaker-cli-utils put the grammars.
PACEMAKER_DIR = Path("/usr/share/pacemaker")
#: The grammar Paceline ships, for machines without Pacemaker's.
SHIPPED = Path(__file__).resolve().parent / "schema" / "paceline-cib.rng"
SHIPPED_NAME = "paceline-cib"
NONE = "none"
NEXT = "pacemaker-next"
_VERSIONED = re.compile(r"^pacemaker-(\d+)\.(\d+)$")
_RNG = "http://relaxng.org/ns/structure/1.0"
#: The root attributes of documents made up to validate one object: the version triple every CIB has.
_PLAIN_ROOT = {"admin_epoch": "0", "epoch": "0", "num_updates": "0"}
#: Values a probe gives an attribute; which of them it takes tells what kind of value it wants.
_PROBE_VALUES = ("true", "INFINITY", "1", "x1")
#: libxml2's type for a reference to an id the document does not have.
_DANGLING = "RELAXNG_OK"
#: The sections a CIB cannot do without (an object validated alone still needs them around it).
_REQUIRED_SECTIONS = cib.CONFIG_SECTIONS[:4]
#: libxml2's error types that name the fault itself, rather than an enclosing element that "failed".
_SPECIFIC = {"RELAXNG_ERR_TYPEVAL", "RELAXNG_ERR_INVALIDATTR", "RELAXNG_ERR_ELEMWRONG", "RELAXNG_ERR_DUPID",
             "RELAXNG_ERR_VALUE", "RELAXNG_ERR_DATATYPE", "RELAXNG_ERR_LIST", "RELAXNG_ERR_ELEMNAME",
             "RELAXNG_ERR_TEXTWRONG"}
#: How XML Schema's datatypes read in a sentence ("... is not an integer").
_TYPE_WORDS = {
    "integer": "an integer", "nonNegativeInteger": "a whole number of 0 or more",
    "positiveInteger": "a whole number of 1 or more", "boolean": "a boolean (true, false, 1 or 0)",
    "ID": "a valid id (a letter or _ first; no spaces, colons or other punctuation than - . _)",
    "IDREF": "a valid id reference (a letter or _ first; no spaces or colons)",
    "string": "of the allowed form",
}


class SchemaError(Exception):
    """A grammar that cannot be used (a file missing or not a RELAX NG grammar): an installation problem."""


@functools.cache
def compiled(path: Path) -> etree.RelaxNG:
    """The grammar in ``path``, compiled once per process (Pacemaker's include a dozen files each)."""
    try:
        return etree.RelaxNG(etree.parse(str(path)))
    except (OSError, etree.XMLSyntaxError, etree.RelaxNGParseError) as exc:
        raise SchemaError(f"cannot use the CIB schema {path}: {exc}") from None


@dataclass(frozen=True)
class Vocabulary:
    """The names a grammar (with the files it pulls in) mentions, and the values it lists for attributes.

    A name outside ``elements``/``attributes`` is unknown wherever it appears, which a refusal can say
    plainly; ``values`` are the candidates tried when an attribute's value is refused.
    """

    elements: frozenset[str]
    attributes: frozenset[str]
    values: Mapping[str, tuple[str, ...]]


@functools.cache
def vocabulary(path: Path) -> Vocabulary:
    """What the grammar in ``path`` names (read once per file)."""
    elements: set[str] = set()
    attributes: set[str] = set()
    values: dict[str, list[str]] = {}
    seen: set[Path] = set()
    todo = [path]
    while todo:
        file = todo.pop()
        if file in seen or not file.is_file():
            continue
        seen.add(file)
        doc = etree.parse(str(file))
        defines: dict[str, list[Element]] = {}
        for d in doc.iter(f"{{{_RNG}}}define"):
            defines.setdefault(d.get("name") or "", []).append(d)
        for el in doc.iter(f"{{{_RNG}}}element", f"{{{_RNG}}}attribute"):
            name = (el.get("name") or "").strip()
            if not name:
                continue
            if el.tag == f"{{{_RNG}}}element":
                elements.add(name)
                continue
            attributes.add(name)
            listed = values.setdefault(name, [])
            listed += [v for v in _listed_values(el, defines) if v not in listed]
        for el in doc.iter(f"{{{_RNG}}}externalRef", f"{{{_RNG}}}include"):
            href = el.get("href")
            if href:
                todo.append(file.parent / href)
    return Vocabulary(frozenset(elements), frozenset(attributes),
                      {name: tuple(listed) for name, listed in values.items() if listed})


def _listed_values(pattern: Element, defines: Mapping[str, list[Element]]) -> list[str]:
    """The ``<value>``s a pattern allows, following references to definitions of the same file.

    Values under ``<except>`` are the ones refused, not allowed. Nested elements are another context.
    """
    out: list[str] = []
    todo, followed = [pattern], set()
    while todo:
        node = todo.pop(0)
        for child in node:
            if child.tag == f"{{{_RNG}}}value" and child.text is not None:
                out.append(child.text)
            elif child.tag == f"{{{_RNG}}}ref" and child.get("name") not in followed:
                followed.add(child.get("name"))
                todo += defines.get(child.get("name") or "", [])
            elif child.tag not in (f"{{{_RNG}}}except", f"{{{_RNG}}}element"):
                todo.append(child)
    return out


@dataclass(frozen=True)
class Error:
    """One complaint of libxml2: its type, its words, and the XPath of the element it is about ("" if none)."""

    kind: str
    message: str
    path: str

    @property
    def depth(self) -> int:
        return self.path.count("/")


def _errors(grammar: etree.RelaxNG) -> list[Error]:
    return [Error(e.type_name, e.message, e.path or "") for e in grammar.error_log]


def _only_references(errors: Sequence[Error]) -> bool:
    """Whether the only complaints are id references naming no id (libxml2 files them as type "OK").

    They fail a document; in an object validated alone they only mean its references point outside it.
    """
    return bool(errors) and all(e.kind == _DANGLING for e in errors)


@dataclass(frozen=True)
class Upgrade:
    """One step of Pacemaker's upgrade of an old CIB: the schema it must then validate against, and the XSL
    transformations (enter, main, leave) that bring it there when it does not as it is."""

    name: str
    path: Path
    transforms: tuple[Path, ...] = ()


@functools.cache
def _stylesheet(path: Path) -> etree.XSLT:
    return etree.XSLT(etree.parse(str(path)))


def _transformed(root: Element, transforms: Sequence[Path]) -> tuple[Element | None, str]:
    """``root`` through Pacemaker's upgrade stylesheets; or why they failed."""
    doc = root
    for path in transforms:
        try:
            result = _stylesheet(path)(doc)
        except (etree.XSLTError, etree.XMLSyntaxError) as exc:
            return None, f"Pacemaker's {path.name} failed: {exc}"
        out = result.getroot()
        if out is None:
            return None, f"Pacemaker's {path.name} produced no document"
        doc = out
    return doc, ""


@dataclass(frozen=True)
class Validator:
    """One grammar, as applied to CIBs whose ``validate-with`` led to it.

    ``stand_in``: the ``validate-with`` value the document is validated under when its own is a version
    newer than the grammar knows (restored afterwards).
    """

    path: Path
    name: str
    stand_in: str | None = None
    upgrades: tuple[Upgrade, ...] = ()

    @property
    def label(self) -> str:
        """How a refusal names the grammar."""
        if self.name == SHIPPED_NAME:
            return "Paceline's CIB schema"
        return f"Pacemaker's schema {self.name}"

    @property
    def grammar(self) -> etree.RelaxNG:
        return compiled(self.path)

    def valid(self, root: Element) -> bool:
        """Whether the whole document validates (the verdict: the same as validating the file directly)."""
        with self._as_validated(root):
            if not self.grammar.validate(root):
                return False
        return not self.upgrades or not self._upgrade_problems(root)

    def problems(self, root: Element) -> list[str]:
        """Why the document does not validate, one line per faulty object; empty when it validates."""
        own = self._own_problems(root)
        if own or not self.upgrades:
            return own
        return self._upgrade_problems(root)

    def _upgrade_problems(self, root: Element) -> list[str]:
        """Why a document of an older schema cannot be brought to the oldest one Pacemaker's tools work with.

        Pacemaker's scheduler and crm_verify upgrade such a CIB first: it must validate against each later
        schema in turn, and where a major version ends, Pacemaker's XSL upgrade (run here through lxml)
        must turn it into a document the next major version's first schema accepts. A CIB that cannot get
        there is one Pacemaker refuses to use ("Cannot upgrade configuration").
        """
        doc = root
        for step in self.upgrades:
            target = Validator(step.path, step.name)
            if target.valid(doc):
                continue
            if step.transforms:
                upgraded, failure = _transformed(doc, step.transforms)
                if failure:
                    return [f"cannot be upgraded to {step.name}: {failure}"]
                assert upgraded is not None
                if target.valid(upgraded):
                    doc = upgraded
                    continue
                doc = upgraded
            return [f"cannot be upgraded to {step.name}: {p}" for p in target.problems(doc)]
        return []

    def _own_problems(self, root: Element) -> list[str]:
        grammar = self.grammar
        with self._as_validated(root):
            if grammar.validate(root):
                return []
            whole = _errors(grammar)
            found = self._localised(root)
            if found:
                return found
            # What no object shows alone: an id used twice, references to ids that are nowhere (those are
            # only trusted when libxml2 saw the whole document: after another fault it stops registering ids).
            explain = _Explainer(self, root, probe=False)
            if any(e.path for e in whole):
                return [explain.line(whole)]
            return explain.references(whole) or [explain.line(whole)]

    @contextmanager
    def _as_validated(self, root: Element) -> Iterator[None]:
        """``root`` as it is validated: the status set aside, a newer ``validate-with`` standing in.

        Both changes are undone on exit; nothing else looks at the document meanwhile (the store and the
        bench are single-threaded).
        """
        status = root[-1] if len(root) and root[-1].tag == "status" else None
        own = root.get("validate-with")
        if status is not None:
            root.remove(status)
        if self.stand_in is not None:
            root.set("validate-with", self.stand_in)
        try:
            yield
        finally:
            if self.stand_in is not None and own is not None:
                root.set("validate-with", own)
            if status is not None:
                root.append(status)

    def passes(self, doc: Element) -> bool:
        """Whether a document made up for one object validates, references out of it aside."""
        return bool(self.grammar.validate(doc)) or _only_references(_errors(self.grammar))

    # ------------------------------------------------------------ finding the faulty objects
    def _localised(self, root: Element) -> list[str]:
        """The problems of the root's attributes, and of each configuration object validated alone."""
        out: list[str] = []
        bare = _skeleton(root, None, (), own_root=True)
        if not self.passes(bare):
            out.append(_Explainer(self, bare).line(_errors(self.grammar)))
        conf = root.find("configuration")
        if conf is None:
            return out
        for section in conf:
            if not isinstance(section.tag, str):
                continue
            alone = _skeleton(root, section, ())
            if not self.passes(alone):
                out.append(_Explainer(self, alone).line(_errors(self.grammar)))
                continue  # an unknown section, or bad attributes on it: its content is beside the point
            items = [item for item in section if isinstance(item.tag, str)]
            out += self._halving(root, section, items)
        return out

    def _halving(self, root: Element, section: Element, items: Sequence[Element]) -> list[str]:
        """The faulty ones among ``items``: a few validations for a few faults among thousands of objects."""
        if not items:
            return []
        doc = _skeleton(root, section, items)
        if self.passes(doc):
            return []
        if len(items) == 1:
            return [_Explainer(self, doc).line(_errors(self.grammar))]
        mid = len(items) // 2
        return self._halving(root, section, items[:mid]) + self._halving(root, section, items[mid:])


def _skeleton(root: Element, section: Element | None, items: Sequence[Element], own_root: bool = False) -> Element:
    """An otherwise empty CIB holding copies of ``items`` in (a copy of) ``section``.

    The root has ``root``'s own attributes only with ``own_root`` (the document that checks them); the
    others get a plain version triple, so that a bad root attribute is reported once, not with every object.
    """
    doc = etree.Element(root.tag, cib.attributes(root) if own_root else _PLAIN_ROOT)
    conf_src = root.find("configuration")
    conf = etree.SubElement(doc, "configuration", cib.attributes(conf_src) if conf_src is not None else {})
    for name in _REQUIRED_SECTIONS:
        if section is None or section.tag != name:
            etree.SubElement(conf, name)
    if section is not None:
        holder = etree.SubElement(conf, section.tag, cib.attributes(section))
        for item in items:
            holder.append(copy.deepcopy(item))
    return doc


# ---------------------------------------------------------------- one line per problem

class _Explainer:
    """Turns libxml2's complaints about one document into a line saying what is wrong and where.

    libxml2 often blames an enclosing element in general words ("Element op failed to validate
    attributes", or even "Expecting an element meta_attributes, got nothing" for a bad ``role``). Where
    it does, the element's attributes are tried with other values and without, then the grammar's other
    attribute names are tried on it, on copies of the small document; what makes it validate is what the
    line names. Only the documents made up for one object are probed (``probe``), never a whole CIB.
    """

    def __init__(self, validator: Validator, doc: Element, probe: bool = True):
        self.validator = validator
        self.doc = doc
        self.probe = probe
        self.words = vocabulary(validator.path)

    def line(self, errors: Sequence[Error]) -> str:
        located = [(e, el) for e, el in ((e, _element(self.doc, e.path)) for e in errors) if el is not None]
        if not located:
            return f"cib: {_lower(errors[0].message) if errors else 'does not validate'}"
        specific = [(e, el) for e, el in located if e.kind in _SPECIFIC]
        if specific:
            error, el = max(specific, key=lambda pair: pair[0].depth)
            found = self._specific(error, el)
            if found:
                return found
        error, el = max(located, key=lambda pair: (pair[0].depth, pair[0].kind == "RELAXNG_ERR_ATTRVALID"))
        el = _named(el, error.message)
        if el.tag not in self.words.elements:
            holder = el.getparent()
            return f"{_where(holder if holder is not None else el)}: unknown element <{el.tag}>"
        unknown = [name for name in cib.attributes(el) if name not in self.words.attributes]
        if unknown:
            return f"{_where(el)}: unknown attribute {unknown[0]}={el.get(unknown[0])!r}"
        # libxml2 sometimes loses the element an attribute complaint is about, keeping only its name.
        for hint in (e for e in errors if not e.path):
            named = re.match(r"Element (\S+) failed to validate attributes$", hint.message)
            for candidate in (el.iter(named.group(1)) if named and self.probe else ()):
                found = self._probe(candidate)
                if found:
                    return found
        node: Element | None = el
        while self.probe and node is not None and node.tag != "configuration":
            found = self._probe(node)
            if found:
                return found
            node = node.getparent() if node.getparent() is not None and node.getparent() is not self.doc else None
        return f"{_where(el)}: <{el.tag}> lacks a required attribute or element, or is not allowed here " \
               f"({_lower(error.message)})"

    def references(self, errors: Sequence[Error]) -> list[str]:
        """Lines for id references that name no id in the document."""
        out: list[str] = []
        for error in errors:
            m = re.match(r'IDREF attribute (\S+) references an unknown ID "(.*)"$', error.message)
            if not m:
                continue
            attr, value = m.groups()
            where = "cib"
            for el in self.doc.iter():
                if isinstance(el.tag, str) and el.get(attr) == value:
                    where = _where(el)
                    break
            text = f"{where}: {attr}={value!r} refers to no element with that id"
            if text not in out:
                out.append(text)
        return out

    def _specific(self, error: Error, el: Element) -> str | None:
        where = _where(el)
        typed = re.match(r"Type (\S+) doesn't allow value '(.*)'$", error.message, re.S)
        if typed:
            kind, value = typed.groups()
            names = [name for name, v in cib.attributes(el).items() if v == value]
            if names and self.probe and kind == "integer":  # libxml2 names a choice's first type: a score's
                found = self._attribute(el, names[0])
                if found:
                    return found
            subject = f"{names[0]}={value!r}" if names else repr(value)
            return f"{where}: {subject} is not {_TYPE_WORDS.get(kind, 'a valid ' + kind)}"
        bad_attr = re.match(r"Invalid attribute (\S+) for element (\S+)$", error.message)
        if bad_attr:
            name = bad_attr.group(1)
            if name not in self.words.attributes:
                return f"{where}: unknown attribute {name}={el.get(name)!r}"
            return self._attribute(el, name) if self.probe else f"{where}: {name}={el.get(name)!r} is not allowed"
        wrong = re.match(r"Did not expect element (\S+) there$", error.message)
        if wrong:
            tag = wrong.group(1)
            holder = el.getparent() if el.tag == tag and el.getparent() is not None else el
            assert holder is not None
            if tag == "text" and "text" not in self.words.elements:
                return f"{_where(holder)}: text is not allowed here"
            known = "element" if tag in self.words.elements else "unknown element"
            return f"{_where(holder)}: {known} <{tag}> is not allowed here"
        duplicate = re.match(r"ID (\S+) redefined$", error.message)
        if duplicate:
            return f"{where}: id {duplicate.group(1)!r} is used by another element too"
        return None

    def _passes_with(self, el: Element, name: str, value: str | None) -> bool:
        """Whether the document validates with ``el``'s attribute ``name`` set to ``value`` (None: removed)."""
        trial = copy.deepcopy(self.doc)
        target = _element(trial, el.getroottree().getpath(el))
        if target is None:
            return False
        if value is None:
            if name in target.attrib:
                del target.attrib[name]
        else:
            target.set(name, value)
        return self.validator.passes(trial)

    def _attribute(self, el: Element, name: str) -> str | None:
        """What is wrong with one attribute, if changing or dropping it makes the document valid."""
        where, value = _where(el), el.get(name)
        taken = {probe for probe in _PROBE_VALUES if probe != value and self._passes_with(el, name, probe)}
        kind = _kind_of(taken, name) if taken else None
        if kind is not None and not kind.startswith("a valid "):
            return f"{where}: {name}={value!r} is not {kind}"
        allowed = [v for v in self.words.values.get(name, ()) if v != value and self._passes_with(el, name, v)]
        if allowed:
            shown = allowed if len(allowed) <= 8 else [*allowed[:3], "...", *allowed[-3:]]
            return f"{where}: {name}={value!r} is not one of {', '.join(shown)}"
        if kind is not None:
            return f"{where}: {name}={value!r} is not {kind}"
        if self._passes_with(el, name, None):
            return f"{where}: attribute {name} is not allowed on <{el.tag}> here"
        return None

    def _probe(self, el: Element) -> str | None:
        """The attribute to add, change or drop that makes the document valid.

        A missing attribute is looked for first: where a pair of attributes belongs together (a
        cluster-infrastructure option needs its value), renaming the one present also "fixes" it.
        """
        present = cib.attributes(el)
        for name in sorted(self.words.attributes - set(present)):
            if any(self._passes_with(el, name, v) for v in ("1", "x1", *self.words.values.get(name, ()))):
                return f"{_where(el)}: attribute {name} is missing on <{el.tag}>"
        for name in present:
            found = self._attribute(el, name)
            if found:
                return found
        return None


def _kind_of(taken: set[str], name: str) -> str:
    """What kind of value an attribute wants, from which probe values it took."""
    if {"true", "1"} <= taken and "x1" not in taken:
        return "a boolean (true or false)"
    if {"1", "INFINITY"} <= taken and "true" not in taken:
        return "a score (an integer, INFINITY or -INFINITY)"
    if taken == {"1"}:
        return "a whole number"
    if "x1" in taken and "1" not in taken:
        return "a valid id (a letter or _ first; no spaces or colons)"
    return f"a valid {name}"


def _element(doc: Element, path: str) -> Element | None:
    """The element an error's XPath names, in ``doc``."""
    if not path.startswith("/"):
        return None
    try:
        found = doc.getroottree().xpath(path)
    except etree.XPathError:
        return None
    if isinstance(found, list) and found and isinstance(found[0], etree._Element):
        return found[0]
    return None


def _named(el: Element, message: str) -> Element:
    """The element a message is about when libxml2's path points below it ("Element cib failed to validate
    attributes" comes with the path of ``configuration``)."""
    m = re.match(r"Element (\S+) failed to validate attributes$", message)
    if m:
        node: Element | None = el
        while node is not None and node.tag != m.group(1):
            node = node.getparent()
        if node is not None:
            return node
    return el


def _where(el: Element) -> str:
    """An element by its ids from its section down (``constraints > rsc_location 'l1' > rule 'r1'``).

    Ids rather than positions, so that the same fault reads the same before and after a write that moved it.
    """
    chain: list[str] = []
    node: Element | None = el
    while node is not None and node.tag not in ("configuration", "cib"):
        ident = node.get("id") or node.get("id-ref")
        chain.append(f"{node.tag} {ident!r}" if ident is not None else str(node.tag))
        node = node.getparent()
    if not chain:
        return str(el.tag)
    return " > ".join(reversed(chain))


def _lower(message: str) -> str:
    return message[:1].lower() + message[1:] if message else message


# ---------------------------------------------------------------- which grammar

def _version(name: str) -> tuple[int, int] | None:
    m = _VERSIONED.match(name)
    return (int(m.group(1)), int(m.group(2))) if m else None


class Schemas:
    """The grammars available: a Pacemaker installation's, or (``directory=None``) the one Paceline ships."""

    def __init__(self, directory: Path | None):
        self.directory = directory
        self.versions: dict[str, Path] = {}
        self.next: Path | None = None
        if directory is not None:
            for path in directory.glob("pacemaker-*.rng"):
                name = path.name[:-len(".rng")]
                if _version(name) is not None:
                    self.versions[name] = path
                elif name == NEXT:
                    self.next = path
            if not self.versions:
                raise SchemaError(f"no pacemaker-X.Y.rng grammar in {directory}")

    @classmethod
    def installed(cls, directory: Path = PACEMAKER_DIR) -> Schemas:
        """Pacemaker's grammars where they are installed, else Paceline's own."""
        if directory.is_dir() and any(_version(p.name[:-4]) for p in directory.glob("pacemaker-*.rng")):
            return cls(directory)
        return cls.shipped()

    @classmethod
    def shipped(cls) -> Schemas:
        return cls(None)

    @property
    def source(self) -> str:
        return str(self.directory) if self.directory is not None else str(SHIPPED)

    @property
    def newest(self) -> str:
        if not self.versions:
            return SHIPPED_NAME
        return max(self.versions, key=lambda n: _version(n) or (0, 0))

    def for_cib(self, root: Element) -> Validator | None:
        """The grammar ``root`` is checked against; None for ``validate-with="none"`` (no checking)."""
        named = root.get("validate-with")
        if named == NONE:
            return None
        if self.directory is None:
            return Validator(SHIPPED, SHIPPED_NAME)
        newest = self.newest
        if named is None:
            return Validator(self.versions[newest], newest)
        if named in self.versions:
            return Validator(self.versions[named], named, upgrades=self._upgrades(named))
        if named == NEXT and self.next is not None:
            return Validator(self.next, NEXT)
        version = _version(named)
        if version is not None and version > (_version(newest) or (0, 0)):
            return Validator(self.versions[newest], newest, stand_in=newest)
        return Validator(self.versions[newest], newest)

    @property
    def oldest_usable(self) -> str:
        """The first schema of the newest major version: Pacemaker's tools upgrade CIBs of older ones."""
        major = (_version(self.newest) or (0, 0))[0]
        return min((n for n in self.versions if (_version(n) or (0, 0))[0] == major),
                   key=lambda n: _version(n) or (0, 0))

    def _upgrades(self, named: str) -> tuple[Upgrade, ...]:
        """The steps from ``named`` to :attr:`oldest_usable` (none when it is not older)."""
        order = sorted(self.versions, key=lambda n: _version(n) or (0, 0))
        start, stop = order.index(named), order.index(self.oldest_usable)
        steps = []
        assert self.directory is not None
        for before, name in zip(order[start:stop], order[start + 1:stop + 1], strict=True):
            stem = before[len("pacemaker-"):]
            main = self.directory / f"upgrade-{stem}.xsl"
            transforms: tuple[Path, ...] = ()
            if main.is_file():
                enter, leave = (self.directory / f"upgrade-{stem}-{phase}.xsl" for phase in ("enter", "leave"))
                transforms = tuple(p for p in (enter, main, leave) if p == main or p.is_file())
            steps.append(Upgrade(name, self.versions[name], transforms))
        return tuple(steps)

    def problems(self, root: Element) -> list[str]:
        """Why ``root`` does not validate against its grammar, one line each; empty when it does."""
        validator = self.for_cib(root)
        return [] if validator is None else validator.problems(root)

    def refusal(self, root: Element, problems: Sequence[str]) -> cib.CibError:
        """The error a write is refused with: one line naming the grammar, the first problem and how many more."""
        validator = self.for_cib(root)
        label = validator.label if validator is not None else "the CIB schema"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return cib.CibError(f"refused by {label}: {problems[0]}{more}", list(problems))

    def root_problems(self, root_attrs: Mapping[str, str]) -> list[str]:
        """The problems of a ``<cib>`` element's attributes alone (the DC's quorum and DC facts)."""
        root = etree.Element("cib", dict(root_attrs))
        cib.ensure_sections(root)
        return self.problems(root)


@functools.lru_cache(maxsize=1)
def default() -> Schemas:
    """The grammars of this machine (looked for once per process)."""
    return Schemas.installed()
