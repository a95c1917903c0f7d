"""The whole citizen journey of the guide (000), in a real browser, on a phone and on a desktop, per locality.

guide → 服务授权隐私协议 → 申请区域 (confirmed twice) → 身份验证 → the wizard (暂存, 下一步, live
re-render of dependent fields, co-applicants added and removed, e-licence 重新获取, the signature
canvas, uploads) → 提交申请 → 再次检查 / 直接提交 → 我的申请 with the stage → 放弃申请.
A draft survives signing out and is resumed on another device. Screenshots of every step are
written to test-artifacts/<test>/.
"""

from __future__ import annotations

import pytest
from citizen import (
    begin,
    button,
    category_field,
    choose,
    citizen,
    click_and_wait,
    current_step,
    draw_signature,
    enum_title,
    field,
    flash_texts,
    form_schema,
    group,
    next_step,
    save,
    select,
    settle,
    sign_in,
    sign_out,
    simplest_category,
    step_body,
    upload_missing,
    uscc,
)
from sqlalchemy import func
from sqlalchemy import select as sql_select

from formflow.applications.drafts import SUBMIT_EVENT
from formflow.db.models import Application, Event

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

JX, MZ = "jiangxi", "meizhou-meijiang"


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"page scrolls sideways ({width}px) at {page.url}"


def page_loads(page) -> int:
    return page.evaluate("performance.getEntriesByType('navigation').length + (window.__loads || 0)")


def mark_page(page) -> None:
    page.evaluate("window.__marker = 'same document'")


def same_document(page) -> bool:
    return page.evaluate("window.__marker === 'same document'")


# --------------------------------------------------------------------------- the end of every journey


def confirm_submit_and_follow(page, live_server, shots, steps: int) -> None:
    """提交申请 → the dialog: 再次检查 back to the start, then again → 直接提交; 我的申请 shows the stage."""
    click_and_wait(page, button(page, "提交申请"))
    dialog = page.get_by_role("alertdialog", name="确认提交申请")
    assert dialog.is_visible(), flash_texts(page)
    assert page.locator("#submit-errors").count() == 0, page.locator("#submit-errors").inner_text()
    no_horizontal_scroll(page)
    shots(page, "confirm-dialog")
    click_and_wait(page, dialog.get_by_role("link", name="再次检查"))
    assert page.locator(".stepper [aria-current=step] .num").inner_text() == "1"
    for _ in range(steps - 1):
        next_step(page)
    click_and_wait(page, button(page, "提交申请"))
    click_and_wait(page, page.get_by_role("alertdialog").get_by_role("button", name="直接提交"))
    assert any("申请已提交" in t for t in flash_texts(page)), flash_texts(page)
    number = page.locator("#app-number").inner_text()
    stage = page.locator("#current-stage").inner_text()
    assert number and stage
    no_horizontal_scroll(page)
    shots(page, "submitted")

    click_and_wait(page, page.get_by_role("link", name="我的申请", exact=True))
    card = page.locator("li.card", has_text=number)
    assert card.is_visible()
    assert "办理中" in card.inner_text() and stage in card.inner_text()
    no_horizontal_scroll(page)
    shots(page, "my-applications")

    click_and_wait(page, card.get_by_role("link", name="放弃申请"))
    dialog = page.get_by_role("alertdialog", name="确认放弃申请")
    consequence = page.locator("#withdraw-consequence").inner_text()
    assert "放弃" in consequence and len(consequence) > 10
    shots(page, "withdraw-consequence")
    click_and_wait(page, dialog.get_by_role("button", name="确认放弃申请"))
    assert any("已放弃" in t for t in flash_texts(page)), flash_texts(page)
    assert "已放弃" in page.locator("#app-status").inner_text()
    shots(page, "withdrawn")

    with live_server.platform.sessions() as db:
        app = db.scalar(sql_select(Application).where(Application.number == number))
        assert app.status == "closed" and app.result == "withdrawn"
        assert db.scalar(sql_select(func.count()).select_from(Event).where(
            Event.application_id == app.id, Event.action == SUBMIT_EVENT)) == 1


# --------------------------------------------------------------------------- 江西省


