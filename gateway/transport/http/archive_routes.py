"""The archive as a c2sp.org/tlog-tiles log: `GET /v1/archive/checkpoint`, `GET /v1/archive/tile/...`.

An outside verifier needs nothing of the gateway's code: the checkpoint is a C2SP signed note,
the tiles are RFC 9162 (6962) hashes, entries are the leaves' bytes (docs/archive.md). Readers:
the back-office (and an `operator` role where the deployment defines one).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from gateway.archive.store import Archive
from gateway.archive.tiles import parse_tile_path
from gateway.errors import NotFound
from gateway.transport.http.deps import provide
from gateway.transport.http.identity import Caller, Role, require_role

router = APIRouter(tags=["archive"])
ArchiveDep = Annotated[Archive, Depends(provide(Archive))]
_READERS = [Role.BACK_OFFICE, *(r for r in Role if r.value == "operator")]
Reader = Annotated[Caller, Depends(require_role(*_READERS))]
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no client certificate, or one that maps to no role"},
    403: {"description": "only the back-office (or an operator) reads the archive"},
}


@router.get(
    "/v1/archive/checkpoint",
    summary="The latest signed checkpoint (C2SP tlog-checkpoint signed note)",
    responses={
        200: {"content": {"text/plain": {}}, "description": "the checkpoint note"},
        404: {"description": "no checkpoint signed yet"},
        **_ERRORS,
    },
    response_class=Response,
)
async def get_checkpoint(archive: ArchiveDep, caller: Reader) -> Response:
    latest = await run_in_threadpool(archive.latest_checkpoint)
    if latest is None:
        raise NotFound("no checkpoint signed yet", field="checkpoint")
    return Response(
        latest.note,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-cache, max-age=5"},
    )


@router.get(
    "/v1/archive/tile/{path:path}",
    summary="A hash tile <L>/<N>[.p/<W>] or an entry bundle entries/<N>[.p/<W>] (c2sp.org/tlog-tiles)",
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the tile's bytes"},
        404: {"description": "a malformed path, or a tile beyond the latest checkpoint"},
        **_ERRORS,
    },
    response_class=Response,
)
async def get_tile(path: str, archive: ArchiveDep, caller: Reader) -> Response:
    level, index, width = parse_tile_path(path)
    if level is None:
        data = await run_in_threadpool(archive.entry_bundle, index, width)
    else:
        data = await run_in_threadpool(archive.tile, level, index, width)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
