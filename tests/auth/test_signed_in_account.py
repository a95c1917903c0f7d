"""`signed_in_account()`: the account of a view that requires one, never None."""

from __future__ import annotations

import pytest
from test_sign_in import citizen_of  # tests/auth is on sys.path (no __init__.py)

from formflow.auth.current import signed_in_account


def test_the_signed_in_citizen_is_the_account(web):
    account = citizen_of("meizhou-meijiang")
    web.login(account["username"], account["password"])
    with web.client:
        web.get("/")
        assert signed_in_account().username == account["username"]


def test_an_anonymous_request_is_a_fault_of_the_view_not_a_none(web):
    with web.app.test_request_context("/"), pytest.raises(RuntimeError, match="does not require"):
        signed_in_account()
