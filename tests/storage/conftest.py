"""A real S3-protocol server on 127.0.0.1 (moto's standalone server, a separate process) for the suite."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    exe = shutil.which("moto_server") or shutil.which("moto_server", path=str(__import__("pathlib").Path(
        sys.executable).parent))
    if exe is None:
        pytest.fail("moto_server is not installed (pip install 'moto[server]', in the test extra)")
    port = _free_port()
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("moto_server did not start")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def s3_env(s3_endpoint, monkeypatch, request):
    """Settings for FORMFLOW_STORAGE=s3 against a fresh bucket of this test."""
    import boto3

    bucket = "formflow-" + request.node.name.lower().replace("_", "-")[:40].strip("-")
    env = {"FORMFLOW_S3_ENDPOINT": s3_endpoint, "FORMFLOW_S3_BUCKET": bucket, "FORMFLOW_S3_REGION": "us-east-1",
           "FORMFLOW_S3_ACCESS_KEY": "test-key", "FORMFLOW_S3_SECRET_KEY": "test-secret"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test-key",
                 aws_secret_access_key="test-secret").create_bucket(Bucket=bucket)
    return env
