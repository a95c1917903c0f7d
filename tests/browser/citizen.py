"""What a citizen does in the portal, the way a person does it: labels, visible buttons, Chinese text.

Valid answers come from the pack files: the demo citizens and their households (seeds/<pack>/demo.yaml,
elicences.yaml), the category list (the form field marked `x-category`) and the material catalogue
(materials.yaml). Nothing here reads the database: the tests do that for their own assertions.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from support import ROOT, demo_password

MATTER = "public-rental-housing"


def _yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def form_schema(pack: str) -> dict:
    return json.loads((ROOT / "schemas" / pack / MATTER / "form.schema.json").read_text(encoding="utf-8"))


def pack_manifest(pack: str) -> dict:
    return _yaml(ROOT / "schemas" / pack / "pack.yaml")


def category_field(pack: str) -> tuple[str, list[str], list[str]]:
    """(title, ids, titles) of the form's applicant-category field (`x-category`)."""

    def visit(schema):
        if not isinstance(schema, dict):
            return None
        if schema.get("x-category") is True:
            return schema
        for sub in (schema.get("properties") or {}).values():
            found = visit(sub)
            if found:
                return found
        return None

    found = visit(form_schema(pack))
    assert found, f"{pack}: no x-category field"
    return found["title"], list(found["enum"]), list(found["x-enum-titles"])


def simplest_category(pack: str) -> tuple[str, str]:
    """(id, title) of the category asking for the fewest uploads (e-licences and signatures aside)."""
    catalogue = _yaml(ROOT / "schemas" / pack / MATTER / "materials.yaml")
    kinds = catalogue["kinds"]
    _title, ids, titles = category_field(pack)

    def uploads(cat_id: str) -> int:
        required = [*((catalogue.get("common") or {}).get("required") or []),
                    *(catalogue["categories"][cat_id].get("required") or [])]
        names = [r if isinstance(r, str) else r["kind"] for r in required]
        return sum(1 for k in names if not kinds[k].get("source") and not kinds[k].get("signature"))

    best = min(ids, key=lambda c: (uploads(c), ids.index(c)))
    return best, titles[ids.index(best)]


def enum_title(schema: dict, value: str) -> str:
    return schema["x-enum-titles"][schema["enum"].index(value)]


@dataclass
class Person:
    name: str
    id_number: str
    relation: str = ""  # as the hukou says (妻, 配偶, 子…)
    gender: str = ""
    birth_date: str = ""
    address: str = ""


@dataclass
class Citizen:
    pack: str
    username: str
    password: str
    name: str
    id_number: str
    mobile: str
    household: list[Person] = field(default_factory=list)  # the others in the hukou

    @property
    def spouse(self) -> Person | None:
        return next((p for p in self.household if p.relation in ("妻", "夫", "配偶")), None)

    @property
    def children(self) -> list[Person]:
        return [p for p in self.household if p.relation in ("子", "女")]


def citizen(pack: str, *, married: bool) -> Citizen:
    """A demo citizen of `pack` (married or not, as the e-licence household shows)."""
    accounts = _yaml(ROOT / "seeds" / pack / "demo.yaml")["accounts"]
    records = {r["id_number"]: r for r in _yaml(ROOT / "seeds" / pack / "elicences.yaml")["records"]}
    for acc in accounts:
        if not any(r["role"] == "citizen" for r in acc["roles"]) or acc["id_number"] not in records:
            continue
        hukou = records[acc["id_number"]]["hukou"]
        me = next(m for m in hukou["members"] if m["id_number"] == acc["id_number"])
        others = []
        for m in hukou["members"]:
            if m is me:
                continue
            card = (records.get(m["id_number"]) or {}).get("idcard") or {}
            # relations are to the household head: they are the citizen's own only if the citizen is the head
            relation = m["relation"] if me["relation"] == "户主" else ""
            others.append(Person(m["name"], m["id_number"], relation, card.get("gender", ""),
                                 card.get("birth_date", ""), card.get("address", hukou["address"])))
        has_spouse = any(p.relation in ("妻", "夫", "配偶") for p in others)
        if has_spouse == married:
            return Citizen(pack, acc["username"], demo_password(acc["username"]), acc["name"],
                           acc["id_number"], acc.get("mobile", ""), others)
    raise LookupError(f"{pack}: no demo citizen with married={married}")


