"""formflow benchmark (run on demand; not part of the test suite).

For each database and size: fill the database with N realistic applications, then in
the same run measure a bare insert, submissions, a bare indexed select and queue pages,
print them with the ratios submit/insert and queue/select, the plans of the queue query,
and one Meizhou application taken through its ten transitions, each timed.

    .venv/bin/python bench/run.py                                   # sqlite,postgresql × 100000,1000000
    .venv/bin/python bench/run.py --databases sqlite --sizes 100000
    .venv/bin/python bench/run.py --quick                           # the smoke test's tiny run
    FORMFLOW_BENCH_DATABASE_URL=postgresql+psycopg://… bench/run.py --databases postgresql

Sizes of one database are filled incrementally (the 1,000,000 run adds 900,000 rows to
the 100,000 one) in one database that is made at the start and dropped at the end.
Then the goal figures that are not database rates (bench/goals.py: PDF, transition,
lottery, forms) and those that need a real server (bench/server.py: API journey vs
/healthz, sign-in, worker RSS). The LAST line printed is one JSON object
{"ratios": {...}, "figures": {...}} (keys in bench/README.md; a figure not measured is null).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as stdlib_platform
import signal
import sqlite3
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for entry in (str(HERE), str(ROOT / "platform")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

#: The day the benchmark acts on (a Monday inside the shipped calendar data).
TODAY = date(2026, 3, 2)


class OutOfTime(Exception):
    pass


def _ints(text: str) -> list[int]:
    return sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql (default both)")
    parser.add_argument("--sizes", default="100000,1000000", type=_ints,
                        help="applications in the database, comma-separated (default 100000,1000000)")
    parser.add_argument("--submissions", type=int, default=200, help="timed submissions per size (default 200)")
    parser.add_argument("--pages", type=int, default=200, help="timed queue pages per size (default 200)")
    parser.add_argument("--inserts", type=int, default=None, help="bare inserts per size (default 5 × submissions)")
    parser.add_argument("--selects", type=int, default=None, help="bare selects per size (default 5 × pages)")
    parser.add_argument("--communities-per-street", type=int, default=8,
                        help="synthetic demo communities added under each street (default 8)")
    parser.add_argument("--no-flow", action="store_true", help="skip the ten-transition flow")
    parser.add_argument("--max-minutes", type=float, default=180.0,
                        help="stop (and drop the databases) after this long (default 180)")
    parser.add_argument("--workdir", type=Path, default=None, help="where SQLite files go (default: system temp)")
    parser.add_argument("--no-server", action="store_true", help="skip the figures measured on a real server")
    parser.add_argument("--journeys", type=int, default=5, help="API journeys over HTTP (default 5)")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny run (sqlite, 200 applications, 3 submissions and pages, 1 API journey)")
    args = parser.parse_args(argv)
    if args.quick:
        args.databases, args.sizes, args.submissions, args.pages = "sqlite", [200], 3, 3
        args.inserts, args.selects, args.journeys = args.inserts or 10, args.selects or 10, 1
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    for kind in args.databases:
        if kind not in ("sqlite", "postgresql"):
            parser.error(f"unknown database {kind!r}")
    if not args.sizes or min(args.sizes) < 1:
        parser.error("sizes must be positive")
    args.inserts = args.inserts or 5 * args.submissions
    args.selects = args.selects or 5 * args.pages
    return args


def log(message: str = "") -> None:
    print(message, flush=True)


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{os.cpu_count()} cores ({cpu or stdlib_platform.processor()}){mem}; "
            f"Python {stdlib_platform.python_version()}; SQLite {sqlite3.sqlite_version}")


def _fmt_rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from databases import open_database, postgres_admin_url, postgres_reachable
    from drafts import PACK
    from filling import Filler
    from flow import run_flow
    from goals import NoticeCapture, forms_figures, lottery_s, transition_ms
    from measures import measure

    from formflow.calendars.workdays import pack_calendars
    from formflow.packs import load_packs

    def alarm(_signum, _frame):
        raise OutOfTime(f"stopped after --max-minutes {args.max_minutes:g}")

    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(max(1, int(args.max_minutes * 60)))

    wall = time.perf_counter()
    log("formflow benchmark")
    log(f"machine: {machine()}")
    log(f"databases: {', '.join(args.databases)}; sizes: {', '.join(f'{n:,}' for n in args.sizes)}; "
        f"submissions {args.submissions}, queue pages {args.pages}, bare inserts {args.inserts}, "
        f"bare selects {args.selects}; today {TODAY}")
    started = time.perf_counter()
    packs = load_packs(ROOT)
    pack_load = time.perf_counter() - started
    if packs.problems:
        log(f"pack problems: {packs.problems}")
        return 2
    calendar = pack_calendars(ROOT)(PACK)
    renderers = ROOT / "renderers"
    results: list[tuple[str, int, float, object]] = []
    flows: list[tuple[str, int, list]] = []
    skipped: list[str] = []
    capture = NoticeCapture()
    extra: dict[str, object] = {}
    status = 0
    try:
        for kind in args.databases:
            if kind == "postgresql":
                why = postgres_reachable(postgres_admin_url())
                if why:
                    log(f"\n== postgresql: SKIPPED, not reachable at {postgres_admin_url()} ({why})")
                    skipped.append(f"postgresql ({why})")
                    status = 1
                    continue
                from sqlalchemy import text

                from formflow.db import make_engine
                engine = make_engine(postgres_admin_url())
                with engine.connect() as conn:
                    log(f"\nPostgreSQL: {conn.execute(text('SHOW server_version')).scalar()}")
                engine.dispose()
            started = time.perf_counter()
            db = open_database(kind, packs, args.workdir)
            log(f"\n== {kind}: database made, migrated and loaded in {time.perf_counter() - started:.1f} s")
            try:
                filled = 0
                for round_no, size in enumerate(args.sizes):
                    log(f"\n-- {kind}, {size:,} applications")
                    add = size - filled
                    started = time.perf_counter()
                    step = max(1, add // 10)
                    reported = [0]

                    def progress(done: int, total: int, elapsed: float, _base=filled, _step=step,
                                 _reported=reported) -> None:
                        if done - _reported[0] >= _step or done == total:
                            _reported[0] = done
                            log(f"    filling: {_base + done:,} / {_base + total:,} applications "
                                f"({elapsed:.0f} s, {done / max(elapsed, 1e-9):,.0f}/s)")

                    counts = Filler(db, add, today=TODAY, per_street=args.communities_per_street,
                                    seed=20260302 + round_no).run(progress)
                    fill_s = time.perf_counter() - started
                    filled = size
                    log(f"    filled in {fill_s:.1f} s: " + ", ".join(f"{t} +{c:,}" for t, c in counts.items()))
                    tag = f"r{round_no}"
                    measured = measure(db, today=TODAY, calendar=calendar, submissions_n=args.submissions,
                                       pages_n=args.pages, inserts_n=args.inserts, selects_n=args.selects, tag=tag,
                                       first_index=1 + round_no * 1_000_000, log=log)
                    measured.phases = {"fill": fill_s, **measured.phases}
                    report_size(kind, size, measured)
                    results.append((kind, size, fill_s, measured))
                    if not args.no_flow:
                        started = time.perf_counter()
                        capture = NoticeCapture()
                        with capture:
                            steps = run_flow(db, today=TODAY, calendar=calendar, renderers=renderers,
                                             tag=f"{tag}-flow", index=900_000 + round_no)
                        measured.phases["flow"] = time.perf_counter() - started
                        report_flow(kind, size, steps)
                        flows.append((kind, size, steps))
                    report_phases(measured.phases)
            finally:
                started = time.perf_counter()
                db.close()
                log(f"\n== {kind}: database dropped ({time.perf_counter() - started:.1f} s)")
        extra = goal_figures(args, capture, flows, log_forms=forms_figures, lottery=lottery_s,
                             transition=transition_ms)
    except OutOfTime as exc:
        log(f"\n!! {exc}")
        status = 3
    finally:
        signal.alarm(0)
    summary(results, flows, skipped)
    log(f"\ntotal wall time: {time.perf_counter() - wall:.1f} s")
    log(json.dumps(goals_json(results, extra, pack_load), sort_keys=True))
    return status


# --------------------------------------------------------------------------- the goals' JSON

RATIO_KEYS = ("submit_per_insert_sqlite", "submit_per_insert_postgresql", "queue_per_select_sqlite",
              "queue_per_select_postgresql", "validate_per_rs", "api_journey_per_healthz")
FIGURE_KEYS = ("pdf_ms", "transition_ms", "form700_render_ms", "form700_validate_ms", "lottery_100k_1000_s",
               "rss_peak_mib", "pack_load_s")


def goal_figures(args, capture, flows, *, log_forms, lottery, transition) -> dict[str, object]:
    """PDF, transition, lottery, forms and the server's figures, each reported as it is measured."""
    log("\nGOALS")
    out: dict[str, object] = {}
    out["pdf_ms"] = capture.pdf_ms()
    out["pdf_renders_in_flow"] = capture.calls
    last_flow = {kind: steps for kind, _size, steps in flows}  # the largest size of each database
    for kind, steps in last_flow.items():
        out[f"transition_ms_{kind}"] = transition(steps, capture)
    # the embedded default's figure; each database's own is transition_ms_<db>
    out["transition_ms"] = out.get("transition_ms_sqlite", transition(flows[-1][2], capture) if flows else None)
    log(f"  notice PDF, warm (render_pdf on the flow's first notice): {_num(out['pdf_ms'])} ms; "
        f"{capture.calls} PDFs rendered inside the flow's transitions ({capture.seconds * 1000:.0f} ms)")
    for kind in last_flow:
        log(f"  transition engine time without PDF (mean of engine.perform), {kind}: "
            f"{_num(out[f'transition_ms_{kind}'])} ms")
    out["lottery_100k_1000_s"] = lottery()
    log(f"  lottery, 100,000 entrants × 1,000 flats: {out['lottery_100k_1000_s']:.3f} s")
    out.update(log_forms(log))
    if args.no_server:
        log("  server figures: skipped (--no-server)")
    else:
        from server import measure_server

        log("  server (formflow serve --workers 1, SQLite, demo data) …")
        found = measure_server(args.workdir, journeys=args.journeys, healthz=50 if args.quick else 500, log=log)
        out.update(found)
        log(f"  GET /healthz {_num(found['healthz_per_s'])}/s; API journey (token held) "
            f"{_num(found['api_journey_per_s'])}/s → journey/healthz {_num(found['api_journey_per_healthz'], 4)}; "
            f"sign-in {_num(found['sign_in_s'])} s; 10 concurrent sign-ins {_num(found['concurrent_sign_ins_s'])} s; "
            f"worker RSS peak {_num(found['rss_peak_mib'])} MiB; "
            f"serve helper process (Argon2id, PDFs) peak {_num(found.get('rss_helper_mib'))} MiB")
    return out


