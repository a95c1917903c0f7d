import threading
from datetime import date
from werkzeug.serving import make_server
from desk_support import create
from playwright.sync_api import sync_playwright

def test_shots(desk):
    app_id = create(desk.p, today=date(2026,3,2), category="low-income", with_file=True)
    for _ in range(3): create(desk.p, today=date(2026,3,2), category="new-employee")
    desk.app.config["TESTING"] = False
    srv = make_server("127.0.0.1", 8765, desk.app, threaded=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless","--no-sandbox","--disable-gpu","--disable-background-networking","--disable-component-update","--no-first-run"])
            for w, h, tag in ((375, 800, "phone"), (1280, 900, "pc")):
                pg = b.new_page(viewport={"width": w, "height": h})
                errors = []
                pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                pg.goto("http://127.0.0.1:8765/auth/login")
                pg.fill("input[name=username]", "mj-community"); pg.fill("input[name=password]", "Demo-Meijiang-2026")
                with pg.expect_navigation(): pg.press("input[name=password]", "Enter")
                pg.goto("http://127.0.0.1:8765/desk/")
                pg.screenshot(path=f"/tmp/desk-queue-{tag}.png", full_page=True)
                pg.goto(f"http://127.0.0.1:8765/desk/applications/{app_id}")
                pg.click("#all-pass-community_acceptance")
                pg.screenshot(path=f"/tmp/desk-detail-{tag}.png")
                print(tag, "errors:", errors, "overflow:", pg.evaluate("document.documentElement.scrollWidth"))
            b.close()
    finally:
        srv.shutdown()
