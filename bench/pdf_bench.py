"""Time one warm notice PDF (issue #11 asks ≤ 30 ms warm).

`measure()` renders every shipped notice template once to warm the process (fonts
parsed, templates compiled), then times `rounds` renders of the refusal notice, a
different applicant name each time (so nothing is cached per document), and
returns the median and the slowest in ms. `python bench/pdf_bench.py` prints them.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import date
from typing import Any

from formflow.documents import pdf

CONTEXT: dict[str, Any] = {
    "office_name": "某某区住房保障服务中心",
    "matter_title": "公共租赁住房",
    "application_no": "A2026-00012",
    "submitted_on": date(2026, 2, 20),
    "issued_on": date(2026, 3, 2),
    "reason": "家庭人均收入超过标准。",
    "time_limit": "20个工作日",
    "deadline": date(2026, 3, 16),
    "missing": [{"title": "户口簿", "requirement": "全部家庭成员页复印件"}],
    "details": [],
}
NAMES = "欧阳小燕 刘䶮 张三丰 李四 王五 赵钱孙 周吴郑 冯陈褚 卫蒋沈 韩杨朱".split()
TEMPLATES = ("acceptance.html", "non-acceptance.html", "correction.html", "eligible.html", "ineligible.html")


def _render(template: str, name: str) -> bytes:
    return pdf.render_pdf([pdf.DOCUMENTS_DIR], template, {**CONTEXT, "applicant_name": name},
                          title="不符合住房保障条件通知书", number="某住保〔2026〕12号")


def measure(rounds: int = 30) -> dict[str, float]:
    """{"pdf_ms": median warm render, "pdf_max_ms": slowest, "pdf_cpu_ms": median CPU time of one
    (what a loaded machine cannot inflate as much), "pdf_cold_ms": the first render}."""
    start = time.perf_counter()
    _render("ineligible.html", "冷启动")
    cold = (time.perf_counter() - start) * 1000
    for template in TEMPLATES:
        _render(template, "预热刘䶮")
    times, cpu = [], []
    for i in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        _render("ineligible.html", NAMES[i % len(NAMES)] + str(i))
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {"pdf_ms": round(statistics.median(times), 1), "pdf_max_ms": round(max(times), 1),
            "pdf_cpu_ms": round(statistics.median(cpu), 1), "pdf_cold_ms": round(cold, 1)}


if __name__ == "__main__":
    print(json.dumps(measure()))
