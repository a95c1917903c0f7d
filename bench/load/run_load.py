"""formflow load scenario, end to end and bounded in time (see bench/load/README.md).

1. a fresh PostgreSQL database (127.0.0.1 only), migrated and loaded with the demo accounts;
2. a temporary configuration root whose Meizhou e-licence records include a pool of synthetic
   citizens, and their accounts (one password hash, computed once);
3. gunicorn with several workers on a free 127.0.0.1 port;
4. locust headless: CitizenUser and ReviewerUser, 200:50;
5. gunicorn stopped, the database checked: every recorded submit is there once, nothing else
   was submitted, one `submit` event per application, no household in two active applications;
6. throughput, p50/p99 and errors per endpoint, expected business outcomes, the verdict;
7. the database and the temporary folder removed.

    .venv/bin/python bench/load/run_load.py               # 10 minutes
    .venv/bin/python bench/load/run_load.py --minutes 1   # smoke

Exit 0 when there were no errors and the integrity checks passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
ADMIN_URL = os.environ.get("FORMFLOW_LOAD_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PACK, MATTER = "meizhou-meijiang", "public-rental-housing"
PASSWORD = "Load-Citizen-2026"
#: fixed test keys (not secrets: a throwaway database of synthetic people)
DATA_KEYS = "1:" + base64.b64encode(b"formflow-load-scenario-key-32byt").decode()
SECRET_KEY = "formflow-load-scenario-secret"
SURNAMES = "陈李黄张刘林叶钟吴郑古杨何周罗梁谢曾朱邓"
GIVEN = "志强秀梅晓琳国华美玲建伟海燕文静振远小红淑贞明丽春"

#: reviewers: (username, stage they walk, accept?) — the 50 reviewer users share these accounts
CLERK = ("mj-community", "community_acceptance", True)
OTHERS = [("mj-street", "street_review", False), ("mj-civil-affairs", None, False), ("mj-housing", None, False),
          ("mj-centre", None, False), ("mj-section", None, False), ("mj-leader", None, False)]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def local_only(url: str) -> None:
    from sqlalchemy.engine import make_url

    host = make_url(url).host or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing a database that is not on 127.0.0.1: {host}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def person(index: int) -> dict:
    """A synthetic citizen: unique name-like Chinese name and ID numbers (valid GB 11643 check digits)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from drafts import person_numbers

    applicant, spouse = person_numbers(index)
    name = SURNAMES[index % 20] + GIVEN[(index // 20) % 24] + GIVEN[(index // 480) % 24]
    spouse_name = SURNAMES[(index + 7) % 20] + GIVEN[(index // 20 + 5) % 24]
    return {"username": f"load-citizen-{index:05d}", "password": PASSWORD, "name": name, "id_number": applicant,
            "spouse_name": spouse_name, "spouse_id": spouse}


def born(id_number: str) -> str:
    return f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"


def config_root(work: Path, citizens: list[dict]) -> Path:
    """A copy of the configuration root whose Meizhou e-licences include the synthetic citizens."""
    import yaml

    root = work / "config"
    root.mkdir()
    for name in ("schemas", "workflows", "renderers", "seeds"):
        shutil.copytree(ROOT / name, root / name)
    path = root / "seeds" / PACK / "elicences.yaml"
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    for c in citizens:
        address = "广东省梅州市梅江区金山街道演示社区一演示路1号"
        hukou = {"household_head": c["name"], "address": address, "members": [
            {"name": c["name"], "relation": "户主", "id_number": c["id_number"]},
            {"name": c["spouse_name"], "relation": "配偶", "id_number": c["spouse_id"]}]}
        content["records"].append({"id_number": c["id_number"], "idcard": {
            "name": c["name"], "gender": "男", "ethnicity": "汉", "birth_date": born(c["id_number"]),
            "address": address, "valid_until": "长期"}, "hukou": hukou})
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def run(cmd: list[str], env: dict, timeout: float) -> None:
    r = subprocess.run(cmd, env=env, cwd=ROOT, timeout=timeout, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")


def add_citizens(url: str, citizens: list[dict]) -> None:
    """The synthetic citizens' accounts, unverified (they verify through POST /me/identity)."""
    from argon2 import PasswordHasher
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from formflow.db.models import Account, RoleAssignment

    digest = PasswordHasher().hash(PASSWORD)
    engine = create_engine(url)
    with Session(engine) as s, s.begin():
        for c in citizens:
            s.add(Account(username=c["username"], display_name=c["name"], password_hash=digest, is_demo=True,
                          roles=[RoleAssignment(role="citizen", office_id=None, pack=PACK)]))
    engine.dispose()


def reviewers(n: int) -> list[dict]:
    import yaml

    demo = yaml.safe_load((ROOT / "seeds" / PACK / "demo.yaml").read_text(encoding="utf-8"))
    passwords = {a["username"]: a["password"] for a in demo["accounts"]}
    out = []
    for i in range(n):  # half of them community clerks accepting, half the other roles walking their queues
        username, stage, accepts = CLERK if i % 2 == 0 else OTHERS[(i // 2) % len(OTHERS)]
        out.append({"username": username, "password": passwords[username], "stage": stage, "accepts": accepts})
    return out


def wait_healthy(port: int, proc: subprocess.Popen, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"gunicorn not healthy after {seconds:.0f} s")


def stop(proc: subprocess.Popen | None, seconds: float = 30) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def integrity(url: str, out: Path) -> tuple[bool, list[str]]:
    from sqlalchemy import create_engine, text

    attempts: dict[int, str] = {}
    confirmed: dict[int, str] = {}
    keys_seen: dict[str, int] = {}
    for path in sorted(out.glob("submits-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            (confirmed if row["kind"] == "submitted" else attempts)[row["app_id"]] = row["key"]
            keys_seen[row["key"]] = row["app_id"]
    engine = create_engine(url)
    lines, ok = [], True
    with engine.connect() as db:
        submitted = {r[0] for r in db.execute(text(
            "SELECT a.id FROM applications a JOIN accounts u ON u.id = a.applicant_id "
            "WHERE u.username LIKE 'load-citizen-%' AND a.status <> 'draft'"))}
        drafts = db.scalar(text(
            "SELECT count(*) FROM applications a JOIN accounts u ON u.id = a.applicant_id "
            "WHERE u.username LIKE 'load-citizen-%' AND a.status = 'draft'"))
        multi_submit = db.execute(text(
            "SELECT application_id, count(*) FROM events WHERE action = 'submit' "
            "GROUP BY application_id HAVING count(*) > 1")).all()
        no_event = db.scalar(text(
            "SELECT count(*) FROM applications a WHERE a.status <> 'draft' AND NOT EXISTS "
            "(SELECT 1 FROM events e WHERE e.application_id = a.id AND e.action = 'submit')"))
        per_account = db.execute(text(
            "SELECT applicant_id, count(*) FROM applications WHERE status <> 'draft' "
            "GROUP BY applicant_id HAVING count(*) > 1")).all()
        households = db.execute(text(
            "SELECT h.matter, h.id_hash, count(DISTINCT h.application_id) FROM household_members h "
            "JOIN applications a ON a.id = h.application_id WHERE h.active AND a.status = 'active' "
            "GROUP BY h.matter, h.id_hash HAVING count(DISTINCT h.application_id) > 1")).all()
        numbers = db.execute(text(
            "SELECT number, count(*) FROM applications WHERE number IS NOT NULL GROUP BY number HAVING count(*) > 1"
        )).all()
        stages = dict(db.execute(text(
            "SELECT coalesce(stage, status), count(*) FROM applications a JOIN accounts u ON u.id = a.applicant_id "
            "WHERE u.username LIKE 'load-citizen-%' AND a.status <> 'draft' GROUP BY 1")).all())
        accepts = db.scalar(text("SELECT count(*) FROM events WHERE action = 'accept'"))
        multi_accept = db.execute(text(
            "SELECT application_id, count(*) FROM events WHERE action = 'accept' "
            "GROUP BY application_id HAVING count(*) > 1")).all()
    engine.dispose()
    lost = sorted(set(confirmed) - submitted)
    unrecorded = sorted(submitted - set(confirmed))
    unconfirmed_but_in = sorted(set(attempts) - set(confirmed) & submitted)
    unexplained = sorted(set(unrecorded) - set(attempts))
    lines.append(f"submits confirmed by citizens (200, recorded): {len(confirmed)}  "
                 f"(distinct Idempotency-Keys: {len(keys_seen)}, attempts: {len(attempts)})")
    lines.append(f"submitted applications in the database:        {len(submitted)}  (drafts left: {drafts}; "
                 f"by stage: {stages})")
    lines.append(f"accept events: {accepts}; applications accepted more than once: {len(multi_accept)}")
    checks = [
        ("lost (confirmed, not submitted in the database)", lost),
        ("submitted in the database but never attempted by the scenario", unexplained),
        ("applications with more than one submit event", multi_submit),
        ("submitted applications without a submit event", [no_event] if no_event else []),
        ("accounts with more than one submitted application", per_account),
        ("households in more than one active application", households),
        ("duplicated application numbers", numbers),
        ("applications accepted more than once", multi_accept),
    ]
    for label, found in checks:
        example = f"  e.g. {found[:5]}" if found else ""
        lines.append(f"  {'OK ' if not found else 'BAD'} {label}: {len(found)}{example}")
        ok = ok and not found
    if unconfirmed_but_in:
        lines.append(f"  note: {len(unconfirmed_but_in)} submit(s) whose response the citizen did not get "
                     f"(failed or cut at the end) are submitted in the database: {unconfirmed_but_in[:5]}")
    return ok, lines


def report(out: Path, work: Path, seconds: float) -> tuple[int, list[str]]:
    lines: list[str] = []
    stats = list(csv.DictReader((work / "load_stats.csv").open(encoding="utf-8")))
    total = next((r for r in stats if r["Name"] == "Aggregated"), None)
    rows = [r for r in stats if r["Name"] != "Aggregated"]
    errors = 0
    if total:
        errors = int(total["Failure Count"])
        lines.append(f"requests: {total['Request Count']}  errors: {total['Failure Count']}  "
                     f"throughput: {float(total['Requests/s']):.1f} requests/s over the run "
                     f"({int(total['Request Count']) / seconds:.1f}/s over {seconds:.0f} s incl. ramp-up and stop)  "
                     f"p50 {total['50%']} ms  p99 {total['99%']} ms")
    lines.append("")
    lines.append(f"| {'endpoint':<62} | {'requests':>8} | {'req/s':>6} | {'p50 ms':>7} | {'p99 ms':>7} | "
                 f"{'max ms':>7} | {'errors':>6} |")
    lines.append(f"|{'-' * 64}|{'-' * 10}:|{'-' * 7}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 7}:|")
    for r in sorted(rows, key=lambda r: -int(r["Request Count"])):
        name = f"{r['Type']} {r['Name']}"
        lines.append(f"| {name:<62} | {r['Request Count']:>8} | {float(r['Requests/s']):>6.1f} | {r['50%']:>7} | "
                     f"{r['99%']:>7} | {float(r['Max Response Time']):>7.0f} | {r['Failure Count']:>6} |")
    failures = list(csv.DictReader((work / "load_failures.csv").open(encoding="utf-8"))) \
        if (work / "load_failures.csv").exists() else []
    lines.append("")
    lines.append("errors:" if failures else "errors: none")
    for f in failures:
        lines.append(f"  {f['Occurrences']:>5} × {f['Method']} {f['Name']}: {f['Error']}")
    outcomes: dict[str, int] = {}
    for path in out.glob("outcomes-*.json"):
        for k, v in json.loads(path.read_text(encoding="utf-8")).items():
            outcomes[k] = outcomes.get(k, 0) + v
    lines.append("expected business outcomes (not errors):" if outcomes else "expected business outcomes: none")
    for k, v in sorted(outcomes.items()):
        lines.append(f"  {v:>5} × {k}")
    if outcomes.get("pool exhausted"):
        lines.append("  WARNING: the citizen pool ran out; raise --pool")
    return errors, lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10, help="locust run time (default 10)")
    ap.add_argument("--citizens", type=int, default=200)
    ap.add_argument("--reviewers", type=int, default=50)
    ap.add_argument("--spawn-rate", type=float, default=25)
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    ap.add_argument("--pool", type=int, default=0,
                    help="synthetic citizens (one per journey; default: citizens × (1 + 2 × minutes))")
    ap.add_argument("--keep", action="store_true", help="keep the database and the temporary folder")
    ap.add_argument("--save", type=Path, help="copy locust's CSV files, the logs and the records here")
    args = ap.parse_args(argv)
    local_only(ADMIN_URL)
    pool = args.pool or int(args.citizens * (1 + 2 * args.minutes))
    started = time.monotonic()

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"formflow_load_{os.getpid()}_{int(time.time())}"
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    work = Path(tempfile.mkdtemp(prefix="formflow_load_"))
    server: subprocess.Popen | None = None
    status = 1
    try:
        with admin.connect() as db:
            db.execute(text(f'CREATE DATABASE "{name}"'))
        log(f"database {name}; work folder {work}")
        citizens = [person(i) for i in range(pool)]
        env = dict(os.environ, FORMFLOW_DATABASE_URL=url, FORMFLOW_INSTANCE=str(work / "instance"),
                   FORMFLOW_CONFIG_ROOT=str(config_root(work, citizens)), FORMFLOW_DATA_KEYS=DATA_KEYS,
                   FORMFLOW_SECRET_KEY=SECRET_KEY, FORMFLOW_DEMO="1", FORMFLOW_SECURE_COOKIES="0")
        (work / "instance").mkdir()
        run([str(VENV / "formflow"), "db", "upgrade"], env, 300)
        run([str(VENV / "formflow"), "load"], env, 300)
        add_citizens(url, citizens)
        log(f"migrated, loaded; {pool} synthetic citizens (e-licence records + accounts) "
            f"in {time.monotonic() - started:.0f} s")
        out = work / "records"
        (work / "pool.json").write_text(json.dumps({"citizens": citizens, "reviewers": reviewers(args.reviewers)},
                                                   ensure_ascii=False), encoding="utf-8")
        port = free_port()
        server = subprocess.Popen(
            [str(VENV / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}", "--timeout", "120",
             "--access-logfile", "-", "--error-logfile", str(work / "gunicorn.err"),
             "formflow.app:create_app()"],
            env=env, cwd=ROOT, stdout=(work / "gunicorn.access").open("w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_healthy(port, server, 120)
        log(f"gunicorn -w {args.workers} on 127.0.0.1:{port}; locust {args.citizens}+{args.reviewers} users "
            f"for {args.minutes:g} min")
        users = args.citizens + args.reviewers
        run_time = f"{max(1, round(args.minutes * 60))}s"
        locust_env = dict(env, FORMFLOW_LOAD_POOL=str(work / "pool.json"), FORMFLOW_LOAD_OUT=str(out))
        t0 = time.monotonic()
        r = subprocess.run(
            [str(VENV / "locust"), "-f", str(HERE / "locustfile.py"), "--headless", "-u", str(users),
             "-r", str(args.spawn_rate), "--run-time", run_time, "--stop-timeout", "120",
             "--host", f"http://127.0.0.1:{port}", "--csv", str(work / "load"), "--only-summary",
             "--loglevel", "WARNING", "CitizenUser", "ReviewerUser"],
            env=locust_env, cwd=ROOT, timeout=args.minutes * 60 + 300, capture_output=True, text=True)
        seconds = time.monotonic() - t0
        (work / "locust.out").write_text(r.stdout + r.stderr, encoding="utf-8")
        stop(server)
        server = None
        log(f"locust exited {r.returncode} after {seconds:.0f} s; gunicorn stopped")
        errors, lines = report(out, work, seconds)
        ok, checks = integrity(url, out)
        gerr = (work / "gunicorn.err").read_text(encoding="utf-8", errors="replace")
        tracebacks = gerr.count("Traceback")
        print("\n".join(lines))
        print("\nintegrity:")
        print("\n".join(checks))
        timeouts = f", {gerr.count('WORKER TIMEOUT')} worker timeout(s)" if "WORKER TIMEOUT" in gerr else ""
        print(f"\ngunicorn error log: {tracebacks} traceback(s){timeouts}")
        if tracebacks:
            print(gerr[gerr.index("Traceback"):][:3000])
        applog = [ln for ln in (work / "gunicorn.access").read_text(encoding="utf-8", errors="replace").splitlines()
                  if ln.strip() and not ln.startswith("127.0.0.1 - ")]
        counted: dict[str, int] = {}
        for ln in applog:
            counted[ln[:200]] = counted.get(ln[:200], 0) + 1
        print(f"application log (stderr of the workers): {len(applog)} line(s)")
        for ln, n in sorted(counted.items(), key=lambda kv: -kv[1])[:20]:
            print(f"  {n:>5} × {ln}")
        verdict = "PASS" if ok and errors == 0 else "FAIL"
        print(f"\nverdict: {verdict} — {errors} error(s), integrity {'OK' if ok else 'BROKEN'}; "
              f"total {time.monotonic() - started:.0f} s")
        status = 0 if verdict == "PASS" else 1
    finally:
        stop(server)
        if args.save and work.exists():
            args.save.mkdir(parents=True, exist_ok=True)
            for path in work.iterdir():
                if path.is_file() and path.suffix in (".csv", ".out", ".err", ".access", ".log"):
                    shutil.copy2(path, args.save / path.name)
            if (work / "records").exists():
                shutil.copytree(work / "records", args.save / "records", dirs_exist_ok=True)
        if not args.keep:
            with admin.connect() as db:
                db.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            shutil.rmtree(work, ignore_errors=True)
            log(f"dropped {name}, removed {work}")
        else:
            log(f"kept database {name} and {work}")
        admin.dispose()
    return status


if __name__ == "__main__":
    sys.exit(main())
