"""Retrying retailer calls only where it is safe: exponential backoff with full jitter, `Retry-After`
honoured, one deadline for the whole call and a timeout on every try.

Safe means the error is a `RetailerUnavailable` with `retry_safe` (the outcome is unknown but asking
again cannot double anything: a read, or an order sent with its idempotency key). A refusal
(`RetailerError`) is never retried.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

from ..errors import RetailerUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


class RetailerBusy(RetailerUnavailable):
    """The shop asked to be called later (HTTP 429 or 503), maybe saying when (`Retry-After`)."""

    code = "retailer_busy"

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message, retry_safe=True)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one retailer call before telling the user it is not confirmed yet."""

    attempts: int = 3
    """Tries in all, the first included."""
    base_delay_s: float = 0.25
    """Backoff before the second try; doubles each time (the wait is drawn from 0 to it: full jitter)."""
    max_delay_s: float = 2.0
    """Longest backoff between two tries."""
    call_timeout_s: float = 10.0
    """Longest wait for one try."""
    deadline_s: float = 8.0
    """Longest wait for the whole call, retries included (the user is waiting for the outcome)."""

    def __post_init__(self) -> None:
        if self.attempts < 1 or min(self.base_delay_s, self.max_delay_s) < 0 or self.call_timeout_s <= 0:
            raise ValueError(f"RetryPolicy: attempts >= 1, delays >= 0 and a positive timeout are needed: {self}")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_s(policy: RetryPolicy, retry: int, rng: Callable[[], float] = random.random) -> float:
    """Wait before retry number `retry` (0 = the first retry): uniform in [0, min(max, base × 2^retry)]."""
    return rng() * min(policy.max_delay_s, policy.base_delay_s * 2**retry)


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    what: str,
    *,
    sleep: Sleep = asyncio.sleep,
    rng: Callable[[], float] = random.random,
) -> T:
    """`call()`, tried again on a retry-safe RetailerUnavailable until it answers, the tries run out or the
    deadline would pass; then the last error is raised."""
    started = time.monotonic()
    for attempt in range(policy.attempts):
        remaining = policy.deadline_s - (time.monotonic() - started)
        try:
            async with asyncio.timeout(max(0.001, min(policy.call_timeout_s, remaining))):
                return await call()
        except TimeoutError as err:
            error: RetailerUnavailable = RetailerUnavailable(f"the shop did not answer {what} in time", retry_safe=True)
            error.__cause__ = err
        except RetailerUnavailable as err:
            if not err.retry_safe:
                raise
            error = err
        wait = error.retry_after_s if isinstance(error, RetailerBusy) else None
        wait = backoff_s(policy, attempt, rng) if wait is None else wait
        left = policy.deadline_s - (time.monotonic() - started)
        if attempt + 1 >= policy.attempts or wait >= left:
            raise error
        log.info("%s: try %d failed (%s); again in %.2f s", what, attempt + 1, error.message, wait)
        await sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")
