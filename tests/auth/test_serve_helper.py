"""The serve helper process (formflow.sidecar): password checks and PDFs done beside the workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from formflow import sidecar
from formflow.auth import passwords
from formflow.documents import fonts, pdf
from formflow.text.errors import Refusal

CONTEXT = {"office_name": "梅江区西郊街道", "matter_title": "公租房申请", "application_no": "MJ-2026-000123",
           "applicant_name": "张三", "submitted_on": "2026-03-01", "time_limit": "20", "deadline": "2026-03-20"}


class NotHere:
    """Stands in for the worker's own hasher: any use of it means the helper was bypassed."""

    def hash(self, password):
        raise AssertionError("hashed in the worker")

    def verify(self, stored, password):
        raise AssertionError("checked in the worker")


def _started(monkeypatch):
    """A helper for this test; its socket variable is removed again afterwards (start sets it)."""
    monkeypatch.setenv(sidecar.SOCKET_ENV, "")  # recorded as absent before, so undone to absent
    proc = sidecar.start(1)
    assert proc is not None and os.environ[sidecar.SOCKET_ENV]
    return proc


@pytest.fixture()
def helper(monkeypatch):
    proc = _started(monkeypatch)
    yield proc
    proc.kill()
    proc.wait()


def _notice(**extra):
    return pdf.render_pdf([pdf.DOCUMENTS_DIR], "acceptance.html", {**CONTEXT, **extra}, title="受理通知书",
                          number="梅江公租受字〔2026〕1号", issued_on="2026-03-02")


def test_passwords_are_hashed_and_checked_in_the_helper_not_in_the_worker(helper, monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", NotHere())
    stored = passwords.hash_password("Correct-horse-2026")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "Correct-horse-2026") is True
    assert passwords.verify_password(stored, "Wrong-horse-2026") is False
    assert passwords.verify_password(None, "anything") is False  # unknown account: one dummy check
    assert passwords.verify_password("not-a-hash", "anything") is False


def test_a_notice_rendered_by_the_helper_is_the_worker_s_own_byte_for_byte(helper, monkeypatch):
    by_helper = _notice()
    monkeypatch.delenv(sidecar.SOCKET_ENV)
    assert by_helper == _notice()
    assert "张三" in pdf.pdf_text(by_helper)


def test_a_refusal_in_the_helper_is_the_same_refusal_in_the_worker(monkeypatch):
    monkeypatch.setenv(fonts.FALLBACK_ENV, "")  # the helper inherits it: no fallback fonts there either
    proc = _started(monkeypatch)
    try:
        with pytest.raises(Refusal) as raised:
            _notice(applicant_name="张\U0002A6A5")  # a CJK Ext. B character the main font lacks
    finally:
        proc.kill()
        proc.wait()
    assert raised.value.code == "document.glyph_missing" and "U+2A6A5" in raised.value.message


def test_a_dead_helper_does_not_stop_sign_ins_or_notices(helper, caplog):
    stored = passwords.hash_password("Correct-horse-2026")
    helper.kill()
    helper.wait()
    with caplog.at_level("WARNING", logger="formflow.sidecar"):
        assert passwords.verify_password(stored, "Correct-horse-2026") is True
        assert "张三" in pdf.pdf_text(_notice())
    assert "doing verify in this process" in caplog.text and "doing render_pdf in this process" in caplog.text


def test_the_socket_is_the_serving_user_s_only(helper):
    assert oct(Path(os.environ[sidecar.SOCKET_ENV]).parent.stat().st_mode & 0o777) == "0o700"


def test_the_worker_never_loads_the_pdf_stack_when_the_helper_renders(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        from formflow import sidecar
        from formflow.documents import pdf
        assert sidecar.start(1) is not None
        data = pdf.render_pdf([pdf.DOCUMENTS_DIR], "acceptance.html", {CONTEXT!r}, title="T", issued_on="2026-03-02")
        print(data[:5].decode(), "fpdf" in sys.modules, "fontTools" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.split() == ["%PDF-", "False", "False"], out.stderr[-2000:]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_the_helper_ends_when_the_process_that_started_it_is_killed():
    script = "import time\nfrom formflow import sidecar\nprint(sidecar.start(1).pid, flush=True)\ntime.sleep(60)\n"
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    helper_pid = int(parent.stdout.readline())
    assert _alive(helper_pid)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(helper_pid):
        time.sleep(0.2)
    assert not _alive(helper_pid)


def test_tests_after_a_helper_test_see_no_helper():
    assert sidecar.socket_path() is None  # the fixture's variable did not leak (runs after the tests above)


def test_a_forked_worker_exiting_leaves_the_helper_to_the_others():
    script = textwrap.dedent("""
        import os, sys
        from formflow import sidecar
        from formflow.auth import passwords
        assert sidecar.start(1) is not None
        pid = os.fork()
        if pid == 0:
            sys.exit(0)  # a gunicorn worker ends with sys.exit: the inherited atexit handlers run
        os.waitpid(pid, 0)
        stored = passwords.hash_password("Correct-horse-2026")
        print(os.path.exists(sidecar.socket_path()), passwords.verify_password(stored, "Correct-horse-2026"))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.split() == ["True", "True"], out.stderr[-2000:]
    assert "unavailable" not in out.stderr
