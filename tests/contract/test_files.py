"""The files use cases across channels: one table of scenarios, the same outcome on every channel.

Another applicant's file named in one's own application, at save and at submit (defect 9), a bogus
or blank drawn signature, empty corrections and unanswered corrections (defect 3), withdrawing while
a reviewer acts or after the application closed, and submitting an application twice: the same
answer — code where the channel shows one, and the same words — on the portal, the service-hall
window, the reviewer's desk and the API, and nothing changes that should not.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from formflow.db.models import Application, Event, Notice

from .files_channels import (
    FILES,
    SUBMITTED,
    Channels,
    complete_data,
    draft,
    others_upload,
    request_correction,
    reviewer_acts,
    shown,
    submitted,
)


@dataclass(frozen=True)
class Scenario:
    name: str
    channels: tuple[str, ...]
    run: Any  # (channels, channel) -> (Seen, application id)
    status: dict[str, int]  # per channel kind: "web" / "api"
    code: str | None  # None: no refusal
    message: str | dict[str, str | None]  # shown on every channel, or per channel kind (None: nothing to read)
    after: Any  # (platform, application id) -> None: asserts the state


def _theirs_at_save(ch: Channels, channel: str):
    """The materials step saved naming a scan uploaded to another citizen's application (its sha256 copied)."""
    theirs = others_upload(ch.p)
    app_id = draft(ch.p, assisted=channel == "window", data=None)
    forged = [{"sha256": theirs, "name": "别人的证明.png", "media_type": "image/png", "size": 10}]
    return ch.save_files(channel, app_id, "materials.uploads.income_certificate", forged), app_id


def _nothing_saved(p, app_id):
    with p.sessions() as s:
        app = s.get(Application, app_id)
        assert app.status == "draft" and "别人的证明" not in json.dumps(app.data, ensure_ascii=False)
        assert _events(s, app_id, "draft_saved") == 0


def _events(s, app_id: int, action: str) -> int:
    return s.scalar(select(func.count()).select_from(Event).where(Event.application_id == app_id,
                                                                  Event.action == action))


def _png_url(raw: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(raw).decode()


def _blank_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (1, 1), (255, 255, 255, 255)).save(out, format="PNG")
    return out.getvalue()


SIGNATURE_FIELD = "assets.authorization.signature"


def _signs(data_url: str):
    def run(ch: Channels, channel: str):
        app_id = draft(ch.p, assisted=channel == "window", data=None)
        return ch.sign(channel, app_id, SIGNATURE_FIELD, data_url), app_id

    return run


def _no_signature(p, app_id):
    with p.sessions() as s:
        app = s.get(Application, app_id)
        assert "data:image/png" not in json.dumps(app.data)
        assert _events(s, app_id, "signature_saved") == _events(s, app_id, "draft_saved") == 0


def _withdraw_while(action: str, note: str, materials: list[str] | None = None):
    """The citizen opens 放弃申请 at version v; the street clerk takes `action`; the citizen confirms naming v."""

    def run(ch: Channels, channel: str):
        app_id = submitted(ch.p, complete_data())

        def reviewer():
            if materials is not None:
                request_correction(ch.p, app_id, materials, note)
            else:
                reviewer_acts(ch.p, app_id, action, note)

        return ch.withdraw(channel, app_id, meanwhile=reviewer), app_id

    return run


def _not_withdrawn(status: str, result: str | None):
    def after(p, app_id):
        with p.sessions() as s:
            app = s.get(Application, app_id)
            assert (app.status, app.result) == (status, result)
            assert _events(s, app_id, "withdraw") == 0

    return after


def _submits_twice(*, same_token: bool):
    def run(ch: Channels, channel: str):
        app_id = draft(ch.p, assisted=channel == "window", data=complete_data())
        return ch.submit_twice(channel, app_id, same_token=same_token), app_id

    return run


def _submitted_once(p, app_id):
    with p.sessions() as s:
        app = s.get(Application, app_id)
        assert app.status == "active" and app.number
        assert _events(s, app_id, "submit") == 1


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


