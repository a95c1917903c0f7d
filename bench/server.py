"""The figures that need a real server: `formflow serve` as a subprocess, spoken to over HTTP.

`measure_server()` starts `formflow serve --workers 1` on a fresh SQLite file (demo data
loaded), then, in one run against that one server:

- `GET /healthz` rate (keep-alive, one client) — the floor;
- sign-in (`POST /api/v1/tokens`) time, reported on its own (Argon2id by design);
- the API journey of the demo citizen with the token already held: consent, draft, the
  four data steps (PATCH), the required uploads, submit — journeys/s ÷ healthz/s;
- reviewer queue pages;
- one PDF notice inside the server: the community reviewer marks and accepts the last
  journey's application through the API, and the server's embedded outbox worker renders
  the acceptance notice (waited for until `GET /notices/<id>` serves it);
- 10 concurrent sign-ins;
- the peak RSS (VmHWM from /proc) of the serving worker process(es) after each of those
  three phases (`rss_pages_mib`, `rss_pdf_mib`, `rss_peak_mib` = after the sign-ins, the
  peak of the whole run: VmHWM only grows).
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
API = "/api/v1"
PACK, MATTER, LOCALITY = "meizhou-meijiang", "public-rental-housing", "441402001001"
CITIZEN, PASSWORD = "mj-citizen-chen", "Demo-Meijiang-2026"
REVIEWERS = ("mj-community", "mj-street")
ACCEPT_STAGE = "community_acceptance"
STEPS: dict[str, Any] = {
    "category": {"applicant_category": "low-income", "support_mode": "physical_allocation"},
    "housing": {"resides_in_urban_area": True, "owns_property": False, "owned_housing_area_total": 0,
                "property_deals_within_5_years": False, "other_housing_benefits": False},
    "assets": {"deposits": 1000, "securities": 0},
}
APPLICANT = {"mobile": "13807530001", "marital_status": "married", "hukou_region": "meijiang", "monthly_income": 1200}
SPOUSE = {"name": "李秀梅", "id_number": "441402199007220427", "relation": "spouse", "monthly_income": 800}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _tree(pid: int) -> list[int]:
    """The process and its descendants (gunicorn's arbiter and workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for child in Path(f"/proc/{p}/task/{p}/children").read_text().split():
                todo.append(int(child))
        except OSError:
            pass
    return out


def _hwm_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _is_hasher(pid: int) -> bool:
    try:
        return b"formflow.sidecar" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class Server:
    def __init__(self, workdir: Path | None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="formflow-bench-server-", dir=workdir))
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "FORMFLOW_DATABASE_URL": f"sqlite:///{self.dir / 'serve.sqlite3'}",
               "FORMFLOW_INSTANCE": str(self.dir / "instance"), "FORMFLOW_SECRET_KEY": "bench-" + "x" * 32,
               "FORMFLOW_DEMO": "1", "FORMFLOW_CONFIG_ROOT": str(ROOT), "PYTHONPATH": str(ROOT / "platform")}
        self.log = (self.dir / "serve.log").open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "formflow.cli", "serve", "--workers", "1", "--port",
                                      str(self.port)], env=env, cwd=self.dir, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def wait(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"formflow serve exited: {(self.dir / 'serve.log').read_text()[-2000:]}")
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("formflow serve did not answer /healthz in time")

    def _children(self) -> list[int]:
        return [p for p in _tree(self.proc.pid) if p != self.proc.pid]

    def workers(self) -> list[int]:
        """The serving workers (the serve helper process, formflow.sidecar, is not one of them)."""
        return [p for p in self._children() if not _is_hasher(p)] or [self.proc.pid]

    def peak_mib(self) -> float:
        return max((_hwm_mib(p) for p in self.workers()), default=0.0)

    def hasher_peak_mib(self) -> float | None:
        """VmHWM of the serve helper process (Argon2id, PDFs), None when the server runs none."""
        helpers = [p for p in self._children() if _is_hasher(p)]
        return max(_hwm_mib(p) for p in helpers) if helpers else None

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


def _sign_in(base: str, username: str, password: str = PASSWORD) -> tuple[requests.Session, float]:
    s = requests.Session()
    started = time.perf_counter()
    r = s.post(base + API + "/tokens", json={"username": username, "password": password}, timeout=60)
    seconds = time.perf_counter() - started
    r.raise_for_status()
    s.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return s, seconds


def _ok(r: requests.Response, *codes: int) -> dict[str, Any]:
    if r.status_code not in (codes or (200, 201)):
        raise RuntimeError(f"{r.request.method} {r.url}: {r.status_code} {r.text[:400]}")
    return r.json()


def journey(base: str, s: requests.Session) -> int:
    """The citizen's draft → steps → uploads → submit, over HTTP; returns the application id."""
    api = base + API
    matter = _ok(s.get(f"{api}/matters/{PACK}/{MATTER}"))
    consent = _ok(s.get(f"{api}/matters/{PACK}/{MATTER}/consent"))
    if not consent.get("accepted"):
        _ok(s.post(f"{api}/matters/{PACK}/{MATTER}/consent",
                   json={"accepted": True, "agreement_version": matter["privacy"]["version"]}))
    draft = _ok(s.post(f"{api}/drafts", json={"pack": PACK, "matter": MATTER, "office_id": LOCALITY}))
    app_id, version = draft["id"], draft["version"]
    r = _ok(s.patch(f"{api}/applications/{app_id}/steps/category", json={"version": version,
                                                                          "data": STEPS["category"]}))
    version, members = r["version"], r["data"]["members"]
    members["applicant"].update(APPLICANT)
    members["co_applicants"] = [SPOUSE]
    for step, data in (("members", members), ("housing", STEPS["housing"]), ("assets", STEPS["assets"])):
        version = _ok(s.patch(f"{api}/applications/{app_id}/steps/{step}",
                              json={"version": version, "data": data}))["version"]
    png = _png()
    for item in _ok(s.get(f"{api}/applications/{app_id}/checklist"))["items"]:
        if item["required"] and not item["provided"]:
            version = _ok(s.post(f"{api}/applications/{app_id}/files",
                                 data={"field": item["field"], "version": str(version)},
                                 files={"file": (f"{item['kind']}.png", png, "image/png")}))["version"]
    _ok(s.post(f"{api}/applications/{app_id}/submit", json={"version": version},
               headers={"Idempotency-Key": f"bench-submit-{app_id}"}))
    return int(app_id)


