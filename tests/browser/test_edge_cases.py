"""What goes wrong in a citizen's journey, in a real browser (desktop), and what the citizen then sees.

A wrong ID number, a missing spouse, an executable renamed `.pdf`, a double click on 直接提交, and
the whole form submitted with JavaScript disabled. Where a test is about the last step, the
earlier steps' answers are put in the draft directly (the journeys fill them by hand).
"""

from __future__ import annotations

import copy
import re

import pytest
from citizen import (
    begin,
    button,
    category_field,
    choose,
    citizen,
    click_and_wait,
    current_step,
    elf_file,
    enum_title,
    field,
    flash_texts,
    form_schema,
    group,
    missing_materials,
    next_step,
    pdf_file,
    png_file,
    select,
    sign_in,
    simplest_category,
    step_body,
    upload,
    upload_missing,
    verify_identity,
)
from sqlalchemy import func
from sqlalchemy import select as sql_select

from formflow.applications.drafts import SUBMIT_EVENT
from formflow.db.models import Application, Event

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

JX, MZ = "jiangxi", "meizhou-meijiang"
#: A drawn stroke (a blank 1×1 pixel is no signature: the one signature check refuses it at submit).
SIGNATURE = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACgAAAAQCAYAAABk1z2tAAAAhElEQVR42u2WUQoAIQhEm+5/59mvBTFJS4"
             "NY1p9A1J6TQiDZbrbeLrdvAQKgPK8C1HAnIWXtvppAEpa/CkzXhLfFETjpzyqma00BPYgsZCTfBNQyzy5fibXyvPgBcFeVaF4UzAQ8+W"
             "Tbjb+AVUOv66SbJlm6kZm5dBWsgJOQJc3+v5mkPeykgwvtIlrrAAAAAElFTkSuQmCC")


def app_id_of(page) -> int:
    return int(re.search(r"/applications/(\d+)/", page.url).group(1))


def prepare_jiangxi_draft(live_server, app_id: int, who) -> None:
    """Steps 1–3 answered for an unmarried applicant (as a person would have: valid, complete)."""
    cat_id, _title = simplest_category(JX)
    with live_server.platform.sessions.begin() as db:
        app = db.get(Application, app_id)
        data = copy.deepcopy(app.data)
        data["category"] = {"guarantee_mode": "rental_in_kind", "applicant_category": cat_id}
        data["members"] = {"applicant": {
            "basic": {"name": who.name, "id_number": who.id_number, "gender": "female", "mobile": who.mobile,
                      "marital_status": "unmarried", "hukou_address": "江西省南昌市东湖区示例街12号1单元502室"},
            "employment": {"employment_status": "flexible", "monthly_income": 800},
            "residence": {"current_address": "江西省南昌市东湖区示例街12号1单元502室",
                          "residence_type": "rent_private", "housing_area": 15},
        }}
        data["assets"] = {"has_vehicle": False, "has_real_estate": False, "has_business_registration": False,
                          "deposits_and_securities": 1000,
                          "authorization": {"signing_method": "handwritten", "signature": SIGNATURE}}
        app.data = data
        app.current_step = "materials"


def test_wrong_id_number(live_server, desktop_page, shots):
    """At identity verification, then in the form: the citizen is told what is wrong, where."""
    page, who = desktop_page, citizen(JX, married=True)
    base = live_server.url
    sign_in(page, base, who)
    page.goto(base + "/auth/verify?next=/portal/")
    wrong = who.id_number[:-1] + ("1" if who.id_number[-1] != "1" else "2")  # the check digit is wrong
    verify_identity(page, who, id_number=wrong)
    assert page.get_by_role("heading", name="身份验证").is_visible()
    assert page.locator(".flash-error").count() == 1, flash_texts(page)
    assert page.get_by_label("公民身份号码").input_value() == wrong  # what was typed stays, to correct
    shots(page, "identity-refused")
    # a well-formed number, but someone else's (the spouse's): refused too
    verify_identity(page, who, id_number=who.spouse.id_number)
    assert page.get_by_role("heading", name="身份验证").is_visible()
    assert page.locator(".flash-error").count() == 1, flash_texts(page)
    shots(page, "identity-someone-else")

    # in the form: a co-applicant's number with a wrong check digit
    from citizen import choose_region, open_matter

    open_matter(page, base, JX)
    choose_region(page)
    verify_identity(page, who)
    prepare_jiangxi_draft(live_server, app_id_of(page), citizen(JX, married=False))
    page.goto(f"{base}/portal/applications/{app_id_of(page)}/step/members")
    basic = group(group(step_body(page), "申请人"), "基础信息")
    field(basic, "公民身份号码").fill(wrong)
    next_step(page)
    assert current_step(page) == "家庭成员"
    summary = page.get_by_role("alert").filter(has_text="请修改以下")
    assert summary.is_visible()
    box = field(group(group(step_body(page), "申请人"), "基础信息"), "公民身份号码")
    assert box.get_attribute("aria-invalid") == "true"
    message = page.locator("#" + box.get_attribute("aria-describedby").split()[-1]).inner_text()
    assert "校验" in message or "公民身份号码" in message, message
    assert box.input_value() == wrong
    # the summary's link takes the citizen to the field
    summary.get_by_role("link").first.click()
    assert page.evaluate("location.hash") == "#" + box.get_attribute("id")
    assert "还有" in page.locator("#where").inner_text()
    shots(page, "id-number-in-form")


