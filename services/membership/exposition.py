"""Prometheus text exposition, written and merged by hand: the node exporter's output format.

prometheus-client cannot say what the node exporter must say: ha_cluster_exporter's
``ha_cluster_pacemaker_config_last_change`` is a counter whose sample has no ``_total``
suffix, and the node's other services already expose their own text on their internal
endpoints. So the families are plain records rendered here, and the services' texts
are merged family by family (one ``# HELP``/``# TYPE`` per name, as Prometheus requires
of one scrape), each relayed sample labelled with the service it came from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field


def _value_text(value: float) -> str:
    """Go's and prometheus-client's spelling: ``+Inf``, ``-Inf``, ``NaN``, integers without a fraction."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


@dataclass
class Family:
    """One metric family: a name, its help and type, and its samples (label set -> value)."""

    name: str
    help: str
    type: str = "gauge"
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def add(self, number: float, /, **labels: str) -> None:
        """One sample (positional-only: a label may be called ``value``, as node attributes' is)."""
        self.samples.append((labels, float(number)))

    def lines(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.type}"]
        for labels, value in self.samples:
            out.append(sample_line(self.name, labels, value))
        return out


def sample_line(name: str, labels: dict[str, str], value: float) -> str:
    """One sample; label names sorted, as the Go client (and so ha_cluster_exporter) writes them."""
    if not labels:
        return f"{name} {_value_text(value)}"
    text = ",".join(f'{k}="{_escape(labels[k])}"' for k in sorted(labels))
    return f"{name}{{{text}}} {_value_text(value)}"


def render(families: Iterable[Family]) -> str:
    """The families' text; a family without samples is left out, as the Go client leaves it out."""
    return "".join(line + "\n" for family in families if family.samples for line in family.lines())


# ---------------------------------------------------------------- merging the services' own texts

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


@dataclass
class _Block:
    help: str = ""
    type: str = ""
    samples: list[str] = field(default_factory=list)


def _with_service(line: str, service: str) -> str:
    """A sample line with ``service="..."`` added unless it already names a service."""
    brace = line.find("{")
    space = line.find(" ")
    if brace != -1 and (space == -1 or brace < space):
        close = line.find("}", brace)
        if 'service="' in line[brace:close if close != -1 else len(line)]:
            return line
        sep = "" if line[brace + 1] == "}" else ","
        return f'{line[:brace + 1]}service="{_escape(service)}"{sep}{line[brace + 1:]}'
    return f'{line[:space]}{{service="{_escape(service)}"}}{line[space:]}'


def _family_of(sample_name: str, blocks: dict[str, _Block]) -> str:
    """The family a sample belongs to (``x_bucket`` to the histogram ``x``) once its ``# TYPE`` was read."""
    if sample_name in blocks:
        return sample_name
    for suffix in ("_bucket", "_sum", "_count", "_total", "_created"):
        if sample_name.endswith(suffix) and sample_name[: -len(suffix)] in blocks:
            return sample_name[: -len(suffix)]
    return sample_name


def merge(texts: Iterable[tuple[str, str]]) -> str:
    """The texts of several services (``(service, exposition)``) as one exposition.

    Families of one name are joined under one HELP/TYPE; a sample without a ``service`` label gets its
    service's, so two services' samples of a shared family (``paceline_requests_total``) stay apart.
    """
    blocks: dict[str, _Block] = {}
    for service, text in texts:
        current = ""
        for raw in text.splitlines():
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                parts = line.split(None, 3)
                if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                    current = parts[2]
                    block = blocks.setdefault(current, _Block())
                    rest = parts[3] if len(parts) == 4 else ""
                    if parts[1] == "HELP" and not block.help:
                        block.help = rest
                    elif parts[1] == "TYPE" and not block.type:
                        block.type = rest
                continue
            match = _NAME.match(line)
            if match is None:
                continue
            sample = match.group(0)
            family = current if current and sample.startswith(current) else _family_of(sample, blocks)
            blocks.setdefault(family, _Block()).samples.append(_with_service(line, service))
    out: list[str] = []
    for name, block in blocks.items():
        if not block.samples:
            continue
        if block.help:
            out.append(f"# HELP {name} {block.help}")
        if block.type:
            out.append(f"# TYPE {name} {block.type}")
        out += block.samples
    return "".join(line + "\n" for line in out)
