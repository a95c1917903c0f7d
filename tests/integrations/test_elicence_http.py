"""The HTTP e-licence provider against a local stand-in of a national 电子证照 query service."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from formflow.config import Settings
from formflow.integrations.elicence import ElicenceUnavailable, elicence_providers

ID = "360102199003071234"
LICENCES = {
    ("111", ID): {"holderName": "刘䶮", "holderIdentityNum": ID, "address": "江西省南昌市东湖区八一大道1号"},
    ("112", ID): {"hzxm": "刘䶮", "zz": "江西省南昌市东湖区八一大道1号", "cy": [{"xm": "王芳"}]},
}


class StandIn(BaseHTTPRequestHandler):
    """Answers like the query gateway: code "0" with data.licenceData, code "1004" when there is none."""

    seen: list[dict] = []
    mode = "ok"

    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        StandIn.seen.append({"body": body, "auth": self.headers.get("Authorization")})
        if StandIn.mode == "down":
            self.send_response(503)
            self.end_headers()
            return
        if StandIn.mode == "slow":
            time.sleep(2)
        if self.headers.get("Authorization") != "Bearer gateway-token":
            self.send_response(401)
            self.end_headers()
            return
        found = LICENCES.get((body.get("licenceTypeCode"), body.get("holderIdentityNum")))
        answer = {"code": "0", "data": {"licenceData": found}} if found else {"code": "1004", "msg": "无证照"}
        raw = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        try:
            self.wfile.write(raw)
        except BrokenPipeError:  # the client gave up at its timeout (the "slow" case)
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def service(tmp_path, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    StandIn.seen, StandIn.mode = [], "ok"
    config = tmp_path / "elicence-http.yaml"
    config.write_text(f"""
endpoint: http://127.0.0.1:{server.server_port}/api/licence/query
timeout_seconds: 1
auth: {{type: bearer, token_env: FORMFLOW_ELICENCE_TOKEN}}
request:
  body: {{licenceTypeCode: "{{licence_type}}", holderIdentityNum: "{{id_number}}", useFor: 公租房申请}}
found: {{path: code, equals: "0"}}
record: data.licenceData
sources:
  idcard: {{licence_type: "111", fields: {{name: holderName, id_number: holderIdentityNum, address: address}}}}
  hukou: {{licence_type: "112", fields: {{household_head: hzxm, address: zz, first_member: cy.0.xm}}}}
""", encoding="utf-8")
    monkeypatch.setenv("FORMFLOW_ELICENCE_HTTP", str(config))
    monkeypatch.setenv("FORMFLOW_ELICENCE_TOKEN", "gateway-token")
    yield elicence_providers.create("http", Settings())
    server.shutdown()


def test_a_licence_is_fetched_and_mapped_to_the_form_fields(service):
    assert service.fetch("idcard", ID) == {"name": "刘䶮", "id_number": ID, "address": "江西省南昌市东湖区八一大道1号"}
    assert service.fetch("hukou", ID) == {"household_head": "刘䶮", "address": "江西省南昌市东湖区八一大道1号",
                                          "first_member": "王芳"}
    sent = StandIn.seen[0]
    assert sent["auth"] == "Bearer gateway-token"
    assert sent["body"] == {"licenceTypeCode": "111", "holderIdentityNum": ID, "useFor": "公租房申请"}


def test_no_licence_is_none_and_an_outage_is_unavailable(service):
    assert service.fetch("idcard", "360102199001011111") is None  # the service says 无证照
    assert service.fetch("marriage", ID) is None  # a licence the configuration does not know
    StandIn.mode = "down"
    with pytest.raises(ElicenceUnavailable):
        service.fetch("idcard", ID)
    StandIn.mode = "slow"
    with pytest.raises(ElicenceUnavailable):  # the timeout, not a hung page
        service.fetch("idcard", ID)


def test_a_wrong_configuration_stops_the_start_naming_the_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("FORMFLOW_ELICENCE_HTTP", raising=False)
    assert any("FORMFLOW_ELICENCE_HTTP" in p for p in elicence_providers.problems("http", Settings()))
    bad = tmp_path / "bad.yaml"
    bad.write_text("endpoint: ftp://x\nauth: {type: bearer, token_env: NO_SUCH_TOKEN_VAR}\n", encoding="utf-8")
    monkeypatch.setenv("FORMFLOW_ELICENCE_HTTP", str(bad))
    problems = " ".join(elicence_providers.problems("http", Settings()))
    assert "endpoint" in problems and "sources" in problems and "NO_SUCH_TOKEN_VAR" in problems