def test_missing_spouse(live_server, desktop_page, shots):
    """已婚 with no spouse among the co-applicants: 下一步 stays and says so on the co-applicant list."""
    page, who = desktop_page, citizen(JX, married=True)
    begin(page, live_server.url, who)
    prepare_jiangxi_draft(live_server, app_id_of(page), citizen(JX, married=False))
    page.goto(f"{live_server.url}/portal/applications/{app_id_of(page)}/step/members")
    select(group(group(step_body(page), "申请人"), "基础信息"), "婚姻状况", "已婚")
    next_step(page)
    assert current_step(page) == "家庭成员"
    co = group(step_body(page), "共同申请人")
    error = co.locator(".field-error").first
    assert error.is_visible() and "配偶" in error.inner_text(), co.inner_text()
    assert "配偶" in page.locator("#error-summary").inner_text()
    shots(page, "spouse-missing")
    # adding the spouse clears it
    click_and_wait(page, button(co, "添加共同申请人"))
    item = group(step_body(page), "共同申请人 1")
    select(item, "与申请人关系", "配偶")
    b = group(item, "基础信息")
    field(b, "姓名").fill("张丽")
    field(b, "公民身份号码").fill("360102199006220022")
    choose(b, "性别", "女")
    select(b, "婚姻状况", "已婚")
    field(b, "户籍地址").fill("江西省南昌市东湖区示例路8号2栋301室")
    w = group(item, "就业信息")
    select(w, "就业状况", "无业或失业")
    field(w, "月收入").fill("0")
    r = group(item, "居住信息")
    field(r, "现居住地址").fill("江西省南昌市东湖区示例路8号2栋301室")
    select(r, "现住房类型", "租住私房")
    field(r, "现住房建筑面积").fill("15")
    next_step(page)
    assert current_step(page) == "家庭资产", page.locator("#error-summary").all_inner_texts()


def test_executable_renamed_pdf_is_refused(live_server, desktop_page, shots, tmp_path):
    page, who = desktop_page, citizen(JX, married=False)
    begin(page, live_server.url, who)
    app_id = app_id_of(page)
    prepare_jiangxi_draft(live_server, app_id, who)
    page.goto(f"{live_server.url}/portal/applications/{app_id}/step/materials")
    first = missing_materials(page)[0]
    upload(page, first, elf_file(tmp_path, "x.pdf"))
    errors = " ".join(page.locator(".flash-error").all_inner_texts())
    assert "x.pdf" in errors and "已拒绝" in errors, errors
    assert first in missing_materials(page)  # nothing attached
    assert "还有" in page.locator("#where").inner_text()
    shots(page, "executable-refused")
    with live_server.platform.sessions() as db:
        assert "x.pdf" not in str(db.get(Application, app_id).data)
    # a real PDF in its place is accepted
    upload(page, first, pdf_file(tmp_path, "x.pdf"))
    assert not page.locator(".flash-error").count(), flash_texts(page)
    assert first not in missing_materials(page)
    assert page.locator("div.field.file").filter(has_text="x.pdf").count() == 1


