"""A table of odd inputs, run on every database: each is a clear 4xx naming the field and
its limit, never a 5xx, and a request that fails leaves nothing behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .builders import Api, accepted_by_nc, assert_problem, start_body

EDGE_TIMES = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00")
NUL = "\u0000"


def cases(table: list[tuple[str, dict[str, Any], tuple[str, ...]]]) -> list[Any]:
    """The rows of ``table`` as test parameters named by their case."""
    return [pytest.param(changes, named, id=case) for case, changes, named in table]


def nested(depth: int) -> dict[str, Any]:
    """A JSON object ``depth`` levels deep."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


# (case, what to change in a valid event, words the answer names)
ODD_EVENTS: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("long id", {"id": "e" * 201}, ("'id'", "200")),
    ("long source", {"source": "/" + "s" * 200}, ("'source'", "200")),
    ("long type", {"type": "t" * 101}, ("'type'", "100")),
    ("long actor", {"relevoactor": "a" * 201}, ("'relevoactor'", "200")),
    ("long channel", {"relevochannel": "c" * 41}, ("'relevochannel'", "40")),
    ("long subject", {"subject": "prc_" + "x" * 40}, ("'subject'", "40")),
    ("NUL in id", {"id": f"e{NUL}1"}, ("'id'", "NUL")),
    ("NUL in source", {"source": f"/gw{NUL}"}, ("'source'", "NUL")),
    ("NUL in type", {"type": f"nc.accepted{NUL}"}, ("'type'", "NUL")),
    ("NUL in subject", {"subject": f"prc_{NUL}"}, ("'subject'", "NUL")),
    ("NUL in a data key", {"data": {f"msisdn{NUL}": "612345678"}}, ("data", "NUL")),
    ("NUL deep in data", {"data": {"a": [{"b": f"x{NUL}"}]}}, ("data.a[0].b", "NUL")),
    ("NUL in an extension", {f"relevo{NUL}x": "y"}, ("NUL",)),
    ("time at year 1", {"time": EDGE_TIMES[0]}, ("time",)),
    ("time at year 9999", {"time": EDGE_TIMES[1]}, ("time",)),
    ("data 300 deep", {"data": nested(300)}, ("data", "deep")),
    ("data 100 deep", {"data": nested(100)}, ("data", "deep")),
]


def odd(changes: dict[str, Any]) -> dict[str, Any]:
    """A valid event for the started process with ``changes`` applied."""
    raw = accepted_by_nc()
    raw.update(changes)
    return raw


@pytest.mark.parametrize(("changes", "named"), cases(ODD_EVENTS))
def test_an_odd_single_event_is_a_400_naming_the_field(
    api: Api, changes: dict[str, Any], named: tuple[str, ...]
) -> None:
    api.start()

    body = assert_problem(api.send(odd(changes)), 400, "invalid-cloudevent")

    for word in named:
        assert word in body["detail"], body["detail"]
    [letter] = api.dead_letters()
    assert letter["status"] == "open"


@pytest.mark.parametrize(("changes", "named"), cases(ODD_EVENTS))
def test_an_odd_event_in_a_batch_fails_alone(
    api: Api, changes: dict[str, Any], named: tuple[str, ...]
) -> None:
    api.start()

    response = api.send(odd(changes), accepted_by_nc(), batch=True)

    assert response.status_code == 200, response.text
    bad, good = response.json()["results"]
    assert bad["outcome"] == "rejected"
    for word in named:
        assert word in bad["reason"], bad["reason"]
    assert good["outcome"] == "accepted", good
    assert len(api.dead_letters()) == 1


def test_an_event_over_its_size_limit_is_413_and_the_rest_of_a_batch_goes_in(api: Api) -> None:
    api.start()
    huge = accepted_by_nc()
    huge["data"]["note"] = "x" * (300 * 1024)

    alone = api.send(huge)
    together = api.send(dict(huge, id="huge-2"), accepted_by_nc(), batch=True)

    body = assert_problem(alone, 413, "event-too-large")
    assert "256 KiB" in body["detail"]
    assert body["results"][0]["reason_code"] == "event_too_large"
    bad, good = together.json()["results"]
    assert (bad["outcome"], bad["reason_code"]) == ("rejected", "event_too_large")
    assert good["outcome"] == "accepted"
    letters = api.dead_letters()
    assert len(letters) == 2
    assert all(len(str(letter["payload"])) < 100 * 1024 for letter in letters)