def uscc(prefix: str = "91360102MA3") -> str:
    """A well-formed unified social credit code (check character computed)."""
    from formflow.forms.formats import uscc_check_char

    first = (prefix + "5ABCDEFGH")[:17]
    return first + uscc_check_char(first)


# --------------------------------------------------------------------------- files


def png_file(folder: Path, name: str = "scan.png", colour: str = "#2a6") -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 200), "white")
    ImageDraw.Draw(image).rectangle((20, 20, 300, 180), outline=colour, width=6)
    path = folder / name
    image.save(path, format="PNG")
    return path


def pdf_file(folder: Path, name: str = "证明.pdf") -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(0, 10, "formflow browser journey - test document")
    path = folder / name
    buffer = io.BytesIO()
    pdf.output(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def elf_file(folder: Path, name: str = "x.pdf") -> Path:
    """An executable's bytes under a PDF name."""
    path = folder / name
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(200))
    return path


# --------------------------------------------------------------------------- page helpers


def start_with(text: str) -> re.Pattern:
    return re.compile("^" + re.escape(text))


def group(scope, name: str):
    """A fieldset by its legend (the accessible name starts with it)."""
    return scope.get_by_role("group", name=start_with(name))


def labelled(text: str) -> re.Pattern:
    """A label's accessible name: the title, then perhaps the required mark (必填 / 必交)."""
    return re.compile("^" + re.escape(text) + r"\s*(必填|必交|\*)?$")


def field(scope, label: str):
    return scope.get_by_label(labelled(label))


def choose(scope, question: str, answer: str) -> None:
    """Tick the radio `answer` of the yes/no or choice question `question`."""
    group(scope, question).get_by_label(answer, exact=True).check()


def select(scope, label: str, option: str) -> None:
    field(scope, label).select_option(label=option)


def button(scope, text: str):
    return scope.get_by_role("button", name=text, exact=True)


def settle(page) -> None:
    """Wait until the live step re-render (portal.js fragment request) has answered."""
    page.wait_for_load_state()
    page.locator("#step-body[aria-busy]").wait_for(state="detached", timeout=10_000)


def click_and_wait(page, locator) -> None:
    """Click a control that posts the page, and wait for the new page."""
    with page.expect_navigation():
        locator.click()
    page.wait_for_load_state()


def current_step(page) -> str:
    return page.locator(".stepper [aria-current=step] .name").inner_text().strip()


def flash_texts(page) -> list[str]:
    return [t.strip() for t in page.locator(".flash").all_inner_texts()]


# --------------------------------------------------------------------------- journey pieces


def sign_in(page, base: str, who: Citizen, shots=None) -> None:
    page.goto(base + "/auth/login")
    page.get_by_label("账号").fill(who.username)
    page.get_by_label("密码").fill(who.password)
    if shots:
        shots(page, "login")
    click_and_wait(page, page.locator("#password-login").get_by_role("button", name="登录"))
    assert page.get_by_role("button", name="退出").count() == 1, flash_texts(page)


def sign_out(page) -> None:
    click_and_wait(page, page.get_by_role("button", name="退出"))


def open_matter(page, base: str, pack: str, shots=None) -> None:
    """From the portal home: the locality's section, the matter, 现在去申请, the agreement, the region."""
    manifest = pack_manifest(pack)
    page.goto(base + "/portal/")
    section = page.locator("section.card", has=page.get_by_role("heading", name=manifest["name"]))
    click_and_wait(page, section.get_by_role("link").first)
    assert page.get_by_role("heading", name="申请须知").is_visible()
    if shots:
        shots(page, "guide")
    click_and_wait(page, page.get_by_role("link", name="现在去申请"))
    assert page.get_by_role("button", name="同意授权").is_visible()
    if shots:
        shots(page, "agreement")
    click_and_wait(page, page.get_by_role("button", name="同意授权"))


