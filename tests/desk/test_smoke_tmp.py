from datetime import date
from desk_support import create, MZ, JX
import re

def test_smoke(desk):
    a = create(desk.p, today=date(2026,3,2), category="low-income", with_file=True)
    c = desk.client("mj-community")
    r = c.get(f"/desk/applications/{a}")
    html = r.get_data(as_text=True)
    i = html.find('id="actions-'); print(re.sub(r"\n\s*\n+", "\n", html[i:i+3000]))
    i = html.find('id="citizen-data"'); print(re.sub(r"\n\s*\n+", "\n", html[i:]))
    f = re.search(r'src="(/desk/applications/\d+/files/[0-9a-f]+)"', html).group(1)
    r = c.get(f); print(r.status_code, r.headers)