def test_dates_at_the_edges_of_the_calendar_in_data_are_no_5xx(api: Api) -> None:
    api.start()
    for moment in EDGE_TIMES:
        raw = accepted_by_nc()
        raw["data"]["window"] = moment
        response = api.send(raw)
        assert response.status_code < 500, response.text


def test_the_same_odd_event_sent_twice_keeps_one_dead_letter(api: Api) -> None:
    raw = odd({"id": "e" * 201})

    first, second = api.send(raw), api.send(raw)

    assert (first.status_code, second.status_code) == (400, 400)
    assert len(api.dead_letters()) == 1


# (case, what to change in a valid start body, words the answer names)
ODD_STARTS: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("unknown time zone", {"timezone": "Mars/Olympus"}, ("timezone", "Mars/Olympus")),
    ("time zone path", {"timezone": "../../etc/passwd"}, ("timezone",)),
    ("NUL in time zone", {"timezone": f"Europe/Madrid{NUL}"}, ("timezone",)),
    ("long time zone", {"timezone": "Europe/" + "x" * 5000}, ("timezone",)),
    ("long customer id", {"customer_id": "c" * 101}, ("customer_id", "100")),
    ("NUL in customer id", {"customer_id": f"c{NUL}"}, ("customer_id", "NUL")),
    ("NUL in subject", {"subject": f"61234567{NUL}"}, ("subject",)),
    ("long subject", {"subject": "6" * 201}, ("subject",)),
    ("long key value", {"keys": {"crm_order_id": "o" * 201}}, ("keys", "200")),
    ("NUL in a key value", {"keys": {"crm_order_id": f"o{NUL}"}}, ("keys", "NUL")),
    ("long value in a key list", {"keys": {"crm_order_id": ["o", "o" * 201]}}, ("keys", "200")),
    ("NUL in a key list", {"keys": {"crm_order_id": ["o", f"o{NUL}"]}}, ("keys", "NUL")),
    ("empty key list", {"keys": {"crm_order_id": []}}, ("crm_order_id", "list of texts")),
    ("number in a key list", {"keys": {"crm_order_id": ["o", 7]}}, ("keys",)),
    ("long key name", {"keys": {"k" * 101: "v"}}, ("keys", "100")),
    ("NUL in a key name", {"keys": {f"crm{NUL}": "v"}}, ("keys", "NUL")),
    ("long actor", {"actor": "a" * 201}, ("actor", "200")),
    ("long channel", {"channel": "c" * 41}, ("channel", "40")),
    ("NUL in channel", {"channel": f"web{NUL}"}, ("channel", "NUL")),
    ("long kind", {"kind": "k" * 101}, ("kind",)),
    ("NUL in kind", {"kind": f"mobile_port_in{NUL}"}, ("kind",)),
    (
        "attribute 300 deep",
        {"attributes": {"modality": "postpaid", "donor_operator": nested(300)}},
        ("attributes", "deep"),
    ),
    (
        "attribute beyond 64 bits",
        {"attributes": {"modality": "postpaid", "donor_operator": 2**70}},
        ("attributes", "64-bit"),
    ),
    (
        "NUL in an attribute",
        {"attributes": {"modality": "postpaid", "donor_operator": f"x{NUL}"}},
        ("attributes", "NUL"),
    ),
]


@pytest.mark.parametrize(("changes", "named"), cases(ODD_STARTS))
def test_an_odd_start_is_a_4xx_that_saves_nothing(
    api: Api, changes: dict[str, Any], named: tuple[str, ...]
) -> None:
    response = api.client.post(
        "/v1/processes", json=start_body(**changes), headers=api.headers("channel")
    )

    assert 400 <= response.status_code < 500, response.text
    detail = response.json()["detail"]
    for word in named:
        assert word in detail, detail
    assert api.hub.count_processes() == 0


@pytest.mark.parametrize(
    "text",
    [
        '"\\ud800"',  # a lone surrogate: not text any store can keep
        "NaN",
        "1e999",
    ],
)
def test_a_start_attribute_json_cannot_store_is_a_4xx(api: Api, text: str) -> None:
    body = (
        '{"kind": "mobile_port_in", "customer_id": "c-1", "subject": "612345678", '
        '"attributes": {"modality": "postpaid", "donor_operator": ' + text + "}}"
    )

    response = api.client.post(
        "/v1/processes",
        content=body.encode(),
        headers={**api.headers("channel"), "Content-Type": "application/json"},
    )

    assert 400 <= response.status_code < 500, response.text
    assert "attributes" in response.json()["detail"]
    assert api.hub.count_processes() == 0


