"""Browser journeys: Playwright driving Debian's chromium against a live server.

`playwright install` cannot download browsers here: we launch /usr/bin/chromium.
Screenshots of every step go to test-artifacts/<test name>/.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from support import ROOT as CONFIG_ROOT
from support import Platform

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("FORMFLOW_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]  # fmt: skip
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="session")
def chromium_browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        message = f"Debian's chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


def _web_app(platform: Platform):
    """support.make_web_app, reusing the platform's loaded packs (loading them again takes a second)."""
    from formflow.app import create_app
    from formflow.config import Settings

    settings = Settings(config_root=platform.root, instance_dir=platform.instance, database_url=platform.url)
    app = create_app(settings, keys=platform.keys, packset=platform.packs)
    app.config["TESTING"] = True
    app.extensions["formflow.services"].storage = platform.storage
    return app


class LiveServer:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.app = _web_app(platform)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="session")
def _platform_template(tmp_path_factory):
    """One migrated, loaded SQLite platform (packs, offices, demo accounts), built once per session.

    Loading hashes every demo password (seconds); each test gets a byte copy of the database instead.
    """
    folder = tmp_path_factory.mktemp("browser-template")
    platform = Platform(f"sqlite:///{folder / 'p.sqlite3'}", CONFIG_ROOT, folder / "instance")
    platform.engine.dispose()
    return platform


def _copy_platform(template: Platform, folder: Path) -> Platform:
    from formflow.db import make_engine, session_factory
    from formflow.files.storage import LocalStorage

    shutil.copyfile(template.engine.url.database, folder / "p.sqlite3")
    platform = Platform.__new__(Platform)
    platform.url = f"sqlite:///{folder / 'p.sqlite3'}"
    platform.root = template.root
    platform.instance = folder / "instance"
    platform.engine = make_engine(platform.url)
    platform.packs = template.packs
    platform.keys = template.keys
    platform.sessions = session_factory(platform.engine)
    platform.storage = LocalStorage(platform.instance / "files")
    platform.demo_accounts = template.demo_accounts
    return platform


@pytest.fixture
def live_server(_platform_template, tmp_path) -> LiveServer:
    platform = _copy_platform(_platform_template, tmp_path)
    server = LiveServer(platform)
    yield server
    server.stop()
    platform.engine.dispose()


class Shots:
    """Numbered screenshots of one test's steps."""

    def __init__(self, name: str) -> None:
        self.folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, page, label: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request) -> Shots:
    return Shots(request.node.name)


def _context(browser, options):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture(params=["phone", "desktop"])
def page(request, chromium_browser):
    """A page on a phone viewport (375 × 812) and on a desktop one."""
    context = _context(chromium_browser, PHONE if request.param == "phone" else DESKTOP)
    page = context.new_page()
    page.viewport_name = request.param
    yield page
    context.close()


@pytest.fixture
def another_device(chromium_browser, request):
    """Open a page in a fresh browser context (no cookies: another device) with the same viewport as `page`."""
    opened = []

    def open_page(like=None):
        name = getattr(like, "viewport_name", "desktop")
        context = _context(chromium_browser, PHONE if name == "phone" else DESKTOP)
        opened.append(context)
        fresh = context.new_page()
        fresh.viewport_name = name
        return fresh

    yield open_page
    for context in opened:
        context.close()


@pytest.fixture
def desktop_page(chromium_browser):
    context = _context(chromium_browser, DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def no_js_page(chromium_browser):
    context = _context(chromium_browser, {**DESKTOP, "java_script_enabled": False})
    yield context.new_page()
    context.close()