def _withdraw_all(base: str, s: requests.Session, app_id: int) -> None:
    """Withdraw the journey's application so the household may apply again."""
    r = s.post(f"{base}{API}/applications/{app_id}/withdraw", json={"reason": "bench"})
    if r.status_code >= 400:
        raise RuntimeError(f"withdraw: {r.status_code} {r.text[:300]}")


def _marking(view: dict[str, Any]) -> dict[str, Any]:
    """Every criterion `pass`, rows the schema marks not applicable `na` (a clean marking)."""
    rows = ((view.get("schema") or {}).get("properties") or {}).get("rows", {}).get("properties", {})
    return {"rows": {str(row["no"]): {"criteria": [
        "na" if rows.get(str(row["no"]), {}).get("x-not-applicable") else "pass"] * len(row["criteria"])}
        for row in view["table"]["rows"]}}


def accept_with_notice(base: str, reviewer: requests.Session, app_id: int, *, stage: str = ACCEPT_STAGE,
                       seconds: float = 120) -> float:
    """Mark and accept `app_id` at `stage`, then wait until the server has rendered the notice; seconds taken."""
    api = f"{base}{API}/review/applications/{app_id}"
    started = time.perf_counter()
    view = _ok(reviewer.get(f"{api}/stages/{stage}/marking"))
    _ok(reviewer.put(f"{api}/stages/{stage}/marking", json={"marking": _marking(view)}))
    version = _ok(reviewer.get(f"{api}/actions"))["version"]
    done = _ok(reviewer.post(f"{api}/actions", json={"stage": stage, "action": "accept", "version": version},
                             headers={"Idempotency-Key": f"bench-accept-{app_id}"}))
    if not done["notices"]:
        raise RuntimeError(f"accepting application {app_id} issued no notice")
    deadline = time.monotonic() + seconds
    for notice in done["notices"]:
        while True:
            r = reviewer.get(base + notice["url"].removeprefix(base))
            if r.status_code == 200 and r.content.startswith(b"%PDF"):
                break
            if r.status_code != 409 or time.monotonic() > deadline:
                raise RuntimeError(f"notice {notice['id']}: {r.status_code} {r.text[:300]}")
            time.sleep(0.1)
    return time.perf_counter() - started


def _concurrent_sign_ins(base: str, n: int, log: Any) -> float:
    """`n` sign-ins started at once (the demo accounts in turn); seconds until the last answered."""
    errors: list[BaseException] = []

    def one(name: str) -> None:
        try:
            _sign_in(base, name)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    names = [(CITIZEN, "mj-citizen-huang", *REVIEWERS)[k % 4] for k in range(n)]
    threads = [threading.Thread(target=one, args=(name,)) for name in names]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        log(f"    concurrent sign-ins: {len(errors)} failed ({errors[0]!r})")
    return time.perf_counter() - started


def measure_server(workdir: Path | None, *, journeys: int, healthz: int, log: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"healthz_per_s": None, "sign_in_s": None, "api_journey_per_s": None,
                           "api_journey_per_healthz": None, "concurrent_sign_ins_s": None, "server_pdf_s": None,
                           "rss_pages_mib": None, "rss_pdf_mib": None, "rss_peak_mib": None,
                           "rss_helper_mib": None}
    server = Server(workdir)
    try:
        server.wait()
        with requests.Session() as h:
            h.get(server.base + "/healthz").raise_for_status()
            started = time.perf_counter()
            for _ in range(healthz):
                h.get(server.base + "/healthz").raise_for_status()
            out["healthz_per_s"] = healthz / (time.perf_counter() - started)
        citizen, out["sign_in_s"] = _sign_in(server.base, CITIZEN)
        times = []
        app_id = 0
        for k in range(journeys):
            started = time.perf_counter()
            app_id = journey(server.base, citizen)
            times.append(time.perf_counter() - started)
            if k + 1 < journeys:
                _withdraw_all(server.base, citizen, app_id)
        out["api_journey_per_s"] = len(times) / sum(times)
        out["api_journey_per_healthz"] = out["api_journey_per_s"] / out["healthz_per_s"]
        reviewer, _s = _sign_in(server.base, "mj-community")
        for _ in range(5):
            reviewer.get(server.base + API + "/review/queue").raise_for_status()
        out["rss_pages_mib"] = server.peak_mib()
        out["server_pdf_s"] = accept_with_notice(server.base, reviewer, app_id)
        out["rss_pdf_mib"] = server.peak_mib()
        out["concurrent_sign_ins_s"] = _concurrent_sign_ins(server.base, 10, log)
        out["rss_peak_mib"] = server.peak_mib()
        out["rss_helper_mib"] = server.hasher_peak_mib()
    except (RuntimeError, requests.RequestException) as exc:
        log(f"    server figures incomplete: {exc}")
        try:
            out["rss_peak_mib"] = server.peak_mib()
        except Exception:  # noqa: BLE001
            pass
    finally:
        server.stop()
    return out


__all__ = ["measure_server"]
