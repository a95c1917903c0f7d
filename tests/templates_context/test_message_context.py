"""A message text (messages.yaml) sees the same documented context as the notices, names masked."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from household import APPLICANT_ID, SPOUSE_ID, create
from sqlalchemy import select

from formflow.db.models import Message, OutboxMessage

MESSAGES = "schemas/meizhou-meijiang/public-rental-housing/messages.yaml"
BODY = ("{{ applicant.name }}家（{{ members | length }}名共同申请人：{% for m in members %}{{ m.name }}{{ m.relation }}"
        "{% endfor %}），{{ application.matter }}已由{% for h in history %}{% if h.action == 'accept' %}"
        "{{ h.office }}{% endif %}{% endfor %}受理，现进入{{ stage }}（{{ stage.office }}），家庭人口"
        "{{ amounts.household_size }}，身份证{{ data.members.applicant.id_number }}，类别{{ category.title }}。")


def _change(root: Path) -> None:
    path = root / MESSAGES
    messages = yaml.safe_load(path.read_text(encoding="utf-8"))
    messages["kinds"]["accepted"]["body"] = BODY
    path.write_text(yaml.safe_dump(messages, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_a_message_text_uses_the_template_context(changed_flow) -> None:
    flow = changed_flow(_change)
    day = date(2026, 3, 2)
    app_id = create(flow, day)
    flow.act(app_id, "community_acceptance", "accept", "mj-community", today=day, mark=True)
    with flow.p.sessions() as s:
        [message] = s.scalars(select(Message).where(Message.application_id == app_id,
                                                    Message.kind == "accepted")).all()
        body = message.content["body"]
        sms = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "sms")).all()
    assert body == ("陈**家（2名共同申请人：李**配偶陈**子女），梅州城区公共租赁住房申请已由金山街道演示社区一受理，"
                    "现进入街道初审（金山街道），家庭人口3 人，身份证4414**********0314，类别中低收入住房困难家庭。")
    assert APPLICANT_ID not in body and SPOUSE_ID not in body
    # the SMS carries the text and only the flat parameters (an SMS template's variables), as before
    [out] = [m for m in sms if m.payload.get("message_kind") == "accepted"]
    assert out.payload["text"] == body
    assert set(out.payload["params"]) == {"name", "matter", "stage", "deadline", "number", "link"}
    assert out.payload["params"]["stage"] == "街道初审" and out.payload["params"]["name"] == "陈**"
