"""Errors outside the routes are problems too; the OpenAPI document describes the API."""

from __future__ import annotations

from .builders import Api, assert_problem


def test_an_unknown_route_is_a_404_problem(api: Api) -> None:
    response = api.client.get("/v1/nowhere", headers=api.headers("admin"))

    body = assert_problem(response, 404, "no-such-route")
    assert "GET /v1/nowhere" in body["detail"]
    assert "/openapi.json" in body["detail"]


def test_a_wrong_method_is_a_405_problem(api: Api) -> None:
    response = api.client.delete("/v1/definitions", headers=api.headers("admin"))

    body = assert_problem(response, 405, "method-not-allowed")
    assert "DELETE" in body["detail"]


def test_a_bad_query_parameter_is_a_422_problem(api: Api) -> None:
    response = api.client.get("/v1/dead-letters", params={"limit": 0}, headers=api.headers("admin"))

    body = assert_problem(response, 422, "invalid-request")
    assert body["errors"][0]["location"] == "query.limit"


def test_openapi_lists_every_route(api: Api) -> None:
    document = api.client.get("/openapi.json").json()

    paths = document["paths"]
    for path in (
        "/v1/events",
        "/v1/processes",
        "/v1/processes/{process_id}",
        "/v1/processes/{process_id}/actions/{control}",
        "/v1/processes/{process_id}/events",
        "/v1/definitions",
        "/v1/dead-letters",
        "/v1/dead-letters/{dead_letter_id}/replay",
        "/healthz",
        "/readyz",
    ):
        assert path in paths, path
    body = paths["/v1/events"]["post"]["requestBody"]["content"]
    assert "application/cloudevents-batch+json" in body


def test_every_error_answer_is_documented_as_problem_json(api: Api) -> None:
    document = api.client.get("/openapi.json").json()

    error_answers = [
        (path, method, status, answer)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status, answer in operation["responses"].items()
        if status[0] in "45"
    ]
    assert len(error_answers) > 20
    for path, method, status, answer in error_answers:
        assert list(answer["content"]) == ["application/problem+json"], (path, method, status)
        schema = answer["content"]["application/problem+json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Problem"}, (path, method, status)


def test_every_route_taking_a_json_body_documents_the_400_for_an_unparseable_one(
    api: Api,
) -> None:
    document = api.client.get("/openapi.json").json()

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert "400" in operation["responses"], (path, method)


def test_an_unparseable_body_is_a_400_problem(api: Api) -> None:
    response = api.client.post(
        "/v1/processes",
        content=b'{"kind": "mobile_port_in", ',
        headers={**api.headers("channel"), "Content-Type": "application/json"},
    )

    body = assert_problem(response, 400, "malformed-json")
    assert "JSON" in body["detail"]
