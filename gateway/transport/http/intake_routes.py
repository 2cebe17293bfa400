"""Intake over HTTP (docs/http-api.md "Endpoints"): the three transmission endpoints, receipts and dossiers.

Each POST is a transmission handed to `gateway.infra.intake_queue.IntakeQueue` (intake in batches, the
answer as `gateway.services.intake.receive` would give it) behind mutual TLS: the role comes from the client
certificate, the sender's identity is the role and the certificate's SHA-256 fingerprint.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from lxml import etree

from gateway.canonical.xml import to_element
from gateway.domain.transmission import SourceKind
from gateway.errors import NotFound
from gateway.infra.intake_queue import IntakeQueue
from gateway.problem import PROBLEM_MEDIA_TYPE, rejection_problem
from gateway.services.intake import IntakeResult, IntakeServices
from gateway.transport.http.deps import provide
from gateway.transport.http.identity import Caller, Role, require_role
from gateway.transport.http.limits import check_media_type
from gateway.transport.http.metrics import Metrics

router = APIRouter(tags=["intake"])
IntakeDep = Annotated[IntakeServices, Depends(provide(IntakeServices))]
QueueDep = Annotated[IntakeQueue, Depends(provide(IntakeQueue))]
XML_TYPES = ("application/xml", "text/xml")
MEDIA_TYPES = {
    SourceKind.GREFFE: XML_TYPES,
    SourceKind.NOTAIRE: XML_TYPES,
    SourceKind.AVOCAT: ("application/json",),
}

_RECEIPT_EXAMPLE = {
    "receipt": {
        "receipt_id": "RCT-0A1B2C3D4E5F60718293A4B5",
        "status": "accepted",
        "dossier_id": "DOS-SJY6AOBVQJWTYNNQ",
        "source": "greffe",
        "sender": "greffe:5f0c...",
        "reference": "TJNANTES-2026-004217",
        "received_at": "2026-11-23T10:00:00Z",
        "payload_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "warnings": [],
    },
    "signature": "MIAGCSqGSIb3DQEHAqCAMIACAQEx...",
}
_INTAKE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "duplicate: the title was already received; the first receipt"},
    201: {
        "description": "accepted: a signed receipt (detached CMS over the receipt's canonical bytes)",
        "content": {"application/json": {"example": _RECEIPT_EXAMPLE}},
    },
    400: {"description": "malformed payload or schema violation (problem+json, with a signed rejection)"},
    401: {"description": "no client certificate, or one that maps to no role"},
    403: {"description": "the certificate's role may not send this kind of transmission"},
    413: {"description": "payload too large"},
    415: {"description": "wrong media type"},
    422: {"description": "a rule refuses the title (problem+json listing every error, signed rejection)"},
}


def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.gateway.metrics
    return metrics


def sender_of(caller: Caller) -> str:
    return f"{caller.role.value}:{caller.fingerprint_sha256}"


def _answer(result: IntakeResult, metrics: Metrics, source: SourceKind) -> Response:
    if result.outcome == "rejected":
        assert result.error is not None
        problem = rejection_problem(result.error, result.receipt.to_json(), result.signature)
        metrics.rejected(source.value, str(problem["errors"][0]["code"] if problem["errors"] else ""))
        return JSONResponse(problem, status_code=problem["status"], media_type=PROBLEM_MEDIA_TYPE)
    if result.outcome == "duplicate":
        metrics.duplicate(source.value)
    else:
        metrics.accepted(source.value)
    location = f"/v1/receipts/{result.receipt.receipt_id}"
    status = 201 if result.outcome == "accepted" else 200
    return JSONResponse(result.signed_receipt(), status_code=status, headers={"Location": location})


async def _intake(
    source: SourceKind, request: Request, intake: IntakeQueue, caller: Caller, idempotency_key: str | None
) -> Response:
    check_media_type(request.headers.get("content-type"), MEDIA_TYPES[source])
    body = await request.body()
    result = await intake.receive(source, body, sender=sender_of(caller), idempotency_key=idempotency_key)
    return _answer(result, _metrics(request), source)


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=255, description="Retry-safe key chosen by the sender"),
]
_XML_BODY = {
    "requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}}
}
_JSON_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
}


# One POST per source, alike but for the source, the role that may send it, the summary and the body.
_SOURCES = (
    (
        SourceKind.GREFFE,
        Role.GREFFE,
        "A court registry transmits a title (greffe XML, urn:fr:ifpa:greffe:1)",
        _XML_BODY,
    ),
    (
        SourceKind.NOTAIRE,
        Role.NOTAIRE,
        "A notary transmits a title (notaire XML, urn:fr:ifpa:notaire:1)",
        _XML_BODY,
    ),
    (SourceKind.AVOCAT, Role.AVOCAT, "A lawyer transmits a title (avocat JSON, version 1)", _JSON_BODY),
)
_SENDER = {role: Depends(require_role(role)) for _, role, _, _ in _SOURCES}


def _transmission_handler(source: SourceKind, role: Role) -> Callable[..., Awaitable[Response]]:
    """`POST /v1/{source}/transmissions`, open to the certificates of `role` only."""

    async def post_transmission(
        request: Request,
        intake: QueueDep,
        caller: Caller = _SENDER[role],
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        return await _intake(source, request, intake, caller, idempotency_key)

    post_transmission.__name__ = f"post_{source.value}"  # the OpenAPI operationId
    return post_transmission


for _source, _role, _summary, _body in _SOURCES:
    router.add_api_route(
        f"/v1/{_source.value}/transmissions",
        _transmission_handler(_source, _role),
        methods=["POST"],
        status_code=201,
        summary=_summary,
        responses=_INTAKE_RESPONSES,
        openapi_extra=_body,
    )


AnyCaller = Annotated[Caller, Depends(require_role(*Role))]
BackOffice = Annotated[Caller, Depends(require_role(Role.BACK_OFFICE))]


@router.get(
    "/v1/receipts/{receipt_id}",
    summary="A signed receipt, for the sender it was given to or the back-office",
    responses={404: {"description": "no such receipt (or not yours)"}},
)
def get_receipt(receipt_id: str, intake: IntakeDep, caller: AnyCaller) -> JSONResponse:
    with intake.store.read() as uow:
        row = uow.receipts.get(receipt_id)
    receipt = json.loads(row.receipt_json) if row is not None else None
    if row is None or receipt is None:
        raise NotFound(f"no receipt {receipt_id}", field="receipt_id")
    if caller.role is not Role.BACK_OFFICE and receipt.get("sender") != sender_of(caller):
        # Another sender's receipt: answered as absent, so receipt ids reveal nothing.
        raise NotFound(f"no receipt {receipt_id}", field="receipt_id")
    return JSONResponse({"receipt": receipt, "signature": base64.b64encode(row.signature).decode("ascii")})


def _wants_xml(accept: str | None) -> bool:
    kinds = [part.split(";", 1)[0].strip().lower() for part in (accept or "").split(",")]
    for kind in kinds:
        if kind in XML_TYPES:
            return True
        if kind in {"application/json", "*/*", "application/*"}:
            return False
    return False


@router.get(
    "/v1/dossiers/{dossier_id}",
    summary="The canonical dossier (JSON; XML signed in place with Accept: application/xml)",
    responses={
        200: {
            "content": {
                "application/json": {"schema": {"$ref": "urn:fr:ifpa:dossier:1"}},
                "application/xml": {"schema": {"type": "string"}},
            }
        },
        404: {"description": "no such dossier"},
    },
)
def get_dossier(
    dossier_id: str,
    intake: IntakeDep,
    caller: BackOffice,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    with intake.store.read() as uow:
        row = uow.dossiers.get(dossier_id)
    if row is None:
        raise NotFound(f"no dossier {dossier_id}", field="dossier_id")
    dossier = json.loads(row.canonical_json)
    if _wants_xml(accept):
        sign_xml = getattr(intake.signer, "sign_xml", None)
        element = to_element(dossier)
        if sign_xml is not None:
            element = sign_xml(element)
        data = etree.tostring(element, xml_declaration=True, encoding="UTF-8")
        return Response(data, media_type="application/xml")
    return JSONResponse(dossier)
