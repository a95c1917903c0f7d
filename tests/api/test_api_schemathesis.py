"""Schemathesis against the served OpenAPI document: no server error, no response contradicting it.

Every operation is exercised with generated data (valid and invalid), signed in
as a citizen and as a reviewer, both with generated path parameters and with
ids that exist (a citizen's draft, a submitted application at the reviewer's
stage). The number of examples is bounded so that the run stays well under 90 s.
The same run on PostgreSQL (marker `postgres`) uses fewer examples, adding under 60 s.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from test_api_journeys import LOCALITY, MATTER, PACK, start, submitted

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 10}
CALLS: list[tuple[str, int]] = []


def _run(operation, headers: dict[str, str], mode: GenerationMode, path_parameters: dict | None,
         failures: list[str], examples: dict[GenerationMode, int] | None = None) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @settings(max_examples=(examples or EXAMPLES)[mode], deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case) -> None:
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        CALLS.append((operation.label, response.status_code))

    try:
        check()
    except KeyboardInterrupt:
        raise
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        # nothing in this operation can be made invalid (no parameters, no body)
    except BaseException as exc:  # noqa: BLE001 - collect every operation's failure, report all at the end
        failures.append(f"{operation.label} [{mode.value}, {'known ids' if path_parameters else 'generated'}]:"
                        f"\n{str(exc)[:1500]}")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_api_conforms_to_its_openapi_document(api):
    _conforms(api, EXAMPLES, min_calls_per_operation=8)


#: PostgreSQL: the same run with fewer examples, so it adds well under 60 s.
PG_EXAMPLES = {GenerationMode.POSITIVE: 4, GenerationMode.NEGATIVE: 2}


@pytest.mark.postgres
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_api_conforms_to_its_openapi_document_on_postgresql(postgres_platform):
    """The same operations and checks on PostgreSQL (its own errors: types, lengths, encodings, locks)."""
    from datetime import date

    from api_support import Api

    api = Api(postgres_platform, date(2026, 3, 2))
    assert api.p.dialect == "postgresql"
    _conforms(api, PG_EXAMPLES, min_calls_per_operation=2)


def _conforms(api, examples: dict[GenerationMode, int], *, min_calls_per_operation: int) -> None:
    CALLS.clear()
    citizen, app = submitted(api)  # mj-citizen-chen: an application now at community_acceptance
    other, draft = start(api, "mj-citizen-huang")  # a draft of the second citizen
    reviewer = api.client("mj-community")
    known = {"app_id": app["id"], "pack_id": PACK, "matter_id": MATTER, "stage_id": "community_acceptance",
             "step_id": "category", "notice_id": 1}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api.app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    # reviewers first, withdrawal last: a generated withdrawal may end the shared application
    operations.sort(key=lambda op: (not op.path.startswith("/api/v1/review/"), op.path.endswith("/withdraw")))
    assert len(operations) >= 30
    for operation in operations:
        token = reviewer.access if operation.path.startswith("/api/v1/review/") else citizen.access
        if operation.path.endswith("/me/identity") or operation.path.endswith("/drafts"):
            token = other.access  # keep the first citizen's state intact for the rest of the run
        headers = {"Authorization": f"Bearer {token}"}
        names = set(re.findall(r"{(\w+)}", operation.path))
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, headers, mode, None, failures, examples)
            if names and mode is GenerationMode.POSITIVE:
                ids = {k: v for k, v in known.items() if k in names}
                if "app_id" in names and not operation.path.startswith("/api/v1/review/"):
                    ids["app_id"] = draft["id"] if "steps" in operation.path else app["id"]
                    headers = {"Authorization": f"Bearer {other.access if 'steps' in operation.path else token}"}
                _run(operation, headers, mode, ids, failures, examples)
    assert not failures, "\n\n".join(failures)
    assert len({label for label, _ in CALLS}) == len(operations), len(CALLS)
    assert len(CALLS) > min_calls_per_operation * len(operations), len(CALLS)
    statuses = {(label, status) for label, status in CALLS}
    assert ("GET /api/v1/review/applications/{app_id}/stages/{stage_id}/marking", 200) in statuses
    assert ("GET /api/v1/applications/{app_id}", 200) in statuses
    # the state the run touched is still consistent: the application can still be read
    assert citizen.get(f"/applications/{app['id']}").status_code == 200
    assert LOCALITY
