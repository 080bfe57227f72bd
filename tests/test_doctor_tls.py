"""`catoiac doctor` over real TLS: the emulator behind a self-signed certificate made with openssl."""

from __future__ import annotations

import shutil
import ssl
import subprocess

import pytest
from emu_helpers import ACCOUNT, KEY, base_fixture

from catoiac._httpx import _tls_context
from catoiac.client import CatoClient
from catoiac.config import ClientConfig
from catoiac.doctor import Doctor, DoctorOptions
from catoiac.emulator.server import EmulatorServer


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory):
    """The emulator on https, with a self-signed certificate for the name "localhost" only."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is needed to make the test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    with EmulatorServer(seed=base_fixture(), ssl_certfile=str(cert), ssl_keyfile=str(key)) as emu:
        yield emu, cert


def endpoint_check(url: str):
    report = Doctor(DoctorOptions(api_key=KEY, account_id=ACCOUNT, endpoint=url, env={}, timeout=5.0)).run()
    return report, next(c for c in report.checks if c.id == "endpoint")


def test_a_self_signed_certificate_is_named_with_the_fix(tls_emulator, monkeypatch):
    emu, _ = tls_emulator
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    report, c = endpoint_check(f"https://localhost:{emu.port}/api/v1/graphql2")
    assert c.status == "error"
    assert c.summary.startswith("TLS certificate rejected: self-signed certificate (verify code 18)")
    assert "SSL_CERT_FILE" in c.fix and "Do not turn verification off" in c.fix
    assert report.exit_code == 1
    assert emu.emulator.calls == {}  # nothing got through


def test_a_certificate_for_another_name_is_named(tls_emulator, monkeypatch):
    emu, cert = tls_emulator
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    _, c = endpoint_check(f"https://127.0.0.1:{emu.port}/api/v1/graphql2")
    assert c.status == "error"
    assert c.summary.startswith("TLS certificate rejected: IP address mismatch")
    assert c.fix == "The certificate is not for 127.0.0.1: check the endpoint's host name."


def test_trusting_the_ca_as_the_fix_says_makes_every_check_pass_over_tls(tls_emulator, monkeypatch):
    emu, cert = tls_emulator
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    report, c = endpoint_check(f"https://localhost:{emu.port}/api/v1/graphql2")
    assert c.status == "pass" and "TLS verified" in c.summary
    assert {x.status for x in report.checks} == {"pass"}


def test_clients_load_the_ca_bundle_once_per_ca_setting_and_still_verify_with_it(tls_emulator, monkeypatch):
    """httpx loads the whole CA bundle for each client it makes (~30 ms of CPU): a process loads it
    once per CA setting, and a changed SSL_CERT_FILE still takes effect."""
    emu, cert = tls_emulator
    loads: list[str] = []
    real = ssl.SSLContext.load_verify_locations

    def counted(self, cafile=None, capath=None, cadata=None):
        loads.append(str(cafile or capath))
        return real(self, cafile, capath, cadata)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    _tls_context.cache_clear()
    url = f"https://localhost:{emu.port}/api/v1/graphql2"
    for _ in range(3):
        CatoClient(ClientConfig(api_key=KEY, account_id=ACCOUNT, base_url=url)).close()
    assert len(loads) == 1, loads

    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    for _ in range(2):
        _, c = endpoint_check(url)
        assert c.status == "pass" and "TLS verified" in c.summary
    assert loads[1:] == [str(cert)]  # the new setting's one load, shared by every later client