CITIZEN_SIDE = ("portal", "window", "api")
STALE = "该申请已被他人处理，当前环节：受理，请刷新后重试"

SCENARIOS = [
    Scenario("another applicant's file at save", CITIZEN_SIDE, _theirs_at_save,
             {"web": 400, "api": 422}, "invalid_materials", "文件“别人的证明.png”不是本申请上传的文件，请重新上传",
             _nothing_saved),
    Scenario("another applicant's file at submit", CITIZEN_SIDE, _fabricated,
             {"web": 302, "api": 422}, "incomplete", "文件“scan.png”不是本申请上传的文件，请重新上传", _still_draft),
    Scenario("signature of 8 random bytes", CITIZEN_SIDE, _signs(_png_url(b"\x89PNG\r\n\x1a\n")),
             {"web": 400, "api": 422}, "invalid_materials", "签名不是有效的 PNG 图片，请重新签名", _no_signature),
    Scenario("blank 1x1 signature", CITIZEN_SIDE, _signs(_png_url(_blank_png())),
             {"web": 400, "api": 422}, "invalid_materials", "签名为空，请在签名区域内签名", _no_signature),
    Scenario("withdraw naming the version before a reviewer acted", ("portal", "api"),
             _withdraw_while("request_correction", "收入证明缺少单位盖章", ["income_certificate"]),
             {"web": 302, "api": 409}, "stale", STALE, _not_withdrawn("active", None)),
    Scenario("withdraw after the reviewer closed it", ("portal", "api"),
             _withdraw_while("reject", "不符合申请条件"),
             {"web": 302, "api": 409}, "not_editable", "该申请已办结，不能放弃",
             _not_withdrawn("closed", "not_accepted")),
    Scenario("submitted twice with the same token", CITIZEN_SIDE, _submits_twice(same_token=True),
             {"web": 302, "api": 200}, None, {"web": SUBMITTED, "api": None}, _submitted_once),
    Scenario("submitted again from another tab", CITIZEN_SIDE, _submits_twice(same_token=False),
             {"web": 302, "api": 409}, "already_submitted", "该申请已提交，无需重复提交", _submitted_once),
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
    if kind == "api" or seen.code is not None:  # the web shows a code only in its X-Refusal-Code header
        assert seen.code == scenario.code, seen.text[:600]
    message = scenario.message[kind] if isinstance(scenario.message, dict) else scenario.message
    if message is not None:
        assert message in shown(seen.text), shown(seen.text)[:2000]
    if scenario.code is not None:  # a refusal is said once, never alongside a success
        assert SUBMITTED not in shown(seen.text)
    scenario.after(sqlite_platform, app_id)


@pytest.mark.parametrize("data_url", [_png_url(b"\x89PNG\r\n\x1a\n"), _png_url(_blank_png())], ids=["8-bytes", "blank"])
def test_the_signature_pads_refusal_is_the_apis(sqlite_platform, data_url):
    """The portal's and the window's signature pad call `save_signature`; its refusal (which their JSON answer
    does not show the code of) is the one the API gives for the same signature: code, message, field."""
    from formflow.db.models import Account
    from formflow.text.errors import Refusal
    from formflow.usecases.files import save_signature

    ch = Channels(sqlite_platform)
    app_id = draft(sqlite_platform, data=None)
    api = ch.sign("api", app_id, SIGNATURE_FIELD, data_url)
    error = json.loads(api.text)["error"]
    with sqlite_platform.sessions() as s, ch.app.test_request_context():
        app = s.get(Application, app_id)
        with pytest.raises(Refusal) as refused:
            save_signature(ch.app.extensions["formflow.services"], s, s.get(Account, app.applicant_id), app_id,
                           SIGNATURE_FIELD, data_url, expected_version=app.version)
    pad = refused.value
    assert (pad.code, pad.status, pad.message) == (error["code"], api.status, error["message"])
    assert [f.as_dict() for f in pad.fields] == error["fields"]
