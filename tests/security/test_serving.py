"""Issue 12 — slow clients: the embedded server's timeouts, and the nginx example config that is checked by nginx.

`nginx -t` runs only where Debian's nginx is installed (the CI's apt line); elsewhere the test skips saying so.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

import pytest

from formflow.cli.serve import gunicorn_options

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def test_gunicorn_closes_idle_connections_and_bounds_headers():
    options = gunicorn_options("127.0.0.1", 8000, 2)
    assert 0 < options["keepalive"] <= 10
    assert 0 < options["timeout"] <= 60 and options["graceful_timeout"] <= options["timeout"]
    assert options["limit_request_fields"] <= 100 and options["limit_request_line"] <= 8190
    assert options["worker_class"] == "gthread" and options["bind"] == "127.0.0.1:8000"


def test_gunicorn_accepts_the_options():
    """Every option is a real gunicorn setting with a valid value (a typo would be ignored by a dict)."""
    from gunicorn.config import Config

    cfg = Config()
    for key, value in gunicorn_options("127.0.0.1", 8000, 2).items():
        cfg.set(key, value)
    assert cfg.keepalive == gunicorn_options("127.0.0.1", 8000, 2)["keepalive"]


def _certificate(folder: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "formflow.example.gov.cn")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    (folder / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))


def _nginx_t(tmp_path: Path, site: str) -> subprocess.CompletedProcess:
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx-light); the example config is unchecked")
    certs = tmp_path / "certs"
    certs.mkdir()
    _certificate(certs)
    (tmp_path / "logs").mkdir()
    (tmp_path / "site.conf").write_text(site.replace("/etc/ssl/formflow", str(certs)))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n client_body_temp_path {tmp_path}/body;\n proxy_temp_path {tmp_path}/proxy;\n"
        f" include {tmp_path}/site.conf;\n}}\n")
    return subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                          capture_output=True, text=True, timeout=30)


def test_the_nginx_example_config_passes_nginx_t(tmp_path):
    result = _nginx_t(tmp_path, (ROOT / "docs" / "nginx.conf").read_text())
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_a_broken_nginx_config_fails_nginx_t(tmp_path):
    """Positive control: the check above would notice a mistake."""
    broken = (ROOT / "docs" / "nginx.conf").read_text().replace("client_header_timeout 10s;", "client_header_timeout;")
    assert _nginx_t(tmp_path, broken).returncode != 0
