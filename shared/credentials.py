"""The cluster's credentials (``paceline keygen``): what corosync-keygen's authkey is to corosync.

A credentials directory holds, made once and copied to every machine:

- ``ca.pem`` (and ``ca.key``, needed only to add machines): the cluster's own
  certificate authority. Each bus server presents ``servers/<node>.pem``,
  signed by it, to clients and to the other servers; routes between servers
  require a certificate signed by it (mutual TLS), so no outsider can join the
  bus cluster.
- ``servers/<node>.conf``: that bus server's configuration for ``nats-server -c``
  (TLS, route TLS, every user's public nkey and allow lists); the lab writes
  its own, deployments use these.
- ``users/<name>.nk``: one NATS nkey seed per user. A user is a role
  (:mod:`paceline.shared.permissions`): ``admin``, ``observer``, or one
  service of one node (``membership@node1``). The servers know only the public
  keys; a client proves it holds the seed by signing the server's nonce (NATS's
  own challenge, done by nats-py and by the quick client with the nkeys library).

Nothing here is hand-written cryptography: keys and certificates come from the
``cryptography`` package, nkeys from NATS's ``nkeys`` package.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paceline.shared.permissions import (
    ADMIN,
    NODE_SERVICES,
    OBSERVER,
    REMOTE,
    Permissions,
    inbox_prefix,
    permissions,
    user_name,
)
from paceline.shared.subjects import Subjects, check_token

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
    from paceline.shared.natsserver import ServerAuth

#: Where services and the CLI look for credentials unless told otherwise (``PACELINE_CREDENTIALS``).
DEFAULT_DIR = Path("/etc/paceline/credentials")
MANIFEST = "credentials.json"
VALID_DAYS = 3650


class CredentialError(Exception):
    """A credential is missing or unusable; the message says which and where it was looked for."""


# ---------------------------------------------------------------- making them

def keygen(directory: Path, cluster: str, nodes: Mapping[str, Iterable[str]], force: bool = False,
           witnesses: Mapping[str, Iterable[str]] | None = None, remotes: Iterable[str] = ()) -> list[Path]:
    """Make a credentials directory for ``cluster`` and ``nodes`` (node -> extra addresses of its bus server);
    ``witnesses`` (bus-only nodes) get a server certificate and no users; ``remotes`` (remote nodes: an
    executor and nothing else, no bus server of their own) one user each, ``remote@<node>``.

    Refuses to overwrite existing credentials unless ``force``: replacing them locks every machine that
    still holds the old ones out. Returns the files written.
    """
    check_token(cluster, "cluster name")
    for node in nodes:
        check_token(node, "node name")
    directory = Path(directory)
    if (directory / MANIFEST).exists() and not force:
        raise CredentialError(f"{directory} already holds credentials; --force replaces them (every machine "
                              "then needs the new ones)")
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    written: list[Path] = []
    ca_key, ca_cert = _make_ca(cluster)
    written += [_write(directory / "ca.key", _key_pem(ca_key), secret=True),
                _write(directory / "ca.pem", _cert_pem(ca_cert))]
    for node, addresses in {**nodes, **(witnesses or {})}.items():
        check_token(node, "node name")
        key, cert = _make_server_cert(ca_key, ca_cert, node, list(addresses))
        written += [_write(directory / "servers" / f"{node}.key", _key_pem(key), secret=True),
                    _write(directory / "servers" / f"{node}.pem", _cert_pem(cert))]
    remotes = _check_remotes(remotes, [*nodes, *(witnesses or {})])
    users = [ADMIN, OBSERVER] + [user_name(svc, node) for node in nodes for svc in NODE_SERVICES] + \
        [user_name(REMOTE, node) for node in remotes]
    for user in users:
        written.append(_write(directory / "users" / f"{user}.nk", _new_user_seed() + "\n", secret=True))
    manifest = {"cluster": cluster, "nodes": sorted(nodes), **({"remotes": remotes} if remotes else {})}
    written.append(_write(directory / MANIFEST, json.dumps(manifest, indent=2) + "\n"))
    creds = Credentials(directory)
    for node in {**nodes, **(witnesses or {})}:  # each bus server's auth configuration, for `nats-server -c`
        written.append(_write(directory / "servers" / f"{node}.conf",
                              server_auth(creds, node, Subjects(cluster)).config(), secret=True))
    return written


def add_node(directory: Path, node: str, addresses: Iterable[str]) -> list[Path]:
    """Credentials for one more node, made with the CA key of an existing directory (``paceline cluster
    join``): its bus server's certificate and a user per service of it. The other machines' servers need not
    know the new users - each node's services connect to their own node's server only. Returns the files
    written; refuses a node the directory already has."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

    check_token(node, "node name")
    directory = Path(directory)
    creds = Credentials(directory)
    if node in creds.nodes:
        raise CredentialError(f"{directory} already holds the credentials of node {node!r}")
    try:
        ca_key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    except FileNotFoundError as exc:
        raise CredentialError(f"cannot add a node without the cluster's CA: {exc.filename} is missing") from None
    if not isinstance(ca_key, EllipticCurvePrivateKey):
        raise CredentialError(f"{directory / 'ca.key'} is not the key 'paceline keygen' makes")
    key, cert = _make_server_cert(ca_key, ca_cert, node, list(addresses))
    written = [_write(directory / "servers" / f"{node}.key", _key_pem(key), secret=True),
               _write(directory / "servers" / f"{node}.pem", _cert_pem(cert))]
    for svc in NODE_SERVICES:
        written.append(_write(directory / "users" / f"{user_name(svc, node)}.nk", _new_user_seed() + "\n",
                              secret=True))
    manifest = {"cluster": creds.cluster, "nodes": sorted({*creds.nodes, node})}
    written.append(_write(directory / MANIFEST, json.dumps(manifest, indent=2) + "\n"))
    return written


