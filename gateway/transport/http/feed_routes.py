"""The back-office pull feed over HTTP (docs/http-api.md "Feed"): `GET /v1/feed?after={cursor}&limit={n}`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from gateway.services.feed import DEFAULT_LIMIT, MAX_LIMIT, EventFeed, parse_cursor
from gateway.transport.http.deps import provide
from gateway.transport.http.identity import Caller, Role, require_role

router = APIRouter(tags=["back-office"])
FeedDep = Annotated[EventFeed, Depends(provide(EventFeed))]
BackOffice = Annotated[Caller, Depends(require_role(Role.BACK_OFFICE))]

_EXAMPLE = {
    "events": [
        {
            "id": "42",
            "type": "dossier.accepted",
            "dossier_id": "DOS-SJY6AOBVQJWTYNNQ",
            "created_at": "2026-11-23T10:00:00Z",
            "data": {"dossier": {"dossier_id": "DOS-SJY6AOBVQJWTYNNQ"}},
        }
    ],
    "next": "42",
    "has_more": False,
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "events after the cursor, oldest first; ask again with `after=next`",
        "content": {"application/json": {"example": _EXAMPLE}},
    },
    400: {"description": "a cursor the feed did not give out, or a limit outside 1..1000"},
    401: {"description": "no client certificate, or one that maps to no role"},
    403: {"description": "only the back-office reads the feed"},
}


@router.get(
    "/v1/feed",
    summary="Outbox events in commit order after a cursor (at-least-once, stable cursor)",
    responses=_RESPONSES,
)
async def get_feed(
    feed: FeedDep,
    caller: BackOffice,
    after: Annotated[
        str | None,
        Query(
            max_length=32,
            description="The `next` of the previous page, i.e. the id of the last event seen; "
            "absent or 0: from the first event",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Events per page")] = DEFAULT_LIMIT,
) -> JSONResponse:
    page = await run_in_threadpool(feed.page, parse_cursor(after), limit)
    return JSONResponse(page.to_json())
