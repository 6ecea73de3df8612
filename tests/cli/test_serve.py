"""``zhongtai serve`` (cli/serve.py): its TLS options are checked before the server starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.cli.ran import Ran


def test_serve_help_names_its_options(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("serve", "--help")
    assert ran.exit_code == 0, ran.output
    for option in ("--host", "--port", "--workers", "--tls-cert", "--tls-key"):
        assert option in ran.text
    assert "127.0.0.1" in ran.text  # the default interface: never every interface


def test_a_certificate_without_its_key_is_refused(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("serve", "--tls-cert", "server.pem")
    assert ran.exit_code == 2
    assert "give both --tls-cert and --tls-key, or neither" in ran.text


def test_a_missing_key_file_is_named(zhongtai: Callable[..., Ran], tmp_path: Path) -> None:
    certificate = tmp_path / "server.pem"
    certificate.write_text("-----BEGIN CERTIFICATE-----\n")
    ran = zhongtai("serve", "--tls-cert", str(certificate), "--tls-key", "absent.pem")
    assert ran.exit_code == 2
    assert "--tls-key: no such file absent.pem" in ran.text