def add_remote(directory: Path, node: str) -> list[Path]:
    """The credential of one more remote node (``remote@<node>``): a user, no bus server (a remote node's
    executor connects to the cluster nodes' servers). The servers learn the user when their configuration
    is written again (:func:`server_auth`). Refuses a name the directory already has."""
    directory = Path(directory)
    creds = Credentials(directory)
    manifest = creds._manifest()
    remotes = _check_remotes([*creds.remotes, node], creds.nodes)
    written = [_write(directory / "users" / f"{user_name(REMOTE, node)}.nk", _new_user_seed() + "\n", secret=True)]
    written.append(_write(directory / MANIFEST, json.dumps({**manifest, "remotes": remotes}, indent=2) + "\n"))
    return written


def _check_remotes(remotes: Iterable[str], others: Iterable[str]) -> list[str]:
    """Remote node names, checked: subject tokens, distinct, none a cluster node's or a witness's name."""
    names = [check_token(name, "remote node name") for name in remotes]
    clash = sorted((set(names) & set(others)) | {n for n in names if names.count(n) > 1})
    if clash:
        raise CredentialError(f"remote node {clash[0]!r} is already named in these credentials")
    return sorted(names)


#: What a machine joining the cluster copies from a member's credentials (``paceline cluster join``): the CA
#: with its key (it signs its own bus server certificate) and the two shared users.
SHARED_FILES = ("ca.pem", "ca.key", f"users/{ADMIN}.nk", f"users/{OBSERVER}.nk")


def shared_files(directory: Path) -> dict[str, str]:
    """The :data:`SHARED_FILES` of a credentials directory, by relative path."""
    try:
        return {name: (Path(directory) / name).read_text() for name in SHARED_FILES}
    except FileNotFoundError as exc:
        raise CredentialError(f"{exc.filename} is missing: a joining node needs it") from None


def seed_directory(directory: Path, cluster: str, files: Mapping[str, str]) -> list[Path]:
    """A new credentials directory from a member's :func:`shared_files` (no node yet: :func:`add_node`)."""
    check_token(cluster, "cluster name")
    directory = Path(directory)
    if (directory / MANIFEST).exists():
        raise CredentialError(f"{directory} already holds credentials")
    unknown = sorted(set(files) - set(SHARED_FILES))
    if unknown:
        raise CredentialError(f"not a credential file of a joining node: {unknown[0]}")
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    written = [_write(directory / name, text, secret=name != "ca.pem") for name, text in files.items()]
    written.append(_write(directory / MANIFEST, json.dumps({"cluster": cluster, "nodes": []}, indent=2) + "\n"))
    return written


def _write(path: Path, text: str, secret: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600 if secret else 0o644)
    return path


def _new_user_seed() -> str:
    import nkeys

    return nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER).decode()


