"""The context itself: what each variable holds for a given application, and that personal data stays masked."""

from __future__ import annotations

from datetime import UTC, date, datetime

import yaml
from household import APPLICANT, APPLICANT_ID, CHILD_ID, SPOUSE, SPOUSE_ID, household_data
from wf_support import ROOT

from formflow.documents.context import Facts, Happened, template_context
from formflow.documents.notices import notice_settings
from formflow.packs.versions import Pinned, _documents, content_hash

WORKFLOW = ROOT / "workflows" / "meizhou-meijiang" / "public-rental-housing.yaml"


def pinned(packs) -> Pinned:
    documents = _documents(packs, "meizhou-meijiang", "public-rental-housing")
    return Pinned({"form": content_hash(documents["form"]), "workflow": content_hash(documents["workflow"])},
                  documents)


def facts(packs, **extra) -> Facts:
    at = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
    base = dict(pinned=pinned(packs), data=household_data(), applicant_name=APPLICANT,
                applicant_id_number=APPLICANT_ID, category="lower-middle-income", number="A1", application_id=7,
                submitted_at=at, stage="street_review", office_of=lambda level: f"<{level}>", reason="r",
                deadline=date(2026, 3, 9),
                events=[Happened("submit", None, at), Happened("mark", "community_acceptance", at),
                        Happened("accept", "community_acceptance", at)], today=date(2026, 3, 2))
    return Facts(**(base | extra))


def test_every_documented_variable_holds_what_the_application_says(shipped_packs) -> None:
    c = template_context(facts(shipped_packs))
    assert c["applicant"] == {"name": APPLICANT, "id_number": "4414**********0314"}
    assert [(m["name"], m["relation"]) for m in c["members"]] == [(SPOUSE, "配偶"), ("陈子轩", "子女")]
    assert c["address"] == "梅江区金山街道江北路1号"
    assert (c["category"].id, str(c["category"])) == ("lower-middle-income", "中低收入住房困难家庭")
    assert str(c["amounts"]["household_size"]) == "3 人" and c["amounts"]["household_size"].value == 3
    assert (c["stage"].id, str(c["stage"]), c["stage"].office, c["office"]) == (
        "street_review", "街道初审", "<street>", "<street>")
    # decisions only (a reviewer's marking is no decision), each with its office and Beijing time
    assert [(h.action, h.title, h.office, h.at) for h in c["history"]] == [
        ("submit", "提交申请", "", "2026-03-02 09:30"), ("accept", "受理", "<community>", "2026-03-02 09:30")]
    assert c["params"]["area_limit_per_person"] == 13
    assert c["application"]["submitted_at"] == "2026-03-02 09:30" and c["application"]["number"] == "A1"
    assert c["deadline"] == date(2026, 3, 9) and c["reason"] == "r"


def test_id_numbers_are_masked_everywhere_and_message_contexts_mask_names(shipped_packs) -> None:
    c = template_context(facts(shipped_packs, mask_names=True))
    text = repr(c)
    for number in (APPLICANT_ID, SPOUSE_ID, CHILD_ID, "13807530001"):
        assert number not in text, number
    assert c["data"]["members"]["applicant"]["id_number"] == "4414**********0314"
    assert c["data"]["members"]["applicant"]["mobile"] == "138****0001"
    assert c["data"]["housing"]["current_housing"] == "借住亲友住房（房主身份证4414**********0027）"
    assert c["applicant"]["name"] == "陈**" and c["members"][0]["name"] == "李**"


def test_notice_variables_layer_and_never_replace_the_platforms_names(shipped_packs) -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    workflow["notice_defaults"]["vars"] = {"hint": "pack", "contact": "默认电话", "applicant": "冒名"}
    workflow["notices"]["ineligible"]["vars"] = {"hint": "notice"}
    settings = notice_settings(workflow, "ineligible", {"remedy": {"court": "某法院"}})
    assert settings["hint"] == "notice" and settings["contact"] == "默认电话"
    assert settings["remedy"]["court"] == "某法院" and settings["remedy"]["review_body"] == "梅州市人民政府"
    assert "applicant" not in settings
    assert notice_settings(workflow, "ineligible", {"hint": "action"})["hint"] == "action"
    assert notice_settings(workflow, "acceptance")["hint"] == "pack"