def test_jiangxi_journey(live_server, page, another_device, shots, tmp_path):
    who = citizen(JX, married=True)
    spouse, child = who.spouse, who.children[0]
    schema = form_schema(JX)
    defs = schema["$defs"]
    cat_id, cat_title = simplest_category(JX)
    base = live_server.url
    begin(page, base, who, shots)

    # 申请类别
    assert current_step(page) == "申请类别"
    body = step_body(page)
    mode = schema["properties"]["category"]["properties"]["guarantee_mode"]
    choose(body, mode["title"], mode["x-enum-titles"][0])
    select(body, category_field(JX)[0], cat_title)
    settle(page)
    no_horizontal_scroll(page)
    shots(page, "step-category")
    save(page)
    next_step(page)

    # 家庭成员: the applicant
    assert current_step(page) == "家庭成员"
    applicant = group(step_body(page), "申请人")
    basic = group(applicant, "基础信息")
    field(basic, "姓名").fill(who.name)
    field(basic, "公民身份号码").fill(who.id_number)
    choose(basic, "性别", "男")
    field(basic, "手机号码").fill(who.mobile)
    select(basic, "婚姻状况", "已婚")
    field(basic, "户籍地址").fill(child.address)
    settle(page)
    work = group(applicant, "就业信息")
    employed = enum_title(defs["employment_info"]["properties"]["employment_status"], "employed")
    assert field(work, "工作单位").count() == 0
    mark_page(page)
    select(work, "就业状况", employed)
    # the dependent fields appear without a new page
    field(work, "工作单位").wait_for()
    assert same_document(page)
    field(work, "工作单位").fill("南昌示例科技有限公司")
    field(work, "工作单位统一社会信用代码").fill(uscc())
    field(work, "在本单位（本地）就业起始日期").fill("2019-07-01")
    field(work, "月收入").fill("2600")
    home = group(applicant, "居住信息")
    field(home, "现居住地址").fill(child.address)
    select(home, "现住房类型", "租住私房")
    field(home, "现住房建筑面积").fill("28.5")
    settle(page)
    shots(page, "step-members-applicant")

    # 暂存, sign out, sign in on another device: the draft is there, at this step, as it was
    save(page)
    sign_out(page)
    other = another_device(page)
    sign_in(other, base, who)
    click_and_wait(other, other.get_by_role("link", name="我的申请", exact=True))
    draft = other.locator("li.card", has_text="草稿")
    shots(other, "resume-on-another-device")
    click_and_wait(other, draft.get_by_role("link", name="继续填写"))
    assert current_step(other) == "家庭成员"
    basic = group(group(step_body(other), "申请人"), "基础信息")
    assert field(basic, "姓名").input_value() == who.name
    assert field(basic, "婚姻状况").input_value() == "married"
    assert field(group(step_body(other), "就业信息").first, "工作单位").input_value() == "南昌示例科技有限公司"
    page = other

    # co-applicants: add two, remove one
    co = group(step_body(page), "共同申请人")
    click_and_wait(page, button(co, "添加共同申请人"))
    click_and_wait(page, button(group(step_body(page), "共同申请人"), "添加共同申请人"))
    assert group(step_body(page), "共同申请人 2").count() == 1
    for index, person, relation in ((1, spouse, "配偶"), (2, child, "子女")):
        item = group(step_body(page), f"共同申请人 {index}")
        select(item, "与申请人关系", relation)
        b = group(item, "基础信息")
        field(b, "姓名").fill(person.name)
        field(b, "公民身份号码").fill(person.id_number)
        choose(b, "性别", person.gender)
        select(b, "婚姻状况", "已婚" if person is spouse else "未婚")
        field(b, "户籍地址").fill(person.address)
        w = group(item, "就业信息")
        select(w, "就业状况", "无业或失业" if person is spouse else "在校学生")
        field(w, "月收入").fill("0")
        r = group(item, "居住信息")
        field(r, "现居住地址").fill(person.address)
        select(r, "现住房类型", "租住私房")
        field(r, "现住房建筑面积").fill("28.5")
    settle(page)
    shots(page, "step-members-co-applicants")
    click_and_wait(page, button(group(step_body(page), "共同申请人 2"), "删除此项"))
    assert group(step_body(page), "共同申请人 2").count() == 0
    assert field(group(group(step_body(page), "共同申请人 1"), "基础信息"), "姓名").input_value() == spouse.name
    next_step(page)
    assert current_step(page) == "家庭资产", flash_texts(page)

    # 家庭资产: a yes shows the vehicle list at once, a no hides it again
    body = step_body(page)
    assets = schema["properties"]["assets"]["properties"]
    mark_page(page)
    choose(body, assets["has_vehicle"]["title"], "是")
    button(body, "添加车辆").wait_for()
    assert same_document(page)
    shots(page, "step-assets-vehicle-yes")
    choose(body, assets["has_vehicle"]["title"], "否")
    button(body, "添加车辆").wait_for(state="detached")
    choose(body, assets["has_real_estate"]["title"], "否")
    choose(body, assets["has_business_registration"]["title"], "否")
    field(body, assets["deposits_and_securities"]["title"]).fill("8000")
    signing = assets["authorization"]["properties"]["signing_method"]
    choose(body, signing["title"], enum_title(signing, "handwritten"))
    page.locator("canvas.signature-pad").wait_for()
    draw_signature(page)
    shots(page, "step-assets-signed")
    next_step(page)
    assert current_step(page) == "申请材料", flash_texts(page)

    # 申请材料: e-licences already there, 重新获取 refreshes them; upload what the checklist says is missing
    card = group(step_body(page), "身份证（电子证照）")
    assert who.name in card.inner_text() and who.id_number in card.inner_text()
    click_and_wait(page, button(card, "重新获取"))
    assert not page.locator(".flash-error").count(), flash_texts(page)
    assert who.name in group(step_body(page), "身份证（电子证照）").inner_text()
    shots(page, "step-materials")
    uploaded = upload_missing(page, tmp_path)
    assert uploaded, "the chosen category asks for uploads"
    assert not page.locator("#checklist .bad").count()
    no_horizontal_scroll(page)
    shots(page, "step-materials-uploaded")
    confirm_submit_and_follow(page, live_server, shots, steps=4)
    assert cat_id


