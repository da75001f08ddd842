"""Time of the crm language on long command lines: is it linear in the length of the line?

    .venv/bin/python bench/crm_parse.py [--runs 3] [--sizes 64,128,256,512,1024] [--shapes group,rule] [--budget 60]

Each shape is one realistic command made as long as a size allows (64 KiB to 1 MiB by default, 1 MiB being
the longest line the language accepts: ``MAX_CRM_LINE_BYTES`` in :mod:`paceline.shared.limits`): a primitive
with thousands of parameters, with quoted values, with thousands of operations; a group of thousands of
members; an order of one long resource set; a colocation of thousands of bracketed sets; a location rule of
thousands of expressions; ``resource stop`` and ``configure delete`` of thousands of resources. A run is what
the gateway does with a line, without the bus: ``paceline.crm.execute`` on a CIB in memory (tokenizing,
parsing, applying, the validation of the result), on a fresh copy of a CIB that holds whatever the line names
(not timed). ``tokenizer`` times the tokenizer alone on one quoted value as long as the size: the shape of
the 900 KB line that used to take 9.8 s in ``shlex`` (the whole command is refused by the word limit now).

For every shape it prints the median of ``--runs`` runs per size and the ratio of each time to the one
before it: linear work doubles with the size (ratios about 2), quadratic work quadruples. A shape whose run
takes longer than ``--budget`` seconds is not tried at the larger sizes.

Measured on 2 vCPUs: every shape doubles (ratios 1.8 to 2.5) and 1 MiB takes 0.1 s (tokenizer), 0.2 to 0.6 s
(primitives, rule) and 1.4 to 3.1 s (commands naming 95,000 resources, mostly copying and validating a CIB
that holds them). Before the fix the ratios were 4 (quadratic) and 7 (the rule: cubic): at 64 KiB a group
took 4.1 s, a primitive's parameters 1.2 s, a colocation's sets 8.2 s, and the tokenizer 8.4 s at 1 MiB.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree
from paceline.crm import Context, execute
from paceline.crm.words import tokenize
from paceline.shared import cib
from paceline.shared.cib import Element

CTX = Context(local_node="node-1")
KIB = 1024


def member(i: int) -> str:
    return f"web-{i:06d}"


def fill(head: str, item: Callable[[int], str], size: int, tail: str = "") -> tuple[str, int]:
    """``head item(0) item(1) ... tail`` with as many items as keep it within ``size`` bytes; (line, items)."""
    parts = [head]
    length = len(head) + len(tail) + 1
    n = 0
    while True:
        word = item(n)
        if length + len(word) + 1 > size:
            break
        parts.append(word)
        length += len(word) + 1
        n += 1
    if tail:
        parts.append(tail)
    return " ".join(parts), n


def cib_with(primitives: int) -> Element:
    """Two nodes and ``primitives`` stopped Dummy primitives named like :func:`member`."""
    root = cib.empty(["node-1", "node-2"])
    resources = cib.section(root, "resources")
    for i in range(primitives):
        etree.SubElement(resources, "primitive", {"id": member(i), "class": "ocf", "provider": "heartbeat",
                                                  "type": "Dummy"})
    return root


@dataclass(frozen=True)
class Shape:
    """A long command: ``make(size)`` gives the line and how many resources its CIB must hold."""

    name: str
    make: Callable[[int], tuple[str, int]]
    tokenizer_only: bool = False


def _members(head: str, tail: str = "") -> Callable[[int], tuple[str, int]]:
    return lambda size: fill(head, member, size, tail)


def _no_cib(head: str, item: Callable[[int], str]) -> Callable[[int], tuple[str, int]]:
    return lambda size: (fill(head, item, size)[0], 0)


def _sets(size: int) -> tuple[str, int]:
    line, n = fill("configure colocation big inf:", lambda i: f"( {member(2 * i)} {member(2 * i + 1)} )", size)
    return line, 2 * n


def _one_value(size: int) -> tuple[str, int]:
    head = 'configure primitive big ocf:heartbeat:Dummy params text="'
    piece = 'a b \\" c\\\\ '   # a b \" c\\ : blanks and escapes, as a quoted value has them
    return head + piece * ((size - len(head) - 1) // len(piece)) + '"', 0


SHAPES = (
    Shape("params", _no_cib("configure primitive big ocf:heartbeat:Dummy params", lambda i: f"p{i:06d}=value-{i}")),
    Shape("quoted", _no_cib("configure primitive big ocf:heartbeat:Dummy params",
                            lambda i: f'q{i:06d}="a value with spaces, \\"quotes\\" and a \\\\ backslash"')),
    Shape("ops", _no_cib("configure primitive big ocf:heartbeat:Dummy",
                         lambda i: f"op monitor interval={i + 1}s timeout=20s")),
    Shape("group", _members("configure group big")),
    Shape("order", _members("configure order big Mandatory:")),
    Shape("colocation-sets", _sets),
    Shape("rule", lambda size: (fill(f"configure location big {member(0)} rule 100: #uname eq node-1",
                                     lambda i: f"or #uname eq node-{i + 2}", size)[0], 1)),
    Shape("resource-stop", _members("resource stop")),
    Shape("delete", _members("configure delete")),
    Shape("tokenizer", _one_value, tokenizer_only=True),
)


def run_once(shape: Shape, line: str, template: Element) -> float:
    if shape.tokenizer_only:
        start = time.perf_counter()
        tokenize(line)
        return time.perf_counter() - start
    root = copy.deepcopy(template)
    start = time.perf_counter()
    execute(root, line, CTX)
    return time.perf_counter() - start


def measure(shape: Shape, sizes: list[int], runs: int, budget: float) -> list[float | None]:
    """The median time per size; None for the sizes not tried (a smaller one took longer than ``budget``)."""
    out: list[float | None] = []
    over = False
    line, primitives = shape.make(4 * KIB)   # untimed: the command's modules are imported on first use
    run_once(shape, line, cib_with(primitives))
    for size in sizes:
        if over:
            out.append(None)
            continue
        line, primitives = shape.make(size)
        template = cib_with(primitives)
        samples = []
        for _ in range(runs):
            samples.append(run_once(shape, line, template))
            if samples[-1] > budget:
                over = True
                break
        out.append(statistics.median(samples))
    return out


def label(size: int) -> str:
    return f"{size // (KIB * KIB)} MiB" if size % (KIB * KIB) == 0 else f"{size // KIB} KiB"


def seconds(t: float | None) -> str:
    if t is None:
        return "-"
    return f"{t * 1000:.0f} ms" if t < 10 else f"{t:.1f} s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="runs per size (the median is reported)")
    ap.add_argument("--sizes", default="64,128,256,512,1024", help="line sizes in KiB, comma-separated")
    ap.add_argument("--shapes", default="", help="comma-separated shape names (default: all): "
                    + ", ".join(s.name for s in SHAPES))
    ap.add_argument("--budget", type=float, default=60.0, help="seconds a run may take before larger sizes "
                    "of that shape are skipped")
    args = ap.parse_args()
    sizes = [int(s) * KIB for s in args.sizes.split(",")]
    wanted = set(args.shapes.split(",")) if args.shapes else {s.name for s in SHAPES}
    unknown = wanted - {s.name for s in SHAPES}
    if unknown:
        sys.exit(f"unknown shape(s): {', '.join(sorted(unknown))}")
    print(f"{'shape':<16}" + "".join(f"{label(s):>10}" for s in sizes) + "   time ratios, size x2 each")
    for shape in SHAPES:
        if shape.name not in wanted:
            continue
        times = measure(shape, sizes, args.runs, args.budget)
        ratios = [f"{b / a:.1f}" if a and b else "-" for a, b in itertools.pairwise(times)]
        print(f"{shape.name:<16}" + "".join(f"{seconds(t):>10}" for t in times) + "   " + " ".join(ratios),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
