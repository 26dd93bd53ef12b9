"""schemathesis over the server's own OpenAPI document (``/openapi.json``): no 5xx, no answer the
document does not allow, on SQLite and PostgreSQL.

Every operation gets schema-valid and schema-violating requests (``SCHEMATHESIS_EXAMPLES`` of each,
8 by default so ``make test`` stays quick; e.g. ``SCHEMATHESIS_EXAMPLES=200`` for a long run); each
request is sent to a server on SQLite and, where reachable, one on PostgreSQL.
"""

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from letta_client import Letta
from schemathesis import CheckContext, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from agentbatch.server import ServerThread
from agentbatch.settings import Settings
from tests.support.databases import PostgresTemplate

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))


def negative_data_rejection_outside_the_query(
    ctx: CheckContext, response: Response, case: schemathesis.Case
) -> None:
    """schemathesis's ``negative_data_rejection``, except for mutations of query parameters: a query
    string is untyped text, so a "number" or "null" put where a string (or list of strings) belongs
    arrives as a perfectly valid string, and accepting it is right."""
    phase = case.meta.phase.data if case.meta is not None else None
    if getattr(phase, "parameter_location", None) == ParameterLocation.QUERY:
        return
    negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection_outside_the_query,
]
"""Deliberately left out:

- ``positive_data_acceptance`` (a schema-valid request must succeed): the request schemas are Letta's
  shapes, which cannot state this server's further rules — a model handle must name a configured
  provider, a tool's source must define a function, a turn gives exactly one of ``messages`` and
  ``input``, a cursor must name an item of the list. Such requests rightly get a 400 or 422.
- ``ignored_auth``, ``missing_required_header``: the document declares no security scheme and no
  required header (Letta's local server is open; keys are optional, covered by test_api_keys.py).
- stateful checks (``use_after_free``, ``ensure_resource_availability``): creation and deletion are
  covered by the acceptance tests through the SDK.

Response bodies of successful calls are Letta's shapes, built as plain dicts, so the document describes
them only as JSON objects; the acceptance tests hold them to Letta's models instead (the SDK with
``_strict_response_validation``). Here the response schema check covers the error bodies.
"""


def _seeded(settings: Settings) -> Iterator[ServerThread]:
    with ServerThread(settings) as running:
        # Something to list and page through, so list operations answer with real items.
        client = Letta(base_url=running.base_url, max_retries=0)
        agent = client.agents.create(model="openai/gpt-4o-mini", memory_blocks=[{"label": "h", "value": "x"}])
        client.batches.create(requests=[{"agent_id": agent.id, "input": "hello"}])
        yield running


@pytest.fixture(scope="module")
def fuzzed_servers(
    tmp_path_factory: pytest.TempPathFactory, postgres_template: PostgresTemplate | None
) -> Iterator[dict[str, str]]:
    """A server on SQLite and, where reachable, one on PostgreSQL: each generated request goes to both
    (generating the requests is the costly part, so they are made once)."""
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'agentbatch.db'}"
    with ExitStack() as servers:
        bases = {"sqlite": servers.enter_context(contextmanager(_seeded)(_settings(sqlite_url))).base_url}
        if postgres_template is not None:
            pg_url = postgres_template.clone()
            servers.callback(postgres_template.drop, pg_url)
            bases["postgresql"] = servers.enter_context(contextmanager(_seeded)(_settings(pg_url))).base_url
        yield bases


def _settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, run_worker=False, provider_processes=0)


@pytest.mark.slow
@pytest.mark.timeout(600)  # about 40 s of CPU; generous for a loaded machine
def test_no_operation_answers_5xx_or_outside_its_schema(fuzzed_servers: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzzed_servers['sqlite']}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            )
            def exercise(case: schemathesis.Case) -> None:
                for database, base_url in fuzzed_servers.items():
                    try:
                        case.call_and_validate(base_url=base_url, checks=CHECKS)
                    except Exception as failure:
                        failure.add_note(f"(the server on {database})")
                        raise

            try:
                exercise()
            except Unsatisfiable:
                continue  # nothing to violate (an operation without parameters or body)
            except Exception as failure:  # schemathesis reports a group of distinct failures
                failures.append(
                    f"{operation.label} ({mode.value}):\n{failure}\n{getattr(failure, '__notes__', '')}"
                )

    assert operations >= 15
    assert not failures, "\n\n".join(failures)
