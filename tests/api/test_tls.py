"""``zhongtai serve`` speaks HTTPS when given a certificate and its key."""

from __future__ import annotations

import os
import ssl
import sys
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, serving
from zhongtai.settings import Settings


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, signed by its own key: (certificate, key) PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def test_the_api_answers_over_https_and_refuses_plain_http(
    served_world: Settings, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    port = free_port()
    zhongtai = str(Path(sys.executable).with_name("zhongtai"))
    command = [zhongtai, "serve", "--port", str(port), "--tls-cert", str(cert)]
    env = {**os.environ, "ZHONGTAI_DATA_DIR": str(served_world.data_dir.resolve())}
    env["ZHONGTAI_ENV"] = served_world.env
    with serving([*command, "--tls-key", str(key)], env, port, "/healthz", tls_ca=cert) as base:
        assert base.startswith("https://")
        trusted = ssl.create_default_context(cafile=str(cert))
        ready = httpx.get(f"{base}/readyz", verify=trusted, timeout=30)
        assert ready.status_code == 200, ready.text
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{base}/healthz", timeout=5)  # an unknown authority: not trusted
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)  # plain HTTP