# --------------------------------------------------------------------------- 梅州市梅江区


def test_meijiang_journey(live_server, page, another_device, shots, tmp_path):
    who = citizen(MZ, married=True)
    spouse = who.spouse
    schema = form_schema(MZ)
    _cat_id, cat_title = simplest_category(MZ)
    base = live_server.url
    begin(page, base, who, shots)

    # 申请类别
    body = step_body(page)
    choose(body, category_field(MZ)[0], cat_title)
    mode = schema["properties"]["category"]["properties"]["support_mode"]
    choose(body, mode["title"], mode["x-enum-titles"][0])
    settle(page)
    shots(page, "step-category")
    next_step(page)

    # 家庭成员: name and ID number come from the e-licence
    assert current_step(page) == "家庭成员"
    applicant = group(step_body(page), "申请人")
    assert field(applicant, "姓名").input_value() == who.name
    assert field(applicant, "公民身份号码").input_value() == who.id_number
    field(applicant, "手机号码").fill(who.mobile)
    select(applicant, "婚姻状况", "已婚")
    select(applicant, "户籍所在地", "梅州市梅江区")
    field(applicant, "月收入（元/月）").fill("1800")
    save(page)
    sign_out(page)
    page = another_device(page)
    sign_in(page, base, who)
    click_and_wait(page, page.get_by_role("link", name="我的申请", exact=True))
    click_and_wait(page, page.locator("li.card", has_text="草稿").get_by_role("link", name="继续填写"))
    assert current_step(page) == "家庭成员"
    assert field(group(step_body(page), "申请人"), "手机号码").input_value() == who.mobile

    members = group(step_body(page), "共同申请的家庭成员")
    click_and_wait(page, button(members, "添加家庭成员"))
    click_and_wait(page, button(group(step_body(page), "共同申请的家庭成员"), "添加家庭成员"))
    item = step_body(page).locator("fieldset[data-path='members.co_applicants.0']")
    field(item, "姓名").fill(spouse.name)
    field(item, "公民身份号码").fill(spouse.id_number)
    select(item, "与申请人关系", "配偶")
    field(item, "月收入（元/月）").fill("1500")
    settle(page)
    shots(page, "step-members")
    second = step_body(page).locator("fieldset[data-path='members.co_applicants.1']")
    click_and_wait(page, button(second, "删除此项"))
    assert step_body(page).locator("fieldset[data-path='members.co_applicants.1']").count() == 0
    # the household size is computed on the server as the citizen goes
    assert "2" in step_body(page).locator("output[data-computed=household_size]").inner_text()
    next_step(page)
    assert current_step(page) == "住房情况", flash_texts(page)

    # 住房情况: a yes asks for the explanation at once; a no hides it
    body = step_body(page)
    housing = schema["properties"]["housing"]["properties"]
    field(body, housing["current_address"]["title"]).fill("广东省梅州市梅江区金山街道演示社区一演示路1号")
    choose(body, housing["resides_in_urban_area"]["title"], "是")
    field(body, housing["current_housing"]["title"]).fill("租住私房")
    choose(body, housing["owns_property"]["title"], "否")
    field(body, housing["owned_housing_area_total"]["title"]).fill("0")
    choose(body, housing["property_deals_within_5_years"]["title"], "否")
    detail = housing["other_housing_benefits_detail"]["title"]
    mark_page(page)
    choose(body, housing["other_housing_benefits"]["title"], "是")
    field(body, detail).wait_for()
    assert same_document(page)
    shots(page, "step-housing-benefits-yes")
    choose(body, housing["other_housing_benefits"]["title"], "否")
    field(body, detail).wait_for(state="detached")
    settle(page)
    next_step(page)
    assert current_step(page) == "家庭资产", flash_texts(page)

    body = step_body(page)
    assets = schema["properties"]["assets"]["properties"]
    field(body, assets["deposits"]["title"]).fill("12000")
    field(body, assets["securities"]["title"]).fill("0")
    settle(page)
    shots(page, "step-assets")
    next_step(page)
    assert current_step(page) == "申请材料", flash_texts(page)

    shots(page, "step-materials")
    assert upload_missing(page, tmp_path)
    assert not page.locator("#checklist .bad").count()
    no_horizontal_scroll(page)
    shots(page, "step-materials-uploaded")
    confirm_submit_and_follow(page, live_server, shots, steps=5)
