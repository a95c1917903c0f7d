"""`formflow serve` limits glibc's malloc arenas before its workers start; a PDF render hands freed heap back.

Each check runs in a fresh interpreter (an arena limit is set once per process and stays).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = ("from formflow.cli.serve import limit_malloc_arenas; import os; "
         "print(limit_malloc_arenas(), os.environ.get('MALLOC_ARENA_MAX'))")


def _run(code: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    environment.update(env, PYTHONPATH=str(ROOT / "platform"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_serve_limits_the_arenas_and_says_so_in_the_environment():
    assert _run(LIMIT) == "2 2"


def test_an_arena_limit_in_the_environment_wins():
    assert _run(LIMIT, MALLOC_ARENA_MAX="4") == "None 4"


def test_a_render_still_gives_its_pdf_after_returning_freed_memory():
    code = ("from formflow.documents import pdf; "
            "data = pdf.render_pdf([pdf.DOCUMENTS_DIR], 'acceptance.html', {'office_name': 'O', 'matter_title': 'M', "
            "'application_no': 'A1', 'applicant_name': '张三', 'submitted_on': '2026-03-01', 'time_limit': '20', "
            "'deadline': '2026-03-20'}, title='T', issued_on='2026-03-02'); "
            "print(data[:5].decode(), '张三' in pdf.pdf_text(data), pdf._malloc_trim() is not None)")
    assert _run(code) == "%PDF- True True"