def _num(value, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def goals_json(results, extra: dict[str, object], pack_load: float) -> dict[str, dict[str, object]]:
    ratios: dict[str, object] = dict.fromkeys(RATIO_KEYS)
    figures: dict[str, object] = dict.fromkeys(FIGURE_KEYS)
    for kind, size, _fill, m in results:  # the largest size of each database wins (sizes run in order)
        ratios[f"submit_per_insert_{kind}"] = m.submit.per_second / m.insert.per_second
        ratios[f"queue_per_select_{kind}"] = m.queue.per_second / m.select.per_second
        figures[f"submit_ms_{kind}"] = m.submit.ms_each
        figures[f"queue_page_ms_{kind}"] = m.queue.ms_each
        figures[f"queue_page_p99_ms_{kind}"] = m.queue.percentile_ms(0.99)
        figures[f"size_{kind}"] = size
    for key, value in extra.items():
        (ratios if key in RATIO_KEYS else figures)[key] = value
    if figures.get("pack_load_s") is None:
        figures["pack_load_s"] = pack_load  # load_packs at the start of this run
    return {"ratios": ratios, "figures": figures}


# --------------------------------------------------------------------------- reports

def report_size(kind: str, size: int, m) -> None:
    log(f"\n  {kind}, {size:,} applications")
    log(f"    (a) bare insert      {_fmt_rate(m.insert.per_second):>10} rows/s      "
        f"({m.insert.count} rows, {m.insert.ms_each:.2f} ms each, one transaction each)")
    log(f"    (b) submissions      {_fmt_rate(m.submit.per_second):>10} submissions/s "
        f"({m.submit.count}, {m.submit.ms_each:.1f} ms each)   submit/insert = "
        f"{m.submit.per_second / m.insert.per_second:.3f}")
    log(f"    (c) bare select      {_fmt_rate(m.select.per_second):>10} selects/s   "
        f"({m.select.count}, {m.select.ms_each:.2f} ms each)")
    log(f"    (d) queue pages      {_fmt_rate(m.queue.per_second):>10} queue pages/s "
        f"({m.queue.count}, {m.queue.ms_each:.1f} ms each; {m.queue_rows:,} rows seen, "
        f"queue ran out {m.queue_wrapped}×)   queue/select = {m.queue.per_second / m.select.per_second:.3f}")
    for plan in m.plans:
        verdict = (f"index: {plan.index or 'NONE'}; full scan of applications: {'YES' if plan.full_scan else 'no'}; "
                   f"sort step: {'yes' if plan.sort else 'no'}")
        log(f"\n    EXPLAIN ({kind}) — {plan.label}\n      => {verdict}")
        for line in plan.lines:
            log(f"      | {line}")


def report_flow(kind: str, size: int, steps) -> None:
    total = sum(s.ms for s in steps)
    marks = sum(s.mark_ms or 0 for s in steps)
    engine_steps = sum(1 for s in steps if s.via == "engine.perform")
    log(f"\n  flow ({kind}, {size:,} applications): one Meizhou application, submission to approval — "
        f"{len(steps)} transitions ({engine_steps} through engine.perform)")
    log(f"    {'#':>2}  {'transition':<32} {'via':<24} {'to':<22} {'marking ms':>10} {'transition ms':>13}")
    for s in steps:
        mark = f"{s.mark_ms:.1f}" if s.mark_ms is not None else "—"
        log(f"    {s.no:>2}  {s.what:<32} {s.via:<24} {s.to:<22} {mark:>10} {s.ms:>13.1f}")
    log(f"    transitions {total:.1f} ms in all ({total / len(steps):.1f} ms mean); markings {marks:.1f} ms")
    log("    slowest SQL statement of each transition:")
    for s in steps:
        if s.slowest:
            ms, sql = s.slowest
            log(f"    {s.no:>2}  {ms:7.1f} ms  {sql[:150]}{'…' if len(sql) > 150 else ''}")


def report_phases(phases: dict[str, float]) -> None:
    log("\n    wall time per phase: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))


def summary(results, flows, skipped) -> None:
    if not results:
        log("\nno results")
        return
    log("\nSUMMARY")
    head = (f"  {'database':<10} {'applications':>12} {'fill s':>7} {'insert/s':>9} {'submit/s':>9} "
            f"{'submit/insert':>13} {'select/s':>9} {'queue pages/s':>13} {'queue/select':>12}  queue plan")
    log(head)
    for kind, size, fill_s, m in results:
        first = m.plans[0]
        plan = (f"{first.index or 'no index'}" + (", FULL SCAN" if first.full_scan else "")
                + (", sort" if first.sort else ""))
        log(f"  {kind:<10} {size:>12,} {fill_s:>7.0f} {_fmt_rate(m.insert.per_second):>9} "
            f"{_fmt_rate(m.submit.per_second):>9} {m.submit.per_second / m.insert.per_second:>13.3f} "
            f"{_fmt_rate(m.select.per_second):>9} {_fmt_rate(m.queue.per_second):>13} "
            f"{m.queue.per_second / m.select.per_second:>12.3f}  {plan}")
    if flows:
        log("\n  flow, ms per transition")
        names = [s.what for s in flows[0][2]]
        cols = [f"{k} {n:,}" for k, n, _ in flows]
        log(f"  {'#':>2} {'transition':<32} " + " ".join(f"{c:>18}" for c in cols))
        for i, name in enumerate(names):
            cells = [f"{steps[i].ms:>18.1f}" if i < len(steps) else f"{'':>18}" for _k, _n, steps in flows]
            log(f"  {i + 1:>2} {name:<32} " + " ".join(cells))
    for what in skipped:
        log(f"\n  SKIPPED: {what}")


if __name__ == "__main__":
    sys.exit(main())
