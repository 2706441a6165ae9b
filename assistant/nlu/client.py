"""HTTP client of the NLU worker: text in, `ParseResult` out.

One `httpx.AsyncClient` per running event loop, created on first use: the client may be shared by
code that runs one event loop after another (pytest-asyncio gives each test its own)."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from ..errors import NLUError, NLUNotReady
from .types import Entity, IntentScore, ParseResult

log = logging.getLogger(__name__)

#: Connection failures after which a supervised worker is restarted once.
CONNECTION_ERRORS = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


@dataclass(frozen=True)
class Endpoint:
    """Where a worker answers, and the token it wants."""

    url: str
    """Base URL, e.g. `http://127.0.0.1:5905`."""
    token: str
    """Bearer token."""


@dataclass(frozen=True)
class Health:
    """A worker's answer to `GET /health`."""

    status: str
    """`loading`, `ready` or `failed`."""
    pid: int | None
    """Its process id (on its own machine)."""
    languages: dict[str, str]
    """Language → fingerprint of the model it serves."""
    error: str | None
    """Why loading failed, if it did."""
    uptime_s: float
    """Seconds since it started."""
    ready_s: float | None
    """Seconds it took from start to ready."""
    rss_mb: float | None
    """Its resident memory."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Health:
        return cls(
            status=str(data.get("status", "unknown")),
            pid=data.get("pid"),
            languages=dict(data.get("languages") or {}),
            error=data.get("error"),
            uptime_s=float(data.get("uptime_s") or 0.0),
            ready_s=data.get("ready_s"),
            rss_mb=data.get("rss_mb"),
        )


def to_parse_result(text: str, lang: str, data: dict[str, Any]) -> ParseResult:
    """Map Rasa's parse dict onto the frozen types the dialogue manager reads."""
    raw_intent = data.get("intent") or {}
    intent = None
    if raw_intent.get("name"):
        intent = IntentScore(str(raw_intent["name"]), float(raw_intent.get("confidence") or 0.0))
    entities = tuple(
        sorted(
            (
                Entity(
                    str(e["entity"]),
                    str(e.get("value", text[e["start"] : e["end"]])),
                    int(e["start"]),
                    int(e["end"]),
                    float(e["confidence_entity"]) if e.get("confidence_entity") is not None else None,
                )
                for e in data.get("entities") or []
            ),
            key=lambda e: (e.start, e.end),
        )
    )
    ranking = tuple(IntentScore(str(r["name"]), float(r["confidence"])) for r in data.get("intent_ranking") or [])
    if intent and ranking and ranking[0].name == intent.name:
        ranking = ranking[1:]
    return ParseResult(text=text, lang=lang, intent=intent, entities=entities, ranking=ranking)


class NLUClient:
    """Parses text through a running NLU worker; restarts a supervised worker once if it has died."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        timeout_s: float,
        restart: Callable[[], Awaitable[Endpoint]] | None = None,
        where: str = "",
    ) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self._restart = restart
        self.where = where or endpoint.url
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            for old in [lp for lp in self._clients if lp.is_closed()]:
                del self._clients[old]
            # Plain http (loopback, or a hub on the home network) needs no TLS context: building one costs ~100 ms.
            tls = self.endpoint.url.startswith("https://")
            client = httpx.AsyncClient(timeout=self.timeout_s, trust_env=False, verify=tls)
            self._clients[loop] = client
        return client

    async def parse(self, text: str, lang: str) -> ParseResult:
        """Parse one utterance in `lang`."""
        if not text.strip():
            return ParseResult(text, lang, None)
        try:
            response = await self._post_parse(text, lang)
        except CONNECTION_ERRORS as err:
            if self._restart is None:
                raise NLUError(
                    f"the NLU service at {self.where} is not answering ({type(err).__name__})",
                    hint="check it with `assistant nlu status`",
                ) from err
            log.warning("NLU worker at %s is gone (%s): restarting it", self.endpoint.url, type(err).__name__)
            self.endpoint = await self._restart()
            try:
                response = await self._post_parse(text, lang)
            except CONNECTION_ERRORS as again:
                raise NLUError(
                    f"the NLU service at {self.where} stopped answering right after a restart",
                    hint="see the worker log named by `assistant nlu status`",
                ) from again
        return to_parse_result(text, lang, self._checked(response))

    async def _post_parse(self, text: str, lang: str) -> httpx.Response:
        try:
            return await self._http().post(
                f"{self.endpoint.url}/parse",
                json={"text": text, "lang": lang},
                headers={"Authorization": f"Bearer {self.endpoint.token}"},
            )
        except httpx.TimeoutException as err:
            raise NLUError(
                f"the NLU service at {self.where} did not answer within {self.timeout_s:g} s",
                hint="see `assistant nlu status`, or raise nlu.request_timeout_s in config.yml",
            ) from err

    def _checked(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        message = str(body.get("message") or response.reason_phrase)
        if response.status_code == 200:
            return body
        if response.status_code == 503:
            raise NLUNotReady(
                f"the NLU service is still loading its models: {message}",
                hint="try again in a few seconds; `assistant nlu status` shows progress",
            )
        if response.status_code == 401:
            raise NLUError(
                f"the NLU service at {self.where} refused our token",
                hint="set ASSISTANT_NLU_TOKEN to the content of the service's models/nlu/run/token",
            )
        raise NLUError(
            f"the NLU service at {self.where} answered {response.status_code}: {message}",
            hint="see `assistant nlu status` and the worker log",
        )

    async def health(self) -> Health:
        """The worker's status; raises NLUError if nothing answers."""
        try:
            response = await self._http().get(f"{self.endpoint.url}/health", timeout=min(self.timeout_s, 5.0))
            response.raise_for_status()
            return Health.from_json(response.json())
        except (httpx.HTTPError, ValueError) as err:
            raise NLUError(
                f"no NLU service answers at {self.where} ({type(err).__name__})",
                hint="start it with `assistant nlu serve` on the machine serving it, "
                "or set nlu.url: null to run one here",
            ) from err

    async def aclose(self) -> None:
        """Close this event loop's connections (the client stays usable: it reconnects on next use)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
