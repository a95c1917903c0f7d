"""Engine time of the Meizhou flow's transitions: CPU ms and statements per `engine.perform`.

    .venv/bin/python bench/transition_profile.py --databases sqlite,postgresql --flows 10
    .venv/bin/python bench/transition_profile.py --profile 30     # cProfile of engine.perform, top 30

A small database (made, migrated, loaded like bench/run.py's, no fill) runs `--flows`
flows of bench/flow.py. Each `engine.perform` is wrapped: its CPU time
(`time.process_time`, steadier than wall time on a shared machine) and the statements it
sends (`before_cursor_execute`) are recorded per stage. `--messages` installs the packs'
message kinds as a server does (the notification listener then writes in the same flush).
The first flow warms the caches and is left out.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for entry in (str(HERE), str(ROOT / "platform")):
    if entry not in sys.path:
        sys.path.insert(0, entry)


class Recorder:
    """Wraps `engine.perform`: CPU ms and statements of each call, by stage."""

    def __init__(self, engine, profiler: cProfile.Profile | None) -> None:
        self.engine = engine
        self.profiler = profiler
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.statements: dict[str, list[int]] = defaultdict(list)
        self.texts: dict[str, list[str]] = {}
        self.keep = False
        self.flow_ms: list[float] = []  # bench/goals.py's transition_ms of each flow (wall, with the commit)
        self.cold: list[tuple[str, float]] = []  # the first flow's engine.perform steps (wall ms): caches cold
        self._sent: list[str] | None = None

    def __enter__(self) -> Recorder:
        from sqlalchemy import event

        from formflow.workflow import engine as workflow

        self._module, self._original = workflow, workflow.perform
        workflow.perform = self._perform
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc) -> None:
        from sqlalchemy import event

        self._module.perform = self._original
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, *_args) -> None:
        if self._sent is not None:
            self._sent.append(statement)

    def _perform(self, session, app_id, **kwargs):
        stage = kwargs["stage"]
        self._sent = []
        if self.profiler is not None and self.keep:
            self.profiler.enable()
        started = time.process_time()
        try:
            return self._original(session, app_id, **kwargs)
        finally:
            session.flush()  # what the commit would still send belongs to the transition
            spent = 1000 * (time.process_time() - started)
            if self.profiler is not None and self.keep:
                self.profiler.disable()
            sent, self._sent = self._sent, None
            if self.keep:
                self.cpu[stage].append(spent)
                self.statements[stage].append(len(sent))
                self.texts[stage] = sent


def run(kind: str, flows: int, *, profile: int, messages: bool, show: bool) -> None:
    from databases import open_database
    from drafts import PACK
    from flow import run_flow
    from goals import NoticeCapture, transition_ms
    from run import TODAY

    from formflow.calendars.workdays import pack_calendars
    from formflow.notifications import registry
    from formflow.packs import load_packs

    packs = load_packs(ROOT)
    calendar = pack_calendars(ROOT)(PACK)
    db = open_database(kind, packs)
    if messages:
        registry.install(packs)
    profiler = cProfile.Profile() if profile else None
    try:
        with Recorder(db.engine, profiler) as rec:
            for k in range(flows + 1):
                rec.keep = k > 0
                steps = run_flow(db, today=TODAY, calendar=calendar, renderers=ROOT / "renderers", tag=f"tp{k}",
                                 index=800_000 + k, warm=False)  # its own first flow is the warm-up
                if rec.keep:
                    rec.flow_ms.append(transition_ms(steps, NoticeCapture()) or 0.0)
                else:
                    rec.cold = [(s.what, s.ms) for s in steps if s.via == "engine.perform"]
    finally:
        registry.uninstall()
        db.close()
    report(kind, rec, show)
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(profile)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(profile)


def report(kind: str, rec: Recorder, show: bool) -> None:
    print(f"\n== {kind}: median CPU ms and statements per engine.perform")
    medians = []
    for stage, cpu in rec.cpu.items():
        medians.append(statistics.median(cpu))
        print(f"  {stage:24s} {statistics.median(cpu):7.2f} ms  {statistics.median(rec.statements[stage]):4.0f} st")
    mean_cpu = statistics.mean(medians)
    mean_st = statistics.mean(statistics.median(v) for v in rec.statements.values())
    print(f"  {'mean':24s} {mean_cpu:7.2f} ms  {mean_st:6.1f} st")
    print(f"  transition_ms (wall, as bench/run.py reports it; median of {len(rec.flow_ms)} flows): "
          f"{statistics.median(rec.flow_ms):.2f} ms")
    if rec.cold:
        print(f"  first flow (caches cold; bench/run.py's one flow is like it): transition_ms "
              f"{statistics.mean(ms for _what, ms in rec.cold):.2f} ms; "
              + ", ".join(f"{ms:.1f}" for _what, ms in rec.cold))
    if show:
        for stage, sent in rec.texts.items():
            print(f"\n-- {stage}")
            for statement in sent:
                print("   ", " ".join(statement.split())[:220])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--flows", type=int, default=10, help="flows measured (after one warm-up flow)")
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N of engine.perform")
    parser.add_argument("--messages", action="store_true", help="install the packs' message kinds")
    parser.add_argument("--show", action="store_true", help="print each stage's statements (last flow)")
    args = parser.parse_args(argv)
    for kind in args.databases.split(","):
        run(kind.strip(), args.flows, profile=args.profile, messages=args.messages, show=args.show)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
