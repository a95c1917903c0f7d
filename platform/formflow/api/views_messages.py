"""My messages on the API: the signed-in person's messages, unread first, and marking one read.

The same use case as the portal (`formflow.usecases.messages`); another person's message is 404.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from formflow.api import common as c
from formflow.api import schemas as s
from formflow.api.routing import ID, route
from formflow.text.catalogue import lazy
from formflow.usecases import messages as messages_uc
from formflow.web.context import services

MESSAGES = lazy("Messages")


class MessageSchema(s.Base):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": lazy("The message kind of the pack")})
    title = fields.String(required=True)
    body = fields.String(required=True)
    application_id = fields.Integer(allow_none=True, required=True)
    link = fields.String(allow_none=True, required=True,
                         metadata={"description": lazy("The application's page on the portal")})
    created_at = s.Instant(required=True)
    read_at = s.Instant(allow_none=True, required=True)
    unread = fields.Boolean(required=True)


class MessageListSchema(s.Base):
    items = fields.List(fields.Nested(MessageSchema), required=True)
    unread = fields.Integer(required=True, metadata={"description": lazy("How many messages are unread")})
    total = fields.Integer(required=True)


def _row(view: messages_uc.MessageView) -> dict[str, Any]:
    return {
        "id": view.id, "kind": view.kind, "title": view.title, "body": view.body,
        "application_id": view.application_id, "link": view.link, "created_at": view.created_at,
        "read_at": view.read_at, "unread": view.unread,
    }


@route("/me/messages", "GET", summary=lazy("My messages, unread first"), tags=[MESSAGES],
       responses={200: MessageListSchema})
def my_messages():
    with c.sessions()() as db:
        box = messages_uc.inbox(services(), db, c.current_account())
    return MessageListSchema().dump({"items": [_row(v) for v in box.items], "unread": box.unread,
                                     "total": box.total})


@route(f"/me/messages/<{ID}:message_id>/read", "POST", summary=lazy("Mark one of my messages read"),
       tags=[MESSAGES], responses={200: MessageSchema}, body_required=False)
def read_message(message_id: int):
    with c.sessions().begin() as db:
        view = messages_uc.mark_read(services(), db, c.current_account(), message_id)
    return MessageSchema().dump(_row(view))
