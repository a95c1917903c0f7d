"""The person's language: English with `Accept-Language: en` or the header switch, Chinese by default.

Every msgid the code and the templates use has its zh_CN translation (extracted the way
Babel does), so the Chinese pages stay exactly what they were.
"""

from __future__ import annotations

import ast
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from support import ROOT, make_web_app

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
KEYWORDS = {"_": None, "lazy": None, "ngettext": (1, 2)}
TRANSLATIONS = ROOT / "platform" / "formflow" / "text" / "translations" / "zh_CN"


# --------------------------------------------------------------------------- what a person sees


class _Visible(HTMLParser):
    """Text a person reads (text, titles, alt, labels, placeholders), leaving out parts marked in another language."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    SHOWN_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder")

    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.stack: list[tuple[str, bool]] = []
        self.parts: list[str] = []

    def _hidden(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        lang = (values.get("lang") or "").lower()
        other_language = tag != "html" and bool(lang) and not lang.startswith(self.language)
        skip = other_language or tag in ("script", "style")
        if not skip and not self._hidden():
            self.parts.extend(values[a] or "" for a in self.SHOWN_ATTRIBUTES if values.get(a))
        if tag not in self.VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._hidden():
            values = dict(attrs)
            self.parts.extend(values[a] or "" for a in self.SHOWN_ATTRIBUTES if values.get(a))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if not self._hidden() and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str, language: str = "en") -> str:
    parser = _Visible(language)
    parser.feed(html)
    return "\n".join(parser.parts)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def pack_texts(app) -> list[str]:
    """Texts the packs own (their names, matter titles and entries): configuration, not the platform's words."""
    texts = []
    for pack in app.extensions["formflow"]["packs"].packs.values():
        texts.append(pack.name)
        texts += _strings(pack.manifest.content)
        for matter in pack.matters.values():
            texts.append(matter.title)
            texts += _strings(matter.entry)
    return sorted({t for t in texts if t}, key=len, reverse=True)


def chinese_left(app, html: str) -> list[str]:
    """Lines of the visible English page that still hold Chinese once the packs' own texts are taken out."""
    text = visible_text(html, "en")
    for known in pack_texts(app):
        text = text.replace(known, "")
    return [line for line in text.splitlines() if CJK.search(line)]


def main_of(html: str) -> str:
    found = re.search(r"<main\b.*?</main>", html, re.S)
    assert found, "no <main> on the page"
    return found.group()


# --------------------------------------------------------------------------- pages


def test_visible_text_helper_finds_chinese_and_skips_marked_language():
    html = ('<html lang="en"><body><p>Hello</p><button lang="zh-CN">中文</button>'
            '<img alt="已签名"><script>var x = "脚本";</script></body></html>')
    assert visible_text(html) == "Hello\n已签名"


