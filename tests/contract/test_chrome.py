"""The same sign-in refusal reads the same on every channel, in each language (and the API keeps its code)."""

from __future__ import annotations

import pytest

from contract.chrome_channels import CHANNELS, channel

WRONG = "Wrong-password-1"
LANGUAGES = {"zh": {}, "en": {"Accept-Language": "en"}}

#: scenario → failed attempts before the one observed, API code, message by language
SCENARIOS = {
    "wrong password": (0, "invalid_credentials",
                       {"zh": "账号或密码错误", "en": "Wrong account or password"}),
    "locked after five failures": (5, "throttled", {
        "zh": "该账号因多次登录失败已被锁定，请 15 分钟后再试",
        "en": "This account is locked after repeated failed sign-ins; try again in 15 minutes"}),
}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_sign_in_refusals_read_alike(sqlite_platform, name, scenario, language):
    before, code, messages = SCENARIOS[scenario]
    where = channel(name, sqlite_platform)
    for _attempt in range(before):
        assert where.sign_in(WRONG, {}).refused
    outcome = where.sign_in(WRONG, LANGUAGES[language])
    assert outcome.refused
    assert outcome.message == messages[language]
    if name == "api":
        assert outcome.code == code