ODD_ACTIONS: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("params 300 deep", {"params": {"x": nested(300)}}, ("params", "deep")),
    ("params beyond 64 bits", {"params": {"x": 2**70}}, ("params", "64-bit")),
    ("NUL in params", {"params": {"x": f"a{NUL}"}}, ("params", "NUL")),
    ("long request id", {"request_id": "r" * 201}, ("request_id", "200")),
    ("NUL in request id", {"request_id": f"r{NUL}"}, ("request_id", "NUL")),
    ("long actor", {"actor": "a" * 201}, ("actor",)),
    ("NUL in actor", {"actor": f"a{NUL}"}, ("actor", "NUL")),
    ("long channel", {"channel": "c" * 41}, ("channel", "40")),
]


@pytest.mark.parametrize(("changes", "named"), cases(ODD_ACTIONS))
def test_an_odd_action_is_a_4xx_that_applies_nothing(
    api: Api, changes: dict[str, Any], named: tuple[str, ...]
) -> None:
    view = api.start()

    response = api.act(view["id"], "cancel", **changes)

    assert 400 <= response.status_code < 500, response.text
    detail = response.json()["detail"]
    for word in named:
        assert word in detail, detail
    assert api.view(view["id"])["status"] == "active"


def _get(path: str, **params: str) -> Callable[[Api], httpx.Response]:
    return lambda api: api.client.get(path, params=params, headers=api.headers("channel"))


ODD_READS: list[tuple[str, Callable[[Api], httpx.Response]]] = [
    ("NUL in a process id", _get("/v1/processes/prc_%00")),
    ("long process id", _get("/v1/processes/prc_" + "x" * 5000)),
    ("NUL in a timeline id", _get("/v1/processes/prc_%00/events")),
    ("NUL in customer", _get("/v1/processes", customer=f"c{NUL}")),
    ("long customer", _get("/v1/processes", customer="c" * 5000)),
    ("NUL in key", _get("/v1/processes", key=f"msisdn:6{NUL}")),
    ("NUL in subject", _get("/v1/processes", subject=f"6{NUL}")),
    ("NUL in kind", _get("/v1/processes", kind=f"k{NUL}")),
    ("NUL in an action's process id", lambda api: api.act("prc_%00", "cancel")),
    ("NUL in a control", lambda api: api.act("prc_x", "cancel%00")),
]


@pytest.mark.parametrize("call", [c[1] for c in ODD_READS], ids=[c[0] for c in ODD_READS])
def test_an_odd_path_or_query_is_a_4xx(api: Api, call: Callable[[Api], httpx.Response]) -> None:
    response = call(api)

    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize("letter_id", [2**63, 2**70, -1, 0])
def test_replaying_a_dead_letter_id_beyond_the_store_is_a_4xx(api: Api, letter_id: int) -> None:
    response = api.client.post(f"/v1/dead-letters/{letter_id}/replay", headers=api.headers("admin"))

    assert 400 <= response.status_code < 500, response.text


def test_a_start_body_over_the_limit_is_413(api: Api) -> None:
    big = start_body(attributes={"modality": "postpaid", "donor_operator": "x" * (2 << 20)})

    response = api.client.post("/v1/processes", json=big, headers=api.headers("channel"))

    body = assert_problem(response, 413, "body-too-large")
    assert "1 MiB" in body["detail"]
    assert api.hub.count_processes() == 0


def test_a_chunked_action_body_over_the_limit_is_413(api: Api) -> None:
    view = api.start()

    def chunks() -> Any:
        yield b'{"params": {"x": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}}'

    response = api.client.post(
        f"/v1/processes/{view['id']}/actions/cancel",
        content=chunks(),
        headers={**api.headers("channel"), "Content-Type": "application/json"},
    )

    assert_problem(response, 413, "body-too-large")
    assert api.view(view["id"])["status"] == "active"


def test_an_unusable_time_zone_saves_nothing_and_every_read_still_works(api: Api) -> None:
    response = api.client.post(
        "/v1/processes", json=start_body(timezone="Mars/Olympus"), headers=api.headers("channel")
    )

    body = assert_problem(response, 422, "invalid-start")
    assert "Atlantic/Canary" in body["detail"]
    assert api.hub.count_processes() == 0
    assert (
        api.client.get(
            "/v1/processes", params={"customer": "cust-1"}, headers=api.headers("channel")
        ).json()["count"]
        == 0
    )
