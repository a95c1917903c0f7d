"""Sign-ins beyond the Argon2 bound wait their turn: every one succeeds, one check at a time by default.

The bound (`FORMFLOW_ARGON2_CONCURRENCY`, default 1) keeps a burst of sign-ins to one
64 MiB Argon2id check at a time per process. Here eight API sign-ins start at once
against the default bound: all get their tokens, a wrong password is still refused,
and the checks never overlapped (counted around the real hasher, which still runs).
"""

from __future__ import annotations

import threading

from formflow.auth import passwords
from support import demo_password, make_web_app

ACCOUNTS = ("mj-citizen-chen", "mj-citizen-huang", "mj-community", "mj-street")


def test_concurrent_sign_ins_beyond_the_bound_all_succeed(sqlite_platform, monkeypatch):
    app = make_web_app(sqlite_platform)
    assert passwords.concurrency() == passwords.DEFAULT_CONCURRENCY == 1
    lock, in_flight, peak = threading.Lock(), [0], [0]
    real = passwords.HASHER

    class Counting(type(real)):  # type: ignore[misc]
        def verify(self, hash, password):  # noqa: A002 - the library's own argument name
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            try:
                return real.verify(hash, password)
            finally:
                with lock:
                    in_flight[0] -= 1

    monkeypatch.setattr(passwords, "HASHER", Counting())
    results: list[tuple[str, int, bool]] = []
    start = threading.Barrier(9, timeout=60)

    def sign_in(username: str, password: str) -> None:
        client = app.test_client()
        start.wait()
        r = client.post("/api/v1/tokens", json={"username": username, "password": password})
        with lock:
            results.append((username, r.status_code, bool((r.get_json() or {}).get("access_token"))))

    jobs = [(ACCOUNTS[k % 4], demo_password(ACCOUNTS[k % 4])) for k in range(8)]
    jobs.append((ACCOUNTS[0], "Wrong-password-2026"))
    threads = [threading.Thread(target=sign_in, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    good = [r for r in results if r[1] == 201]
    assert len(good) == 8 and all(token for _name, _code, token in good), results
    assert [code for _name, code, _token in results if code != 201] == [401], results
    assert peak[0] == 1
