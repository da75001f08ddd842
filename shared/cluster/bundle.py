"""Bundles: a container image run as replicas, each with its address, guest node and bundled resource.

A ``<bundle>`` names no agent of its own: Pacemaker's ``lib/pengine/bundle.c`` (``pe__unpack_bundle``)
expands it into implicit resources, and every history entry, op digest and transition names those. This
module builds the same resources, as CIB elements the resource reader then unpacks like any other:

- per replica ``i``: the container ``<bundle>-<docker|podman|rkt>-<i>`` (``ocf:heartbeat:<agent>``, with
  the ``image``, ``run_opts``, ``mount_points``, ``run_cmd``... parameters Pacemaker generates, so that the
  digests recorded by Pacemaker match); its address ``<bundle>-ip-<addr>`` (``ocf:heartbeat:IPaddr2``) when
  ``ip-range-start`` is set; and, when the bundle holds a primitive, the connection ``<bundle>-<i>``
  (``ocf:pacemaker:remote`` launched by the container) of guest node ``<bundle>-<i>``;
- the bundled primitive as a clone ``<bundle>-clone`` (``<bundle>-master`` when promotable, Pacemaker's
  old name kept for rolling upgrades), whose instance ``<prim>:<i>`` runs on guest node ``<bundle>-<i>``.

Pure: elements in, elements out; the reader and the scheduler do the rest.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from lxml import etree
from paceline.shared.cib import Element
from paceline.shared.cluster.values import is_true, leading_int

#: The container engines a bundle may name, in the order Pacemaker looks for them.
ENGINES = ("docker", "rkt", "podman")
#: Pacemaker Remote's default port, inside the container (``DEFAULT_REMOTE_PORT``).
REMOTE_PORT = "3121"
#: Where the Pacemaker Remote key lives, mapped into every container (``DEFAULT_REMOTE_KEY_LOCATION``).
AUTHKEY = "/etc/pacemaker/authkey"
#: The host directory each replica's /var/log is mapped from, one subdirectory each (``CRM_BUNDLE_DIR``).
LOG_ROOT = "/var/log/pacemaker/bundles"
#: What the container runs when the bundle holds a resource (``SBIN_DIR "/pacemaker-remoted"``).
REMOTED = "/usr/sbin/pacemaker-remoted"


@dataclass
class Mount:
    source: str
    target: str
    options: str | None = None
    per_replica: bool = False       # source-dir-root: each replica mounts its own subdirectory


@dataclass
class BundleSpec:
    """What a ``<bundle>`` element configures (``pe__bundle_variant_data_t``)."""

    id: str
    engine: str                      # docker, podman or rkt
    image: str | None = None
    replicas: int = 1
    per_host: int = 1
    promoted_max: int = 0
    run_command: str | None = None
    options: str | None = None       # the engine's own options, appended to run_opts
    network: str | None = None       # --net=
    ip_range_start: str | None = None
    host_netmask: str | None = None
    host_interface: str | None = None
    control_port: str | None = None
    add_host: bool = True
    ports: list[tuple[str, str]] = field(default_factory=list)
    mounts: list[Mount] = field(default_factory=list)
    primitive: Element | None = None

    @property
    def manages_inside(self) -> bool:
        """Can the cluster reach a resource inside (``valid_network``): an address range or a control port."""
        return self.ip_range_start is not None or self.control_port is not None

    @property
    def has_child(self) -> bool:
        return self.primitive is not None and self.manages_inside

    @property
    def clone_id(self) -> str:
        return f"{self.id}-{'master' if self.promoted_max > 0 else 'clone'}"

    @property
    def unique(self) -> bool:
        return self.per_host > 1


@dataclass
class ReplicaXml:
    """One replica's implicit resources as elements (``pcmk__bundle_replica_t`` before unpacking)."""

    offset: int
    ipaddr: str | None
    container: Element
    ip: Element | None
    remote: Element | None


def _count(value: str | None, default: int) -> int:
    """A bundle count as ``pcmk__scan_min_int`` reads it: the leading integer, at least ``default``."""
    number = leading_int(value, default) if value is not None else default
    return max(default, number if number is not None else default)


