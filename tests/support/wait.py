"""The one way tests wait for something: poll a check until it gives a true value, or fail saying what.

Every wait has a timeout and a description, and a timed-out wait reports the
last value (or exception) the check produced, so a slow or broken cluster is
diagnosed from the failure message alone. Checks may raise the usual "not yet"
exceptions (AssertionError, KeyError, LookupError, StopIteration); they count
as a false value until the deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")

#: Exceptions a check may raise to mean "not yet".
NOT_YET: tuple[type[BaseException], ...] = (AssertionError, LookupError, StopIteration)


class WaitTimeout(AssertionError):
    """The condition did not hold in time (an AssertionError, so pytest reports it as a failure)."""


def _timed_out(what: str, timeout: float, last: object) -> WaitTimeout:
    return WaitTimeout(f"timed out after {timeout:g}s waiting until {what} (last: {last!r})")


def until(check: Callable[[], T], what: str, timeout: float, interval: float = 0.1) -> T:
    """Poll ``check`` every ``interval`` seconds; its first true value, or WaitTimeout after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            last = value = check()
            if value:
                return value
        except NOT_YET as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise _timed_out(what, timeout, last)
        time.sleep(interval)


@overload
async def until_async(check: Callable[[], Awaitable[T]], what: str, timeout: float, interval: float = 0.02) -> T: ...
@overload
async def until_async(check: Callable[[], T], what: str, timeout: float, interval: float = 0.02) -> T: ...


async def until_async(check: Callable[[], Any], what: str, timeout: float, interval: float = 0.02) -> Any:
    """``until`` inside an event loop; ``check`` may be a plain function or a coroutine function."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            result: Any = check()
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                result = await result
            last = result
            if result:
                return result
        except NOT_YET as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise _timed_out(what, timeout, last)
        await asyncio.sleep(interval)


def holds(check: Callable[[], object], seconds: float, interval: float = 0.1) -> bool:
    """True if ``check`` stays true for ``seconds`` (for what must keep holding, or must not happen)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not check():
            return False
        time.sleep(interval)
    return True
