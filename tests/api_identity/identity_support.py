"""Helpers of the API identity tests (importable by name, unlike conftest)."""

from __future__ import annotations

import re

#: a mini-program's own client id, accepted as an id_token audience (FORMFLOW_OIDC_AUDIENCES)
MINI_PROGRAM = "mini-program-1"


def sent_code(capsys) -> str:
    """The sign-in code the log SMS sender printed last (as the web's SMS tests read it)."""
    return re.findall(r"验证码为 (\d{6})", capsys.readouterr().out)[-1]