def parse(el: Element) -> BundleSpec | None:
    """The bundle's configuration; None when it names no container engine (Pacemaker ignores it)."""
    engine_el = next((e for name in ENGINES for e in el.iterfind(name)), None)
    if engine_el is None:
        return None
    spec = BundleSpec(id=el.get("id", ""), engine=str(engine_el.tag))
    promoted = engine_el.get("promoted-max", engine_el.get("masters"))
    spec.promoted_max = _count(promoted, 0)
    replicas = engine_el.get("replicas")
    spec.replicas = spec.promoted_max if replicas is None and spec.promoted_max > 0 else _count(replicas, 1)
    spec.per_host = _count(engine_el.get("replicas-per-host"), 1)
    spec.run_command = engine_el.get("run-command")
    spec.options = engine_el.get("options")
    spec.image = engine_el.get("image")
    spec.network = engine_el.get("network")
    net = el.find("network")
    if net is not None:
        spec.ip_range_start = net.get("ip-range-start")
        spec.host_netmask = net.get("host-netmask")
        spec.host_interface = net.get("host-interface")
        spec.control_port = net.get("control-port")
        spec.add_host = is_true(net.get("add-host"), True)
        for pm in net.iterfind("port-mapping"):
            source = pm.get("port")
            target = pm.get("internal-port") if source is not None else None
            source = source if source is not None else pm.get("range")
            if source:
                spec.ports.append((source, target or source))
    for sm in el.iterfind("storage/storage-mapping"):
        source, per_replica = sm.get("source-dir"), False
        if source is None:
            source, per_replica = sm.get("source-dir-root"), True
        if source is not None and sm.get("target-dir") is not None:
            spec.mounts.append(Mount(source, sm.get("target-dir", ""), sm.get("options"), per_replica))
    if spec.control_port is not None and spec.ip_range_start is None and spec.per_host > 1:
        spec.per_host = 1       # one control port per host: one replica per host
    spec.primitive = el.find("primitive")
    if spec.has_child:
        spec.mounts.append(Mount(AUTHKEY, AUTHKEY))
        if not any(m.target == "/var/log" for m in spec.mounts):
            spec.mounts.append(Mount(LOG_ROOT, "/var/log", per_replica=True))
        spec.ports.append((spec.control_port or REMOTE_PORT,) * 2)
    return spec


def next_ip(last: str) -> str | None:
    """The address after ``last`` in a bundle's range (``next_ip``): IPv4 only, the last octet wrapping to
    1 into the third; None past x.x.254.x or for anything else."""
    parts = last.split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None
    a, b, c, d = (int(p) for p in parts)
    if c > 253:
        return None
    if d > 253:
        c, d = c + 1, 1
    else:
        d += 1
    return f"{a}.{b}.{c}.{d}"


def addresses(spec: BundleSpec) -> list[str | None]:
    """Each replica's address (``allocate_ip``), None for all without a range or once the range runs out."""
    out: list[str | None] = []
    last: str | None = None
    for _ in range(spec.replicas):
        if spec.ip_range_start is None:
            out.append(None)
            continue
        ip = spec.ip_range_start if not out else (next_ip(last) if last is not None else None)
        out.append(ip)
        last = ip
    return out


def host_options(spec: BundleSpec, ips: list[str | None]) -> str:
    """The host entries every container gets, one per replica with an address (``allocate_ip``'s buffer)."""
    text = ""
    for i, ip in enumerate(ips):
        if ip is None:
            continue
        if spec.engine == "rkt" or not spec.add_host:
            text += f" --hosts-entry={ip}={spec.id}-{i}"
        else:
            text += f" --add-host={spec.id}-{i}:{ip}"
    return text


def run_opts(spec: BundleSpec, offset: int, ip: str | None, hosts: str) -> str:
    """The container agent's ``run_opts`` for one replica (``create_container_resource``), exactly as
    Pacemaker writes them: a single character off and every recorded digest says the definition changed."""
    rkt = spec.engine == "rkt"
    env = "--environment=" if rkt else "-e "
    text = " --restart=no" if spec.engine == "docker" else ""
    if spec.ip_range_start is not None:
        text += f" {'--hostname=' if rkt else '-h '}{spec.id}-{offset}"
    text += f" {env}PCMK_stderr=1"
    if spec.network is not None:
        text += f" --net={spec.network}"
    text += f" {env}PCMK_remote_port={spec.control_port or REMOTE_PORT}"
    volume = 0
    for m in spec.mounts:
        source = f"{m.source}/{spec.id}-{offset}" if m.per_replica else m.source
        if rkt:
            opts = f",{m.options}" if m.options is not None else ""
            text += f" --volume vol{volume},kind=host,source={source}{opts}" \
                    f" --mount volume=vol{volume},target={m.target}"
            volume += 1
        else:
            text += f" -v {source}:{m.target}" + (f":{m.options}" if m.options is not None else "")
    for source, target in spec.ports:
        if rkt:
            text += f" --port={target}:{ip}:{source}" if ip is not None else f" --port={target}:{source}"
        elif ip is not None:
            text += f" -p {ip}:{source}:{target}"
        elif spec.network != "host":
            text += f" -p {source}:{target}"
    if spec.options is not None:
        text += f" {spec.options}"
    return text + f" {hosts}"


def _primitive(rid: str, provider: str, kind: str) -> Element:
    return etree.Element("primitive", {"id": rid, "class": "ocf", "provider": provider, "type": kind})


def _nvpairs(parent: Element, tag: str, set_id: str, pairs: list[tuple[str, str]]) -> None:
    block = etree.SubElement(parent, tag, id=set_id)
    for name, value in pairs:
        etree.SubElement(block, "nvpair", id=f"{set_id}-{name}", name=name, value=value)


def _op(parent: Element, rid: str, task: str, interval: str, timeout: str | None = None) -> None:
    """An op as ``crm_create_op_xml`` writes it (its id is ``RSC-TASK-INTERVAL``)."""
    ops = parent.find("operations")
    if ops is None:
        ops = etree.SubElement(parent, "operations")
    attrs = {"id": f"{rid}-{task}-{interval}", "name": task, "interval": interval}
    if timeout is not None:
        attrs["timeout"] = timeout
    etree.SubElement(ops, "op", attrs)