def test_double_click_on_submit_makes_one_application(live_server, desktop_page, shots, tmp_path):
    page, who = desktop_page, citizen(JX, married=False)
    begin(page, live_server.url, who)
    app_id = app_id_of(page)
    prepare_jiangxi_draft(live_server, app_id, who)
    page.goto(f"{live_server.url}/portal/applications/{app_id}/step/materials")
    upload_missing(page, tmp_path)
    click_and_wait(page, button(page, "提交申请"))
    dialog = page.get_by_role("alertdialog", name="确认提交申请")
    with page.expect_navigation():
        dialog.get_by_role("button", name="直接提交").dblclick()
    page.wait_for_load_state()
    assert page.locator("#app-number").is_visible(), flash_texts(page)
    assert not page.locator(".flash-error").count(), flash_texts(page)
    shots(page, "submitted-once")
    with live_server.platform.sessions() as db:
        assert db.scalar(sql_select(func.count()).select_from(Application)) == 1
        assert db.scalar(sql_select(func.count()).select_from(Event).where(
            Event.application_id == app_id, Event.action == SUBMIT_EVENT)) == 1
        assert db.get(Application, app_id).status == "active"


def test_submitted_without_javascript(live_server, no_js_page, shots, tmp_path):
    """Every step as plain HTML forms: 更新表单 shows dependent fields, the letter is uploaded signed."""
    page, who = no_js_page, citizen(JX, married=False)
    schema = form_schema(JX)
    begin(page, live_server.url, who, shots)
    body = step_body(page)
    mode = schema["properties"]["category"]["properties"]["guarantee_mode"]
    choose(body, mode["title"], mode["x-enum-titles"][1])
    select(body, category_field(JX)[0], simplest_category(JX)[1])
    shots(page, "category")
    next_step(page)

    applicant = group(step_body(page), "申请人")
    basic = group(applicant, "基础信息")
    field(basic, "姓名").fill(who.name)
    field(basic, "公民身份号码").fill(who.id_number)
    choose(basic, "性别", "女")
    field(basic, "手机号码").fill(who.mobile)
    select(basic, "婚姻状况", "未婚")
    field(basic, "户籍地址").fill("江西省南昌市东湖区示例街12号1单元502室")
    employment = schema["$defs"]["employment_info"]["properties"]["employment_status"]
    select(group(applicant, "就业信息"), "就业状况", enum_title(employment, "employed"))
    field(group(applicant, "就业信息"), "月收入").fill("1500")
    r = group(applicant, "居住信息")
    field(r, "现居住地址").fill("江西省南昌市东湖区示例街12号1单元502室")
    select(r, "现住房类型", "租住私房")
    field(r, "现住房建筑面积").fill("15")
    # without JavaScript the dependent fields come with 更新表单
    click_and_wait(page, page.get_by_role("button", name="更新表单"))
    work = group(group(step_body(page), "申请人"), "就业信息")
    assert field(work, "月收入").input_value() == "1500"
    from citizen import uscc

    field(work, "工作单位").fill("南昌示例物流有限公司")
    field(work, "工作单位统一社会信用代码").fill(uscc())
    field(work, "在本单位（本地）就业起始日期").fill("2022-03-01")
    shots(page, "members")
    next_step(page)
    assert current_step(page) == "家庭资产", flash_texts(page)

    body = step_body(page)
    assets = schema["properties"]["assets"]["properties"]
    for question in ("has_vehicle", "has_real_estate", "has_business_registration"):
        choose(body, assets[question]["title"], "否")
    field(body, assets["deposits_and_securities"]["title"]).fill("500")
    signing = assets["authorization"]["properties"]["signing_method"]
    choose(body, signing["title"], enum_title(signing, "scanned"))
    click_and_wait(page, page.get_by_role("button", name="更新表单"))
    assert page.get_by_role("link", name=re.compile("下载《授权承诺书》")).count() in (0, 1)
    upload(page, assets["authorization"]["properties"]["signed_scan"]["title"], png_file(tmp_path, "签字.png"))
    assert not page.locator(".flash-error").count(), flash_texts(page)
    shots(page, "assets")
    next_step(page)
    assert current_step(page) == "申请材料", flash_texts(page)

    upload_missing(page, tmp_path)
    shots(page, "materials")
    click_and_wait(page, button(page, "提交申请"))
    assert page.locator("#submit-errors").count() == 0, page.locator("#submit-errors").inner_text()
    click_and_wait(page, page.get_by_role("button", name="直接提交"))
    assert any("申请已提交" in t for t in flash_texts(page)), flash_texts(page)
    assert page.locator("#current-stage").inner_text()
    shots(page, "submitted")