@pytest.mark.parametrize("path", ["/", "/auth/login"])
def test_public_pages_in_english(web, path):
    response = web.get(path, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert chinese_left(web.app, html) == []
    assert "Sign in" in visible_text(html)


def test_sign_in_page_in_english_has_its_words(web):
    text = visible_text(web.get("/auth/login", headers=EN).get_data(as_text=True))
    for words in ("Account and password", "Mobile code", "Password", "Send me a code"):
        assert words in text


def test_refused_sign_in_in_english(web):
    response = web.client.post("/auth/login", headers=EN, data={
        "username": "mj-citizen-chen", "password": "Wrong-password-1", "csrf_token": web.csrf()})
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "Wrong account or password" in html and chinese_left(web.app, html) == []


def test_portal_home_in_english(web):
    web.login("mj-citizen-chen")
    html = web.get("/portal/", headers=EN).get_data(as_text=True)
    # the WHOLE page: the portal's layout (header, skip link, account links) as much as its content
    assert '<html lang="en">' in html
    text = visible_text(html)
    for words in ("Services", "Skip to content", "My applications", "Sign out"):
        assert words in text
    assert chinese_left(web.app, html) == []


def _form_texts(app) -> list[str]:
    """Texts of the packs' forms (step and field titles, help, choices): configuration, not the platform's words."""
    platform = app.extensions["formflow"]["packs"]
    texts = [*_strings(platform.common)]
    for pack in platform.packs.values():
        for matter in pack.matters.values():
            texts += _strings(matter.form.content if matter.form else {})
            texts += _strings(matter.materials.content if matter.materials else {})
    return sorted({t for t in texts if t}, key=len, reverse=True)


def test_portal_wizard_step_in_english(web, sqlite_platform):
    """A step of the wizard (stepper, checklist, buttons, flash) in English: only the packs' own texts stay Chinese."""
    from sqlalchemy import select

    from formflow.db.models import Account, Application, Office
    from formflow.packs.versions import pin

    pack, matter = "meizhou-meijiang", "public-rental-housing"
    with sqlite_platform.sessions.begin() as s:
        citizen = s.scalar(select(Account).where(Account.username == "mj-citizen-chen"))
        office = s.get(Office, "441402001001")
        app = Application(pack=pack, matter=matter, status="draft", applicant_id=citizen.id, office_id=office.id,
                          office_path=office.path, versions=pin(s, sqlite_platform.packs, pack, matter),
                          data={"category": {"applicant_category": "low-income"}}, category="low-income",
                          current_step="materials", stages=[])
        s.add(app)
        s.flush()
        app_id = app.id
    web.login("mj-citizen-chen")
    chinese = web.get(f"/portal/applications/{app_id}/step/materials").get_data(as_text=True)
    response = web.get(f"/portal/applications/{app_id}/step/materials", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="en">' in html
    text = visible_text(html)
    for words in ("Material checklist", "Save draft", "Previous step", "Submit the application", "Step 5 of 5"):
        assert words in text
    for words in ("材料清单", "暂存", "上一步", "提交申请", "第 5 步，共 5 步"):  # the Chinese page as before
        assert words in chinese
    left = visible_text(html, "en")
    for known in pack_texts(web.app) + _form_texts(web.app):
        left = left.replace(known, "")
    assert [line for line in left.splitlines() if CJK.search(line)] == []


def test_error_page_in_english(web):
    response = web.get("/no-such-page", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "The page does not exist, or you may not see it." in html
    assert chinese_left(web.app, html) == []


@pytest.mark.parametrize("path", ["/", "/auth/login", "/no-such-page"])
def test_default_is_chinese_as_before(web, path):
    plain = web.get(path).get_data(as_text=True)
    chinese = web.get(path, headers=ZH).get_data(as_text=True)
    token = re.compile(r'(csrf[-_]token"? (?:content|value)=")[^"]+')
    assert token.sub("", plain) == token.sub("", chinese)
    assert '<html lang="zh-CN">' in plain
    assert "formflow 政务服务" in plain and ">登录</a>" in plain


def test_sign_in_page_in_chinese_reads_as_before(web):
    html = web.get("/auth/login").get_data(as_text=True)
    for words in ("<h1>登录</h1>", 'aria-label="登录方式"', "账号密码</a>", "手机验证码</a>",
                  '<label for="username">账号</label>', "<button type=\"submit\">获取验证码</button>"):
        assert words in html


def test_language_switch_overrides_the_header(web):
    token = web.csrf()
    response = web.client.post("/auth/locale", headers=ZH,
                               data={"locale": "en", "next": "/auth/login", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")
    html = web.get("/auth/login", headers=ZH).get_data(as_text=True)
    assert '<html lang="en">' in html and chinese_left(web.app, html) == []
    web.client.post("/auth/locale", headers=EN, data={"locale": "zh_CN", "next": "/", "csrf_token": token})
    html = web.get("/", headers=EN).get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "办事服务" in html


def test_language_choice_survives_signing_in_and_out(web):
    web.client.post("/auth/locale", data={"locale": "en", "next": "/", "csrf_token": web.csrf()})
    assert web.login("mj-citizen-chen").status_code == 302
    html = web.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html and "Change password" in html
    web.post("/auth/logout", token_from="/")
    html = web.get("/").get_data(as_text=True)
    assert "You have signed out" in html and '<html lang="en">' in html


def test_unknown_language_choice_is_ignored(web):
    web.client.post("/auth/locale", data={"locale": "xx", "next": "//evil.example/", "csrf_token": web.csrf()})
    response = web.get("/")
    assert '<html lang="zh-CN">' in response.get_data(as_text=True)


# --------------------------------------------------------------------------- the API


@pytest.fixture
def api(sqlite_platform):
    return make_web_app(sqlite_platform).test_client(use_cookies=False)


@pytest.mark.parametrize(("request_", "status", "code", "english", "chinese"), [
    (("post", "/api/v1/tokens", {"username": "mj-citizen-chen", "password": "Wrong-password-1"}),
     401, "invalid_credentials", "Wrong account or password", "账号或密码错误"),
    (("get", "/api/v1/me", None), 401, "unauthorized",
     "Please sign in first (the access token is missing or invalid)", "请先登录（缺少或无效的访问令牌）"),
    (("get", "/api/v1/nothing-here", None), 404, "not_found",
     "The resource does not exist or is outside your reach", "资源不存在或不在您的办理范围内"),
])
def test_api_error_in_english_keeps_its_code(api, request_, status, code, english, chinese):
    method, path, body = request_
    english_answer = getattr(api, method)(path, json=body, headers=EN)
    chinese_answer = getattr(api, method)(path, json=body)
    assert english_answer.status_code == chinese_answer.status_code == status
    assert english_answer.json["error"]["code"] == chinese_answer.json["error"]["code"] == code
    assert english_answer.json["error"]["message"] == english
    assert chinese_answer.json["error"]["message"] == chinese


def test_api_field_messages_in_english(api):
    body = {"username": "", "extra": 1}
    english = api.post("/api/v1/tokens", json=body, headers=EN).json["error"]
    chinese = api.post("/api/v1/tokens", json=body).json["error"]
    assert english["code"] == chinese["code"] == "invalid"
    assert {(f["pointer"], f["message"]) for f in english["fields"]} == {
        ("/username", "Length should be between 1 and 64"), ("/password", "Required"), ("/extra", "Field not allowed")}
    assert {(f["pointer"], f["message"]) for f in chinese["fields"]} == {
        ("/username", "长度应在 1–64 之间"), ("/password", "必填"), ("/extra", "不允许的字段")}


def test_openapi_document_follows_the_language(api):
    english = api.get("/api/v1/openapi.json", headers=EN).json
    chinese = api.get("/api/v1/openapi.json").json
    assert english["info"]["title"] == "formflow API" and chinese["info"]["title"] == "formflow 接口"
    assert english["x-error-codes"].keys() == chinese["x-error-codes"].keys()
    assert english["paths"].keys() == chinese["paths"].keys()
    assert english["paths"]["/api/v1/tokens"]["post"]["tags"] == ["Tokens and account"]
    docs = api.get("/api/v1/docs", headers=EN).get_data(as_text=True)
    assert '<html lang="en">' in docs and "Parameters" in docs


def test_marshmallow_messages_without_words_become_invalid_format(sqlite_platform):
    from formflow.api.errors import translate

    app = make_web_app(sqlite_platform)
    with app.test_request_context(headers=EN):
        assert translate("Not a valid email address.") == "Invalid format"
        assert translate('"x" cannot be formatted as a date.') == "Invalid format"
        assert translate("Must be one of: a, b.") == "Should be one of: a, b"
        assert translate("The office is closed on that day") == "The office is closed on that day"
    with app.test_request_context():
        assert translate("Not a valid email address.") == "格式不正确"
        assert translate("该日不办公") == "该日不办公"


# --------------------------------------------------------------------------- the catalogue


def _inline_templates(root: Path):
    """msgids inside Jinja templates written as Python strings (error page, API description pages)."""
    from jinja2.ext import babel_extract

    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "{{" in node.value \
                    and "_(" in node.value:
                for lineno, _func, message, _comments in babel_extract(
                        io.BytesIO(node.value.encode()), list(KEYWORDS), [], {}):
                    yield path, node.lineno + lineno - 1, message


def used_msgids() -> dict[str, str]:
    """msgid → where it is first used, in platform/ and renderers/html (Babel's python and jinja2 extractors)."""
    found: dict[str, str] = {}
    sources = [(ROOT / "platform", [("**.py", "python")]), (ROOT / "renderers" / "html", [("**.html", "jinja2")])]
    for folder, method_map in sources:
        for filename, lineno, message, _comments, _context in extract_from_dir(
                str(folder), method_map, keywords=KEYWORDS):
            for msgid in (message if isinstance(message, tuple) else (message,)):
                if msgid:
                    found.setdefault(msgid, f"{folder.name}/{filename}:{lineno}")
    for path, lineno, message in _inline_templates(ROOT / "platform"):
        for msgid in (message if isinstance(message, tuple) else (message,)):
            if msgid:
                found.setdefault(msgid, f"{path.relative_to(ROOT)}:{lineno}")
    return found


def zh_catalogue() -> dict[str, str]:
    out: dict[str, str] = {}
    for path in sorted(TRANSLATIONS.glob("*.po")):
        with path.open("rb") as fh:
            for message in read_po(fh, locale="zh_CN"):
                if message.id:
                    out[message.id if isinstance(message.id, str) else message.id[0]] = (
                        message.string if isinstance(message.string, str) else message.string[0])
    return out


def test_every_msgid_has_a_chinese_translation():
    catalogue = zh_catalogue()
    missing = sorted(f"{where}: {msgid!r}" for msgid, where in used_msgids().items() if not catalogue.get(msgid))
    assert missing == [], "msgids without a zh_CN translation:\n" + "\n".join(missing)


def test_the_extraction_sees_python_templates_and_inline_templates():
    used = used_msgids()
    assert "Wrong account or password" in used            # python, _()
    assert "Tokens and account" in used                   # python, lazy()
    assert "Account and password" in used                 # renderers/html
    assert "Back to the home page" in used                # a template inside web/errors.py


def test_translations_keep_their_placeholders():
    field = re.compile(r"%\((\w+)\)s")
    wrong = []
    for path in sorted(TRANSLATIONS.glob("*.po")):
        with path.open("rb") as fh:
            for message in read_po(fh, locale="zh_CN"):
                if message.id and isinstance(message.id, str) and \
                        sorted(field.findall(message.id)) != sorted(field.findall(message.string)):
                    wrong.append(f"{path.name}: {message.id!r} → {message.string!r}")
    assert wrong == []


def test_portal_pages_offer_the_language_switch_too(web):
    """A citizen on the portal (its own layout) can switch language and the portal follows."""
    web.login("mj-citizen-chen")
    html = web.get("/portal/my", headers=ZH).get_data(as_text=True)
    assert 'id="locale-switch"' in html and '<html lang="zh-CN">' in html
    web.client.post("/auth/locale", headers=ZH, data={"locale": "en", "next": "/portal/my", "csrf_token": web.csrf()})
    html = web.get("/portal/my", headers=ZH).get_data(as_text=True)
    assert '<html lang="en">' in html and "My applications" in visible_text(html)