def sanitized(rid: str) -> str:
    """An id made XML-valid as ``pcmk__xml_sanitize_id`` makes it (an IPv6 address's colons, say)."""
    out = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in rid)
    return out if out[:1].isalpha() or out[:1] == "_" else "_" + out[1:]


def container_element(spec: BundleSpec, offset: int, ip: str | None, hosts: str) -> Element:
    """Replica ``offset``'s container primitive."""
    rid = sanitized(f"{spec.id}-{spec.engine}-{offset}")
    el = _primitive(rid, "heartbeat", spec.engine)
    mounts = ",".join(f"{m.source}/{spec.id}-{offset}" for m in spec.mounts if m.per_replica)
    pairs = [("image", spec.image or ""), ("allow_pull", "true"), ("force_kill", "false"), ("reuse", "false"),
             ("run_opts", run_opts(spec, offset, ip, hosts)), ("mount_points", mounts)]
    if spec.has_child:
        pairs.append(("run_cmd", spec.run_command or REMOTED))
    elif spec.run_command is not None:
        pairs.append(("run_cmd", spec.run_command))
    pairs.append(("monitor_cmd", "/bin/true"))
    _nvpairs(el, "instance_attributes", f"{spec.id}-attributes-{offset}", pairs)
    _op(el, rid, "monitor", "60s")
    return el


def ip_element(spec: BundleSpec, offset: int, ip: str) -> Element:
    """Replica ``offset``'s address (``create_ip_resource``)."""
    rid = sanitized(f"{spec.id}-ip-{ip}")
    el = _primitive(rid, "heartbeat", "IPaddr2")
    pairs = [("ip", ip)]
    if spec.host_interface is not None:
        pairs.append(("nic", spec.host_interface))
    pairs.append(("cidr_netmask", spec.host_netmask if spec.host_netmask is not None else "32"))
    _nvpairs(el, "instance_attributes", f"{spec.id}-attributes-{offset}", pairs)
    _op(el, rid, "monitor", "60s")
    return el


def remote_element(rid: str, container_id: str, ip: str | None, port: str) -> Element:
    """A replica's connection (``pe_create_remote_xml``): launched by its container, reached at the replica's
    address (``#uname``, the container's host, without one), monitored every 30 s."""
    el = _primitive(rid, "pacemaker", "remote")
    _nvpairs(el, "meta_attributes", f"{rid}-meta_attributes", [("internal_rsc", "true"), ("container", container_id)])
    _nvpairs(el, "instance_attributes", f"{rid}-instance_attributes", [("addr", ip or "#uname"), ("port", port)])
    _op(el, rid, "monitor", "30s", "30s")
    return el


def connection_id(spec: BundleSpec, offset: int, taken: set[str]) -> str:
    """The connection's (and guest node's) name: ``<bundle>-<i>``, unless a resource already has it."""
    rid = f"{spec.id}-{offset}"
    if rid in taken and spec.primitive is not None:
        rid = f"pcmk-internal-{spec.primitive.get('id')}-remote-{offset}"
    return rid


def replica_elements(spec: BundleSpec, taken: set[str] | None = None) -> list[ReplicaXml]:
    """Every replica's implicit resources (``create_replica_resources``), ``taken``: ids already in use."""
    ips = addresses(spec)
    hosts = host_options(spec, ips)
    out: list[ReplicaXml] = []
    for offset, ip in enumerate(ips):
        container = container_element(spec, offset, ip, hosts)
        remote = None
        if spec.has_child:
            rid = connection_id(spec, offset, taken or set())
            remote = remote_element(rid, container.get("id", ""), ip, spec.control_port or REMOTE_PORT)
        out.append(ReplicaXml(offset, ip, container, ip_element(spec, offset, ip) if ip else None, remote))
    return out


def clone_element(spec: BundleSpec) -> Element | None:
    """The bundled primitive as a clone of one instance per replica (None: nothing inside to manage)."""
    if not spec.has_child or spec.primitive is None:
        return None
    el = etree.Element("clone", id=spec.clone_id)
    pairs = [("ordered", "true"), ("clone-max", str(spec.replicas)), ("clone-node-max", str(spec.per_host)),
             ("globally-unique", "true" if spec.unique else "false")]
    if spec.promoted_max > 0:
        pairs += [("promotable", "true"), ("promoted-max", str(spec.promoted_max))]
    _nvpairs(el, "meta_attributes", f"{spec.id}-clone-meta", pairs)
    el.append(copy.deepcopy(spec.primitive))     # Pacemaker unpacks a copy too
    return el


def guest_names(el: Element, taken: set[str]) -> list[str]:
    """The guest nodes a bundle element makes (one per replica when it holds a manageable resource)."""
    spec = parse(el)
    if spec is None or not spec.has_child:
        return []
    return [connection_id(spec, i, taken) for i in range(spec.replicas)]
