"""A running relevo server over HTTP, with the pure engine as the world's model of it.

Every operation goes to the server — ``POST /v1/processes``, ``POST /v1/events`` with
``application/cloudevents-batch+json``, ``POST /v1/processes/{id}/actions/{control}`` — and
to a ``ModelPort`` beside it. The world reacts to what the model says (the server cannot
tell it which integration messages its outbox holds; the model computes them from the
actions the simulator made), while the server's own answers are tallied in ``answers`` so a
run shows whether the server agreed.

Timers are not sent (the server refuses ``timer.fired`` from any key): firing them is the
server's worker's job, so a run over HTTP relies on ``relevo worker`` running beside the
server to fire its processes' timers. The server's clock is its own, so a run faster than
real time (``--speed`` above 1, or no pacing at all) may see cut-offs judged differently by
the server than by the model; ``answers`` shows it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import orjson

from relevo.domain.model import ProcessState
from relevo.simulate.ports.base import ActOp, Delivered, EventOp, Feedback, StartOp, TimerOp
from relevo.simulate.ports.model import ModelPort

BATCH_TYPE = "application/cloudevents-batch+json"


class HttpPort:
    """Drives a server through ``client`` (base URL and API key already set)."""

    def __init__(self, model: ModelPort, client: httpx.Client) -> None:
        self.model = model
        self.client = client
        self.server_ids: dict[int, str] = {}
        self.answers: Counter[str] = Counter()

    def start(self, op: StartOp, now: datetime) -> str | None:
        error = self.model.start(op, now)
        if error is not None:
            return error
        response = self._post("/v1/processes", json=op.line["data"])
        if response is not None and response.status_code == 201:
            self.server_ids[op.case.index] = str(response.json()["id"])
            self.answers["start:created"] += 1
        else:
            self.answers[f"start:{_status(response)}"] += 1
        return None

    def deliver(self, ops: Sequence[EventOp | TimerOp], now: datetime) -> list[Delivered]:
        results = self.model.deliver(ops, now)
        events = [op.envelope for op in ops if isinstance(op, EventOp)]
        if events:
            response = self._post(
                "/v1/events", content=orjson.dumps(events), headers={"content-type": BATCH_TYPE}
            )
            if response is not None and response.status_code == 200:
                for result in response.json().get("results", []):
                    self.answers[f"event:{result.get('outcome')}"] += 1
            else:
                self.answers[f"events:{_status(response)}"] += len(events)
        return results

    def act(self, op: ActOp, now: datetime) -> str | None:
        refusal = self.model.act(op, now)
        server_id = self.server_ids.get(op.case.index)
        if server_id is None:
            self.answers["action:no_process"] += 1
            return refusal
        data = op.line["data"]
        body = {key: data[key] for key in ("params", "actor", "channel", "role", "request_id")}
        response = self._post(f"/v1/processes/{server_id}/actions/{op.action.control}", json=body)
        self.answers[f"action:{_status(response)}"] += 1
        return refusal

    def _post(self, path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            return self.client.post(path, **kwargs)
        except httpx.HTTPError as error:
            self.answers[f"transport:{type(error).__name__}"] += 1
            return None

    def collect(self) -> Feedback:
        return self.model.collect()

    def final_states(self) -> dict[int, ProcessState]:
        return self.model.final_states()

    def close(self) -> None:
        self.client.close()


def _status(response: httpx.Response | None) -> str:
    return "unreachable" if response is None else str(response.status_code)
