"""configure bundle: crmsh's syntax into Pacemaker's ``<bundle>`` (the XML crmsh 4.4 writes for the same line,
checked against Debian's crm with ``CIB_file``), shown back as ``crm configure show`` prints it, and refused
whole when wrong."""

from __future__ import annotations

import copy

import pytest
from lxml import etree
from paceline.crm import CrmError, execute
from paceline.shared import cib

from tests.support.crm import CTX, found_rsc

#: The line of Pacemaker's documentation example, as crmsh's own tests type it.
HTTPD = ("bundle httpd-bundle docker image=pcmk:httpd replicas=3 network ip-range-start=192.168.122.131 "
         "host-netmask=24 port-mapping port=80 storage storage-mapping target-dir=/var/www/html "
         "source-dir=/srv/www options=rw primitive httpd meta target-role=Started")


@pytest.fixture
def root() -> etree._Element:
    el = cib.empty(["primary", "secondary"])
    execute(el, "configure primitive httpd ocf:heartbeat:Dummy op monitor interval=10s", CTX)
    return el


def part(el: etree._Element, path: str) -> etree._Element:
    found = el.find(path)
    assert found is not None, path
    return found


def attrs(el: etree._Element) -> dict[str, str]:
    return {str(k): str(v) for k, v in el.attrib.items()}


def run(root: etree._Element, line: str) -> str:
    return execute(root, f"configure {line}", CTX).output


def test_a_bundle_is_written_as_crmsh_writes_it(root) -> None:
    run(root, HTTPD)
    bundle = found_rsc(root, "httpd-bundle")
    assert part(root, "configuration/resources") is bundle.getparent()
    assert [c.tag for c in bundle] == ["docker", "network", "storage", "meta_attributes", "primitive"]
    assert attrs(part(bundle, "docker")) == {"image": "pcmk:httpd", "replicas": "3"}
    assert list(part(bundle, "network").attrib.items()) == [("ip-range-start", "192.168.122.131"),
                                                          ("host-netmask", "24")]
    assert list(part(bundle, "network/port-mapping").attrib.items()) == [("port", "80"), ("id", "httpd-bundle-0")]
    assert list(part(bundle, "storage/storage-mapping").attrib.items()) == [
        ("target-dir", "/var/www/html"), ("source-dir", "/srv/www"), ("options", "rw"), ("id", "httpd-bundle-1")]
    assert part(bundle, "meta_attributes").get("id") == "httpd-bundle-meta_attributes"
    assert part(bundle, "primitive").get("id") == "httpd" and part(bundle, "primitive/operations") is not None


def test_podman_and_repeated_parts(root) -> None:
    run(root, "bundle web podman image=localhost/guest replicas=2 podman run-command=/bin/remote "
              "options=\"--net=host -e A=1\" storage storage-mapping id=logs source-dir=/a target-dir=/b "
              "storage-mapping source-dir-root=/c target-dir=/d network control-port=3121 primitive httpd")
    bundle = found_rsc(root, "web")
    assert attrs(part(bundle, "podman")) == {"image": "localhost/guest", "replicas": "2",
                                                  "run-command": "/bin/remote", "options": "--net=host -e A=1"}
    assert [m.get("id") for m in bundle.iter("storage-mapping")] == ["logs", "web-0"]


def test_show_prints_crmsh_lines_that_read_back_the_same(root) -> None:
    run(root, HTTPD)
    shown = run(root, "show httpd-bundle")
    assert shown == ("bundle httpd-bundle \\\n"
                     "\tdocker image=pcmk:httpd replicas=3 \\\n"
                     "\tnetwork ip-range-start=192.168.122.131 host-netmask=24 port-mapping port=80 "
                     "id=httpd-bundle-0 \\\n"
                     "\tstorage storage-mapping target-dir=/var/www/html source-dir=/srv/www options=rw "
                     "id=httpd-bundle-1 \\\n"
                     "\tmeta target-role=Started \\\n"
                     "\tprimitive httpd")
    everything = run(root, "show")
    assert everything.index("primitive httpd Dummy") < everything.index("bundle httpd-bundle")
    again = cib.empty(["primary", "secondary"])
    for line in everything.replace("\\\n\t", "").splitlines():
        if not line.startswith("node "):
            run(again, line)
    assert etree.tostring(found_rsc(again, "httpd-bundle")) == etree.tostring(found_rsc(root, "httpd-bundle"))
    assert run(root, HTTPD) == ""  # the same definition again changes nothing


@pytest.mark.parametrize(("line", "message"), [
    ("bundle b podman image=x docker image=y", "one container technology"),
    ("bundle b podman replicas=2", "podman needs image=IMAGE"),
    ("bundle b podman image=x bogus=1", "podman has no attribute 'bogus'"),
    ("bundle b podman image=x network control-port=1 primitive nope", "no resource 'nope'"),
    ("bundle b podman image=x primitive httpd", "without network ip-range-start=ADDRESS or control-port"),
    ("bundle b podman image=x network add-host=false primitive httpd", "without network ip-range-start"),
    ("bundle b podman image=x network port-mapping", "port-mapping needs name=value pairs"),
    ("bundle b podman image=x storage source-dir=/a", "storage takes storage-mapping parts"),
    ("bundle b network control-port=1", "needs its container"),
    ("bundle httpd podman image=x", "already in use"),
    ("bundle b podman image=x junk", "unexpected 'junk'"),
    ("bundle b podman image=x network control-port=1 primitive httpd primitive httpd", "one primitive"),
])
def test_bad_bundles_are_refused_whole(root, line: str, message: str) -> None:
    before = copy.deepcopy(root)
    with pytest.raises(CrmError, match=message):
        run(root, line)
    assert etree.tostring(root) == etree.tostring(before)


def test_a_primitive_that_belongs_elsewhere_is_refused(root) -> None:
    run(root, "clone c httpd")
    with pytest.raises(CrmError, match="already belongs to clone 'c'"):
        run(root, "bundle b podman image=x network control-port=3121 primitive httpd")