def choose_region(page, shots=None) -> str:
    region = page.get_by_label("申请区域")
    options = [o for o in region.locator("option").all_inner_texts() if o != "请选择"]
    region.select_option(label=options[0])
    if shots:
        shots(page, "region")
    click_and_wait(page, page.get_by_role("button", name="去申请"))
    while page.locator("#region-narrow").count():  # a city: narrow down to the office that accepts
        if shots:
            shots(page, "region-narrow")
        region = page.get_by_label("申请区域")
        options = [o for o in region.locator("option").all_inner_texts() if o != "请选择"]
        region.select_option(label=options[0])
        click_and_wait(page, page.get_by_role("button", name="去申请"))
    assert page.get_by_role("heading", name="确认申请区域").is_visible()
    chosen = page.locator("#chosen-region").inner_text()
    if shots:
        shots(page, "region-confirm")
    click_and_wait(page, page.get_by_role("button", name="确认，继续申请"))
    return chosen


def verify_identity(page, who: Citizen, shots=None, *, id_number: str | None = None) -> None:
    assert page.get_by_role("heading", name="身份验证").is_visible()
    page.get_by_label("姓名").fill(who.name)
    page.get_by_label("公民身份号码").fill(id_number or who.id_number)
    if shots:
        shots(page, "identity")
    click_and_wait(page, page.get_by_role("button", name="同意授权并认证"))


def begin(page, base: str, who: Citizen, shots=None) -> None:
    """Sign in, open the matter, agree, choose the region, verify identity: the wizard's first step."""
    sign_in(page, base, who, shots)
    open_matter(page, base, who.pack, shots)
    choose_region(page, shots)
    verify_identity(page, who, shots)
    assert page.locator("#step-form").count() == 1, flash_texts(page)


def step_body(page):
    return page.locator("#step-body")


def next_step(page) -> None:
    click_and_wait(page, button(page, "下一步"))


def save(page) -> None:
    click_and_wait(page, button(page, "暂存"))
    assert any("已暂存" in t for t in flash_texts(page)), flash_texts(page)


def upload(page, title: str, path: Path) -> None:
    """Choose a file for the material `title` and press its 上传 button."""
    box = page.locator("div.field.file", has=page.get_by_label(labelled(title)))
    box.get_by_label(labelled(title)).set_input_files(str(path))
    click_and_wait(page, button(box, "上传"))


def missing_materials(page) -> list[str]:
    """Titles of the checklist rows marked 未提供 (required and not yet provided)."""
    rows = page.locator("#checklist tbody tr", has=page.locator(".bad", has_text="未提供"))
    titles = []
    for i in range(rows.count()):
        cell = rows.nth(i).locator("td").first.inner_text()
        titles.append(re.sub(r"[*＊].*$|（选交）.*$|\s*电子证照$", "", cell).strip())
    return titles


def upload_missing(page, folder: Path, shots=None) -> list[str]:
    done = []
    for i, title in enumerate(missing_materials(page)):
        path = png_file(folder, f"m{i}.png") if i % 2 == 0 else pdf_file(folder, f"材料{i}.pdf")
        upload(page, title, path)
        assert not page.locator(".flash-error").count(), flash_texts(page)
        done.append(title)
    return done


def draw_signature(page) -> None:
    """Sign on the canvas with the mouse (or a finger), then 保存签名."""
    settle(page)
    canvas = page.locator("canvas.signature-pad")
    canvas.evaluate("c => c.scrollIntoView({block: 'center'})")
    box = canvas.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.6)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + w * (0.1 + 0.04 * i), y + h * (0.6 - 0.3 * ((i % 4) / 3)), steps=2)
    page.mouse.up()
    said = []
    page.once("dialog", lambda d: (said.append(d.message), d.dismiss()))
    try:
        with page.expect_response(re.compile(r"/signature$"), timeout=8_000) as answer:
            button(page, "保存签名").click()
    except Exception as exc:
        raise AssertionError(f"the signature was not sent (the page said {said})") from exc
    assert answer.value.ok, answer.value.text()
    page.locator(".signature-image").wait_for()
