"""A bound on the body of every request, answered with a 413 problem before any route runs.

Routes that read their body as a stream and bound it themselves (``POST /v1/events``, whose
batches may be far larger) are left to do so.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relevo.services.limits import size_text
from relevo.web.problems import problem


class BodyLimit:
    """ASGI middleware refusing a request whose body is larger than ``limit`` bytes.

    A declared ``Content-Length`` over the limit is refused at once; otherwise the body is
    read (at most ``limit`` bytes are held) and handed on whole. Paths in ``own_limits``
    pass through untouched; paths starting with a key of ``prefix_limits`` are bound by its
    value instead (the customer's pages take document uploads).
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        own_limits: Collection[str] = (),
        prefix_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.own_limits = frozenset(own_limits)
        self.prefix_limits = dict(prefix_limits or {})

    def limit_of(self, path: str) -> int:
        """The most a request to ``path`` may carry."""
        for prefix, limit in self.prefix_limits.items():
            if path.startswith(prefix):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its body read, or answer 413."""
        if scope["type"] != "http" or scope["path"] in self.own_limits:
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(scope, receive, send, limit)
                return
            if not message.get("more_body", False):
                break
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem(
            Request(scope),
            413,
            "body-too-large",
            "Body too large",
            f"The body is larger than {size_text(limit)}, the most this route takes; "
            "send less (large documents by reference, e.g. a URL or an id).",
        )
        await response(scope, receive, send)
