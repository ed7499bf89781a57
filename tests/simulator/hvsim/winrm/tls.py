"""HTTPS for an endpoint: certificate files, the server SSL context, NTLM channel bindings."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from spnego.channel_bindings import GssChannelBindings


@dataclass(frozen=True)
class TLSConfig:
    certfile: Path
    keyfile: Path

    @classmethod
    def self_signed(cls, common_name: str, directory: Path | None = None) -> TLSConfig:
        """A fresh self-signed certificate for common_name (and 127.0.0.1/localhost) in directory
        (a new temporary directory by default)."""
        target = directory or Path(tempfile.mkdtemp(prefix="hvsim-tls-"))
        target.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.datetime.now(datetime.UTC)
        names: list[x509.GeneralName] = [x509.DNSName(common_name), x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .sign(key, hashes.SHA256())
        )
        certfile, keyfile = target / f"{common_name}.crt", target / f"{common_name}.key"
        certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        keyfile.chmod(0o600)
        return cls(certfile, keyfile)

    @classmethod
    def issued(cls, ca: LabCA, name: str, hostname: str, address: str, directory: Path) -> TLSConfig:
        """A certificate from the lab CA naming the host's hostname and address (kept across restarts)."""
        certfile, keyfile = directory / f"{name}.crt", directory / f"{name}.key"
        if not (certfile.exists() and keyfile.exists()):
            directory.mkdir(parents=True, exist_ok=True)
            key = ec.generate_private_key(ec.SECP256R1())
            names: list[x509.GeneralName] = [x509.DNSName(hostname), x509.IPAddress(ipaddress.ip_address(address))]
            cert = (
                _builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]), ca.name, key)
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(ca.key(), hashes.SHA256())
            )
            _write(certfile, keyfile, cert, key)
        return cls(certfile, keyfile)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certfile, self.keyfile)
        return context

    def channel_bindings(self) -> GssChannelBindings:
        """tls-server-end-point bindings (RFC 5929) a client derives from this certificate."""
        cert = x509.load_pem_x509_certificate(self.certfile.read_bytes())
        algorithm = cert.signature_hash_algorithm
        if algorithm is None or algorithm.name in ("md5", "sha1"):
            algorithm = hashes.SHA256()
        digest = hashes.Hash(algorithm)
        digest.update(cert.public_bytes(serialization.Encoding.DER))
        return GssChannelBindings(application_data=b"tls-server-end-point:" + digest.finalize())


@dataclass(frozen=True)
class LabCA:
    """The lab's certificate authority: operators trust its certificate (ansible_winrm_ca_trust_path)."""

    certfile: Path
    keyfile: Path

    @classmethod
    def at(cls, directory: Path, label: str = "hvsim lab CA") -> LabCA:
        certfile, keyfile = directory / "ca.crt", directory / "ca.key"
        if not (certfile.exists() and keyfile.exists()):
            directory.mkdir(parents=True, exist_ok=True)
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, label)])
            cert = (
                _builder(name, name, key)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256())
            )
            _write(certfile, keyfile, cert, key)
        return cls(certfile, keyfile)

    @property
    def name(self) -> x509.Name:
        return x509.load_pem_x509_certificate(self.certfile.read_bytes()).subject

    def key(self) -> ec.EllipticCurvePrivateKey:
        loaded = serialization.load_pem_private_key(self.keyfile.read_bytes(), password=None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        return loaded


def _builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
    )


def _write(certfile: Path, keyfile: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    keyfile.chmod(0o600)
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
