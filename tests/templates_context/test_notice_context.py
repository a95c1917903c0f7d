"""A notice names the household and carries the workflow's notice variables, read back from the PDF.

A pack's own template (`renderers/<pack>/documents/<kind>.html`) is used before the shared one; it sees
the documented context (applicant, members, stage and its office, category, amounts, history, data…),
the pack default `notice_defaults.vars` and the issuing action's `notice_vars` (over the notice's own).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from household import APPLICANT, APPLICANT_ID, CHILD, SPOUSE, SPOUSE_ID, create

from formflow.documents.pdf import pdf_text
from support import notice_pdf

WORKFLOW = "workflows/meizhou-meijiang/public-rental-housing.yaml"
OVERRIDE = "renderers/meizhou-meijiang/documents/ineligible.html"
TEMPLATE = """{% extends "_notice.html" %}
{% block body %}
<p>户主{{ applicant.name }}（{{ applicant.id_number }}）</p>
<p>{% for m in members %}成员{{ m.name }}{{ m.relation }}{{ m.id_number }}；{% endfor %}</p>
<p>类别{{ category }}，人口{{ amounts.household_size }}，地址{{ address }}</p>
<p>环节{{ stage.title }}由{{ stage.office }}办理</p>
<p>{% for h in history %}经过{{ h.title }}@{{ h.office }}；{% endfor %}</p>
<p>住房{{ data.housing.current_housing }}，本人{{ data.members.applicant.id_number }}</p>
<p>编号{{ application.number }}，事项{{ application.matter }}，理由{{ reason }}</p>
<p>补救{{ remedy.review_body }}和{{ remedy.court }}，后续{{ next_steps }}，提示{{ hint }}</p>
{% endblock %}
"""


def flat(text: str) -> str:
    return "".join(text.split())


def _change(root: Path) -> None:
    path = root / WORKFLOW
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    workflow["notice_defaults"]["vars"] = {"next_steps": "可在条件变化后重新申请", "hint": "缺省提示"}
    workflow["notices"]["ineligible-street"]["vars"] = {"hint": "文书提示"}
    workflow["stages"]["street_review"]["actions"]["reject"]["notice_vars"] = {
        "remedy": {"review_body": "测试复议机关"}, "hint": "操作提示"}
    path.write_text(yaml.safe_dump(workflow, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (root / OVERRIDE).parent.mkdir(parents=True, exist_ok=True)
    (root / OVERRIDE).write_text(TEMPLATE, encoding="utf-8")


def test_a_packs_own_template_names_the_household_and_carries_the_workflow_vars(changed_flow) -> None:
    flow = changed_flow(_change)
    day = date(2026, 3, 2)
    app_id = create(flow, day)
    flow.act(app_id, "community_acceptance", "accept", "mj-community", today=day, mark=True)
    t = flow.act(app_id, "street_review", "reject", "mj-street", today=date(2026, 3, 3), note="收入超过标准")
    [notice] = t.notices
    text = flat(pdf_text(notice_pdf(flow.p, notice.id)))
    assert f"户主{APPLICANT}（4414**********0314）" in text
    assert f"成员{SPOUSE}配偶4414**********0027；成员{CHILD}子女4414**********0012；" in text
    assert "类别中低收入住房困难家庭，人口3人，地址梅江区金山街道江北路1号" in text
    assert "环节街道初审由金山街道办理" in text
    assert "经过提交申请@；经过受理@金山街道演示社区一；经过初审不通过@金山街道；" in text
    assert "本人4414**********0314" in text and "房主身份证4414**********0027" in text
    assert "理由收入超过标准" in text and "事项梅州城区公共租赁住房申请" in text
    # the action's remedy merges into the pack default (its court stays); the action's hint wins
    assert "补救测试复议机关和梅州市梅江区人民法院" in text
    assert "后续可在条件变化后重新申请" in text and "提示操作提示" in text
    assert APPLICANT_ID not in text and SPOUSE_ID not in text  # full ID numbers never


def test_the_shipped_refusal_names_the_household(shipped_flow) -> None:
    day = date(2026, 3, 2)
    app_id = create(shipped_flow, day)
    shipped_flow.act(app_id, "community_acceptance", "accept", "mj-community", today=day, mark=True)
    t = shipped_flow.act(app_id, "street_review", "reject", "mj-street", today=date(2026, 3, 3),
                         note="家庭人均收入超过标准")
    text = flat(pdf_text(notice_pdf(shipped_flow.p, t.notices[0].id)))
    assert f"申请人：{APPLICANT}（公民身份号码：4414**********0314）" in text
    assert f"共同申请的家庭成员：{SPOUSE}（配偶）、{CHILD}（子女）。" in text
    assert "向梅江区人民政府申请行政复议" in text
    assert APPLICANT_ID not in text


def test_the_shipped_eligible_notice_carries_next_steps_from_its_vars() -> None:
    from formflow.documents.notices import notice_settings

    workflow = yaml.safe_load((Path(__file__).resolve().parents[2] / WORKFLOW).read_text(encoding="utf-8"))
    settings = notice_settings(workflow, "eligible")
    assert settings["next_steps"].startswith("你家庭将按规定进行轮候分配")
    assert "source" not in settings  # a vars block may carry its source, which is no variable
    assert "next_steps" not in notice_settings(workflow, "ineligible")
