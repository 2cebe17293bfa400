"""Dependencies shared by the routes: services given to create_app, looked up by type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from fastapi import Request

T = TypeVar("T")


def provide(kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency returning the service of type `kind` given to create_app.

    `async def`, like every dependency that does not block: FastAPI runs a plain `def` dependency
    in its thread pool, a thread hop per request for a dictionary lookup.
    """

    async def dependency(request: Request) -> T:
        state = request.app.state.gateway
        try:
            return cast(T, state.services[kind])
        except KeyError:
            raise LookupError(f"no {kind.__name__} given to create_app") from None

    dependency.__name__ = f"provide_{kind.__name__}"
    return dependency