def _make_ca(cluster: str) -> tuple[EllipticCurvePrivateKey, x509.Certificate]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Paceline {cluster} CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _make_server_cert(ca_key: EllipticCurvePrivateKey, ca_cert: x509.Certificate, node: str,
                      addresses: list[str]) -> tuple[EllipticCurvePrivateKey, x509.Certificate]:
    """A bus server's certificate: valid for its node name, localhost and its addresses, as server and as
    client (a server dials its routes with the same certificate)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(node), x509.DNSName("localhost"),
                                     x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    for address in addresses:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError:
            names.append(x509.DNSName(address))
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, node)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _key_pem(key: EllipticCurvePrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _cert_pem(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM).decode()


# ---------------------------------------------------------------- using them

@dataclass(frozen=True)
class ClientCredential:
    """What one client needs to connect: its user's seed and the cluster's CA."""

    user: str
    seed_file: Path
    ca_file: Path

    @property
    def inbox_prefix(self) -> str:
        return inbox_prefix(self.user)

    def seed(self) -> str:
        return self.seed_file.read_text().strip()

    def public_key(self) -> str:
        import nkeys

        return nkeys.from_seed(self.seed().encode()).public_key.decode()

    def sign(self, nonce: str) -> str:
        """The answer to a server's challenge: the nonce signed with the seed, base64 as NATS expects."""
        import base64

        import nkeys

        return base64.b64encode(nkeys.from_seed(self.seed().encode()).sign(nonce.encode())).decode()

    def ssl_context(self) -> ssl.SSLContext:
        """TLS that trusts only the cluster's CA (server names are checked)."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca_file))
        return context


@dataclass(frozen=True)
class Credentials:
    """A credentials directory."""

    directory: Path

    @property
    def cluster(self) -> str:
        return str(self._manifest()["cluster"])

    @property
    def nodes(self) -> list[str]:
        nodes = self._manifest()["nodes"]
        return [str(n) for n in nodes] if isinstance(nodes, list) else []

    @property
    def remotes(self) -> list[str]:
        """The remote nodes (``remote@<node>`` users) these credentials were made for."""
        remotes = self._manifest().get("remotes", [])
        return [str(n) for n in remotes] if isinstance(remotes, list) else []

    def _manifest(self) -> dict[str, object]:
        path = self.directory / MANIFEST
        try:
            return dict(json.loads(path.read_text()))
        except FileNotFoundError:
            raise CredentialError(f"no credentials in {self.directory} ({MANIFEST} is missing); make them with "
                                  "'paceline keygen'") from None

    def client(self, user: str) -> ClientCredential:
        """The credential of ``user`` (``admin``, ``observer``, ``membership@node1``...), checked to exist."""
        seed = self.directory / "users" / f"{user}.nk"
        ca = self.directory / "ca.pem"
        for path, what in ((seed, f"the nkey seed of user {user!r}"), (ca, "the cluster's CA certificate")):
            if not path.is_file():
                raise CredentialError(f"{what} is missing: looked for {path} (set PACELINE_CREDENTIALS to the "
                                      "directory 'paceline keygen' made)")
        return ClientCredential(user, seed, ca)

    def server_files(self, node: str) -> tuple[Path, Path, Path]:
        """(certificate, key, CA) of ``node``'s bus server."""
        cert, key = self.directory / "servers" / f"{node}.pem", self.directory / "servers" / f"{node}.key"
        for path in (cert, key):
            if not path.is_file():
                raise CredentialError(f"the bus server certificate of node {node!r} is missing: looked for {path}")
        return cert, key, self.directory / "ca.pem"

    def users(self) -> dict[str, str]:
        """User name -> public nkey, for every seed in the directory."""
        found = {}
        for path in sorted((self.directory / "users").glob("*.nk")):
            found[path.stem] = self.client(path.stem).public_key()
        return found


def role_of(user: str) -> tuple[str, str]:
    """``membership@node1`` -> (``membership``, ``node1``); ``admin`` -> (``admin``, "")."""
    role, _, node = user.partition("@")
    return role, node


def authorization_block(creds: Credentials, subjects: Subjects) -> str:
    """nats-server's ``authorization`` block: every user by public nkey, with its role's allow lists."""
    entries = []
    for user, public in creds.users().items():
        role, node = role_of(user)
        entries.append(_user_entry(public, permissions(subjects, role, node), inbox_prefix(user)))
    return "authorization {\n  users: [\n" + ",\n".join(entries) + "\n  ]\n}\n"


def _user_entry(public: str, perm: Permissions, inbox: str) -> str:
    def quoted(items: Iterable[str]) -> str:
        return "[" + ", ".join(json.dumps(x) for x in items) + "]"

    responses = "\n      allow_responses: true" if perm.responds else ""
    return (f"    {{ nkey: {json.dumps(public)}\n"
            f"      permissions: {{\n"
            f"        publish: {{ allow: {quoted(perm.publish)} }}\n"
            f"        subscribe: {{ allow: {quoted(perm.subscribe)} }}{responses}\n"
            f"      }} }}")


def server_auth(creds: Credentials, node: str, subjects: Subjects) -> ServerAuth:
    """What ``node``'s bus server needs to require credentials: its certificate and every user's permissions."""
    from paceline.shared.natsserver import ServerAuth

    cert, key, ca = creds.server_files(node)
    return ServerAuth(cert, key, ca, authorization_block(creds, subjects))


def locate(setting: str | None) -> Credentials | None:
    """The credentials a process uses: ``setting`` (PACELINE_CREDENTIALS), else none (an open bus)."""
    if not setting:
        return None
    return Credentials(Path(setting))
