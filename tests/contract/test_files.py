"""The files use cases across channels: one table of scenarios, the same outcome on every channel.

Fabricated file references (defect 9), empty corrections and unanswered corrections (defect 3):
the same refusal — code where the channel shows one, and the same words — on the portal, the
service-hall window, the reviewer's desk and the API, and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from formflow.db.models import Application, Notice

from .files_channels import (
    FILES,
    Channels,
    complete_data,
    draft,
    others_upload,
    request_correction,
    shown,
    submitted,
)


@dataclass(frozen=True)
class Scenario:
    name: str
    channels: tuple[str, ...]
    run: Any  # (channels, channel) -> (Seen, application id)
    status: dict[str, int]  # per channel kind: "web" / "api"
    code: str | None
    message: str
    after: Any  # (platform, application id) -> None: asserts the state


def _fabricated(ch: Channels, channel: str):
    """Complete data whose scans are another citizen's upload (its sha256 copied)."""
    theirs = others_upload(ch.p)
    data = complete_data()
    forged = [{**FILES[0], "sha256": theirs}]
    data["materials"]["uploads"] = {"income_certificate": forged, "housing_status_certificate": forged}
    app_id = draft(ch.p, assisted=channel == "window", data=data)
    return ch.submit(channel, app_id), app_id


def _still_draft(p, app_id):
    with p.sessions() as s:
        assert s.get(Application, app_id).status == "draft"


def _note_only(ch: Channels, channel: str):
    app_id = submitted(ch.p, complete_data_with_own_files(ch.p))
    request_correction(ch.p, app_id, ["income_certificate"], "收入证明缺少单位盖章")
    return ch.answer(channel, app_id, "已补盖章"), app_id


def complete_data_with_own_files(p):
    return complete_data()  # FILES refer to the scan `draft` uploads to every application


def _still_waiting(p, app_id):
    with p.sessions() as s:
        assert s.get(Application, app_id).awaiting == "citizen"


def _empty(ch: Channels, channel: str):
    """Meijiang's correction action needs no reason: nothing named, nothing said."""
    from desk_support import MZ, create

    app_id = create(ch.p, MZ, today=ch.api.today)
    return ch.issue_correction(channel, app_id, [], "", reviewer="mj-community"), app_id


def _no_notice(p, app_id):
    with p.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Notice).where(Notice.application_id == app_id)) == 0
        assert s.get(Application, app_id).awaiting is None


SCENARIOS = [
    Scenario("fabricated file reference at submit", ("portal", "window", "api"), _fabricated,
             {"web": 302, "api": 422}, "incomplete", "文件“scan.png”不是本申请上传的文件，请重新上传", _still_draft),
    Scenario("correction answered with a note while a file is named", ("portal", "api"), _note_only,
             {"web": 302, "api": 422}, "correction_unanswered", "补正尚未完成：请上传：收入证明", _still_waiting),
    Scenario("correction request naming nothing", ("desk", "api"), _empty,
             {"web": 422, "api": 422}, "empty_correction",
             "补正要求须至少列明一项需补正的材料，或在说明中写明需补正的内容", _no_notice),
]

CASES = [pytest.param(sc, channel, id=f"{sc.name}-{channel}") for sc in SCENARIOS for channel in sc.channels]


@pytest.mark.parametrize(("scenario", "channel"), CASES)
def test_same_refusal_on_every_channel(sqlite_platform, scenario: Scenario, channel: str):
    ch = Channels(sqlite_platform)
    seen, app_id = scenario.run(ch, channel)
    kind = "api" if channel == "api" else "web"
    assert seen.status == scenario.status[kind], seen.text[:600]
    if kind == "api":
        assert seen.code == scenario.code
    assert scenario.message in shown(seen.text), shown(seen.text)[:2000]
    scenario.after(sqlite_platform, app_id)
