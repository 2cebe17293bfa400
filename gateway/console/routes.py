"""The console's pages and actions under /console/ (operator certificates only).

Pages are GETs that change nothing. Every action is a POST carrying the CSRF token (csrf.py);
those that change something ask for a confirmation first (the same POST again with confirm=yes),
are archived and listed on the audit page (audit.py), then redirect to a page (303, so a reload
does not do it twice).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from importlib.resources import files
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.archive.verify import verify_archive, verify_proof_document
from gateway.console import audit, csrf, mandates, queries
from gateway.console.charts import Series, grouped_bars
from gateway.console.i18n import negotiate, translator
from gateway.console.masking import dossier_view, mask_iban
from gateway.console.pages import SECURITY_HEADERS, failed, render
from gateway.console.services import ConsoleServices
from gateway.domain.calendar import add_months
from gateway.errors import CsrfRejected, GatewayError, InvalidInput, NotFound
from gateway.payments.dues import child_dues
from gateway.problem import status_for
from gateway.signing.cms import InvalidSignature, verify_detached
from gateway.transport.http.deps import provide
from gateway.transport.http.identity import Caller, Role, require_role

router = APIRouter(prefix="/console", include_in_schema=False)
Operator = Annotated[Caller, Depends(require_role(Role.OPERATOR))]
Console = Annotated[ConsoleServices, Depends(provide(ConsoleServices))]
PARIS = ZoneInfo("Europe/Paris")  # the fund's days: "today" and "this month" are French ones
_DOSSIER_ID = re.compile(r"DOS-[A-Z0-9]{1,60}")
_RECEIPT_ID = re.compile(r"RCT-[A-F0-9]{1,60}")
_MESSAGE_ID = re.compile(r"[A-Za-z0-9+?/:().,'-]{1,35}")
_MAX_FORM_BYTES = 16 * 1024
STATIC = {"console.css": ("text/css; charset=utf-8", files("gateway.console") / "static" / "console.css")}


# --- forms: CSRF first ---------------------------------------------------------------------------


async def action_form(request: Request, caller: Operator, services: Console) -> dict[str, str]:
    """The fields of an action's form, once its CSRF token and origin are checked."""
    origin = request.headers.get("origin")
    host = request.headers.get("host", "")
    if origin is not None and origin != f"https://{host}":
        raise CsrfRejected("the form comes from another site", field="Origin")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise InvalidInput(
            "an action is an HTML form (application/x-www-form-urlencoded)", field="Content-Type"
        )
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        raise InvalidInput("form too large", field="body")
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("unreadable form", field="body") from None
    if not csrf.check(
        services.csrf_key,
        cookie=request.cookies.get(csrf.COOKIE),
        submitted=fields.get(csrf.FIELD),
        fingerprint=caller.fingerprint_sha256,
    ):
        raise CsrfRejected("missing or wrong CSRF token: reload the page and try again", field=csrf.FIELD)
    return fields


Form = Annotated[dict[str, str], Depends(action_form)]


def _t(request: Request) -> Callable[[str], str]:
    return translator(negotiate(request.headers.get("accept-language")))


def _now(services: ConsoleServices) -> datetime:
    return services.clock()


def _done(path: str, audit_row: audit.AuditRow, anchor: str = "") -> RedirectResponse:
    sep = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{sep}done={audit_row.audit_id}{anchor}", status_code=303)


def _record(
    services: ConsoleServices,
    caller: Caller,
    action: str,
    target: str,
    *,
    outcome: str,
    details: dict[str, Any],
) -> audit.AuditRow:
    return audit.record(
        services.store,
        services.archive,
        services.signer,
        caller=caller,
        action=action,
        target=target,
        outcome=outcome,
        details=details,
        at=_now(services),
    )


def _refuse(
    request: Request,
    services: ConsoleServices,
    caller: Caller,
    error: GatewayError,
    *,
    action: str,
    target: str,
    back: str,
    section: str,
) -> HTMLResponse:
    """An action the gateway refused: audited with its error code, shown with every issue."""
    _record(
        services,
        caller,
        action,
        target,
        outcome=error.code,
        details={"errors": [i.code for i in error.issues]},
    )
    return failed(
        request, services, caller, error.issues, back=back, section=section, status=status_for(error)
    )


def _confirm(
    request: Request,
    services: ConsoleServices,
    caller: Caller,
    *,
    section: str,
    question: str,
    action: str,
    fields: list[tuple[str, str]],
    facts: list[tuple[str, str]],
    back: str,
) -> HTMLResponse:
    return render(
        request,
        services,
        caller,
        "confirm.html",
        section=section,
        title="confirm_title",
        question=question,
        action=action,
        fields=fields,
        facts=facts,
        back=back,
    )


# --- static ---------------------------------------------------------------------------------------


@router.get("/static/{name}")
async def static(name: str, caller: Operator) -> Response:
    found = STATIC.get(name)
    if found is None:
        raise NotFound("no such file", field="name")
    media_type, path = found
    return Response(
        path.read_bytes(),
        media_type=media_type,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


# --- dashboard ------------------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, caller: Operator, services: Console) -> HTMLResponse:
    today = _now(services).astimezone(PARIS).date()
    month = queries.title_counts(services.store, _day_start(today.replace(day=1)))
    day = queries.title_counts(services.store, _day_start(today))
    sources = list(month)
    t = _t(request)
    chart = grouped_bars(
        chart_id="titles-chart",
        title=t("chart_titles"),
        categories=sources,
        series=[
            Series(t("accepted"), [month[s]["accepted"] for s in sources]),
            Series(t("rejected"), [month[s]["rejected"] for s in sources]),
        ],
        counts=True,
    )
    archive = services.archive
    return render(
        request,
        services,
        caller,
        "dashboard.html",
        section="dashboard",
        title="dashboard",
        refused=queries.refusals(services.store, limit=10),
        sources=sources,
        today=day,
        month=month,
        chart=chart,
        forecast=services.forecast.current(),
        mandates=services.recent("mandates", lambda: queries.mandate_counts(services.store)),
        dead=queries.dead_count(services.store),
        archive_size=archive.size,
        checkpoint=archive.latest_checkpoint(),
        verified=audit.last_of(services.store, "archive.verify"),
    )


# --- refused titles -------------------------------------------------------------------------------


@router.get("/refused", response_class=HTMLResponse)
def refused_titles(
    request: Request,
    caller: Operator,
    services: Console,
    *,
    source: str | None = None,
    code: str | None = None,
    before: str | None = None,
) -> HTMLResponse:
    params = request.query_params
    try:
        where = queries.RefusalFilter.parse(source, code, params.get("from"), params.get("to"))
        if before and not _RECEIPT_ID.fullmatch(before):
            raise InvalidInput("before must be a receipt id", field="before")
    except InvalidInput as exc:
        return failed(
            request, services, caller, exc.issues, back="/console/refused", section="refused", status=400
        )
    found = queries.refusals(services.store, where, before=before)
    next_before = found[-1].receipt_id if len(found) == queries.PAGE else None
    query = {k: v for k, v in params.items() if k != "before" and v}
    next_href = "/console/refused?" + urlencode({**query, "before": next_before or ""})
    return render(
        request,
        services,
        caller,
        "refused.html",
        section="refused",
        title="refused",
        sources=queries.SOURCES,
        filters=where,
        refusals=found,
        next_before=next_before,
        next_href=next_href,
    )


def _signature_check(services: ConsoleServices, signature: bytes, data: bytes) -> dict[str, Any]:
    try:
        verified = verify_detached(signature, data, trust_anchors=services.trust_anchors)
    except InvalidSignature:
        return {"valid": False, "signer": ""}
    return {"valid": True, "signer": verified.signer.subject.rfc4514_string()}


def _refusal_or_404(services: ConsoleServices, receipt_id: str) -> queries.Refusal:
    found = queries.refusal(services.store, receipt_id) if _RECEIPT_ID.fullmatch(receipt_id) else None
    if found is None:
        raise NotFound(f"no refused title {receipt_id}", field="receipt_id")
    return found


@router.get("/refused/{receipt_id}", response_class=HTMLResponse)
def refused_title(request: Request, receipt_id: str, caller: Operator, services: Console) -> HTMLResponse:
    try:
        found = _refusal_or_404(services, receipt_id)
    except NotFound as exc:
        return failed(
            request, services, caller, exc.issues, back="/console/refused", section="refused", status=404
        )
    return render(
        request,
        services,
        caller,
        "refusal.html",
        section="refused",
        title="refused",
        r=found,
        check=_signature_check(services, found.signature, found.receipt_json.encode()),
        signature_b64=base64.b64encode(found.signature).decode("ascii"),
    )


@router.get("/refused/{receipt_id}/payload")
def refused_payload(receipt_id: str, caller: Operator, services: Console) -> Response:
    """The payload as received, from the archive (content-addressed by its SHA-256)."""
    found = _refusal_or_404(services, receipt_id)
    data = services.archive.blob(found.payload_sha256)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="{receipt_id}-{found.source}.payload"',
        },
    )


# --- dossier --------------------------------------------------------------------------------------


@router.get("/dossiers", response_class=HTMLResponse)
def find_dossier(request: Request, caller: Operator, services: Console, id: str = "") -> Response:
    wanted = id.strip().upper()
    if not _DOSSIER_ID.fullmatch(wanted):
        error = InvalidInput("a dossier id looks like DOS-…", field="id")
        return failed(
            request, services, caller, error.issues, back="/console/", section="dashboard", status=400
        )
    return RedirectResponse(f"/console/dossiers/{wanted}", status_code=303)


def _months_from(today: date, count: int) -> list[str]:
    first = today.replace(day=1)
    return [f"{add_months(first, n):%Y-%m}" for n in range(count)]


def _schedule(data: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """The next 12 months, per child (None: that child owes nothing that month)."""
    children = len(data.get("children") or [])
    rows = []
    for period in _months_from(today, 12):
        cells: list[int | None] = [None] * children
        for due in child_dues(data, period):
            cells[due.child] = due.due_cents
        rows.append({"period": period, "children": cells, "total": sum(c or 0 for c in cells)})
    return rows


def _asf(month: dict[str, Any]) -> tuple[int, int | None]:
    """The ASF advanced for a month (gross, net of CRDS) in any of the ledger's shapes."""
    if "asf_complement_cents" in month:
        return int(month["asf_complement_cents"] or 0), month.get("asf_complement_net_cents")
    advance = month.get("asf_advance") or {}
    return int(advance.get("amount_cents") or 0), None


def _ledger_view(ledger_json: dict[str, Any]) -> dict[str, Any]:
    """The ledger (gateway.payments.ledger) as the page shows it: months, totals, per child."""
    months = []
    for m in ledger_json.get("months", []):
        asf, net = _asf(m)
        reason = m.get("reason") or {}
        months.append(
            {
                "period": m["period"],
                "due_cents": m.get("due_cents", 0),
                "paid_cents": m.get("paid_cents", 0),
                "unpaid_cents": m.get("unpaid_cents", 0),
                "asf_cents": asf,
                "asf_net_cents": net,
                "status": m.get("status", ""),
                "reason": reason.get("code"),
            }
        )
    total_asf, total_net = _asf(ledger_json)
    if "asf_complement_cents" not in ledger_json:
        total_asf = int(ledger_json.get("asf_advance_cents", 0))
    children = [
        {
            "child": c.get("child", 0),
            "due_cents": c.get("due_cents", 0),
            "paid_cents": c.get("paid_cents", 0),
            "unpaid_cents": c.get("unpaid_cents", 0),
            "asf_cents": c.get("asf_complement_cents", 0),
            "asf_net_cents": c.get("asf_complement_net_cents"),
        }
        for c in ledger_json.get("children", [])
    ]
    return {
        "months": months,
        "children": children,
        "due_cents": ledger_json.get("due_cents", 0),
        "paid_cents": ledger_json.get("paid_cents", 0),
        "arrears_cents": ledger_json.get("arrears_cents", 0),
        "asf_cents": total_asf,
        "asf_net_cents": total_net,
    }


@router.get("/dossiers/{dossier_id}", response_class=HTMLResponse)
def dossier(request: Request, dossier_id: str, caller: Operator, services: Console) -> HTMLResponse:
    today = _now(services).astimezone(PARIS).date()
    page = (
        queries.dossier(services.store, dossier_id, today=today)
        if _DOSSIER_ID.fullmatch(dossier_id)
        else None
    )
    if page is None:
        error = NotFound(f"no dossier {dossier_id}", field="dossier_id")
        return failed(
            request, services, caller, error.issues, back="/console/", section="dashboard", status=404
        )
    t = _t(request)
    ledger = _ledger_view(page.ledger.to_json())
    recent = ledger["months"][-24:]
    chart = grouped_bars(
        chart_id="ledger-chart",
        title=t("ledger_chart"),
        categories=[m["period"] for m in recent],
        series=[
            Series(t("due"), [m["due_cents"] / 100 for m in recent]),
            Series(t("paid"), [m["paid_cents"] / 100 for m in recent]),
            Series(t("asf"), [m["asf_cents"] / 100 for m in recent]),
        ],
        width=760,
    )
    receipts = [
        {
            "receipt_id": r.receipt_id,
            "created_at": r.created_at,
            "json": json.dumps(json.loads(r.receipt_json), indent=2, ensure_ascii=False),
            "signature_b64": base64.b64encode(r.signature).decode("ascii"),
            **_signature_check(services, r.signature, r.receipt_json.encode()),
        }
        for r in page.receipts
    ]
    view = dossier_view(page.data)
    mandate = mandates.view(dossier_id, page.data, page.mandate)
    return render(
        request,
        services,
        caller,
        "dossier.html",
        section="dashboard",
        title="dossier",
        d=view,
        schedule=_schedule(page.data, today),
        ledger=ledger,
        ledger_chart=chart,
        mandate=mandate,
        methods=mandates.METHODS,
        debit_days=mandates.DEBIT_DAYS,
        today=today.isoformat(),
        events=page.events,
        receipts=receipts,
    )


@router.post("/dossiers/{dossier_id}/mandate/account", response_class=HTMLResponse)
def amend_mandate_account(
    request: Request, dossier_id: str, caller: Operator, services: Console, form: Form
) -> Response:
    back = f"/console/dossiers/{dossier_id}#mandate"
    iban = form.get("iban", "").strip()
    bic = form.get("bic", "").strip() or None
    holder = form.get("holder", "").strip() or None
    if not _DOSSIER_ID.fullmatch(dossier_id):
        error = NotFound(f"no dossier {dossier_id}", field="dossier_id")
        return failed(
            request, services, caller, error.issues, back="/console/", section="dashboard", status=404
        )
    if form.get("confirm") != "yes":
        issues = mandates.form_issues(holder, iban, bic)
        if issues:
            return failed(request, services, caller, issues, back=back, section="dashboard", status=422)
        t = _t(request)
        return _confirm(
            request,
            services,
            caller,
            section="dashboard",
            question=t("amend_account"),
            action=f"/console/dossiers/{dossier_id}/mandate/account",
            fields=[("iban", iban), ("bic", bic or ""), ("holder", holder or "")],
            facts=[
                (t("dossier"), dossier_id),
                (t("new_iban"), mask_iban(iban)),
                (t("bic"), bic or "—"),
                (t("holder"), holder or "—"),
            ],
            back=back,
        )
    try:
        details = mandates.amend_account(
            services.store, dossier_id, iban=iban, bic=bic, holder=holder, now=_now(services)
        )
    except GatewayError as exc:
        return _refuse(
            request,
            services,
            caller,
            exc,
            action="mandate.amend-account",
            target=dossier_id,
            back=back,
            section="dashboard",
        )
    row = _record(services, caller, "mandate.amend-account", dossier_id, outcome="done", details=details)
    return _done(f"/console/dossiers/{dossier_id}", row, "#mandate")


@router.post("/dossiers/{dossier_id}/mandate/signature", response_class=HTMLResponse)
def record_mandate_signature(
    request: Request, dossier_id: str, caller: Operator, services: Console, form: Form
) -> Response:
    """The debtor signed the mandate (paper or electronic): from then on the dossier is collected."""
    back = f"/console/dossiers/{dossier_id}#mandate"
    if not _DOSSIER_ID.fullmatch(dossier_id):
        error = NotFound(f"no dossier {dossier_id}", field="dossier_id")
        return failed(
            request, services, caller, error.issues, back="/console/", section="dashboard", status=404
        )
    names = ("holder", "iban", "bic", "signed_on", "method", "debit_day")
    fields = {name: form.get(name, "").strip() for name in names}
    if form.get("confirm") != "yes":
        issues = mandates.form_issues(fields["holder"], fields["iban"], fields["bic"] or None)
        if issues:
            return failed(request, services, caller, issues, back=back, section="dashboard", status=422)
        t, method = _t(request), fields["method"]
        return _confirm(
            request, services, caller, section="dashboard", question=t("record_signature"),
            action=f"/console/dossiers/{dossier_id}/mandate/signature",
            fields=list(fields.items()),
            facts=[
                (t("dossier"), dossier_id), (t("holder"), fields["holder"]),
                (t("iban"), mask_iban(fields["iban"])), (t("bic"), fields["bic"] or "—"),
                (t("signature_date"), fields["signed_on"]),
                (t("method"), t(f"method_{method}") if method in mandates.METHODS else "—"),
                (t("debit_day"), fields["debit_day"] or "10"),
            ],
            back=back,
        )  # fmt: skip
    try:
        outcome, details = mandates.record_signature(services.store, dossier_id, fields, now=_now(services))
    except GatewayError as exc:
        return _refuse(
            request, services, caller, exc, action="mandate.record-signature", target=dossier_id, back=back,
            section="dashboard",
        )  # fmt: skip
    row = _record(services, caller, "mandate.record-signature", dossier_id, outcome=outcome, details=details)
    return _done(f"/console/dossiers/{dossier_id}", row, "#mandate")


# --- collections and payouts ----------------------------------------------------------------------


@router.get("/collections", response_class=HTMLResponse)
def collections(request: Request, caller: Operator, services: Console) -> HTMLResponse:
    return render(
        request,
        services,
        caller,
        "collections.html",
        section="collections",
        title="collections",
        files=queries.files(services.store),
        reports=queries.bank_reports(services.store),
    )


@router.get("/files/{message_id}/{part}")
def payment_file(message_id: str, part: str, caller: Operator, services: Console) -> Response:
    """A SEPA file as emitted (from the archive), or its detached CMS signature."""
    found = queries.payment_file(services.store, message_id) if _MESSAGE_ID.fullmatch(message_id) else None
    if found is None or found.archive_seq is None or part not in ("file", "signature"):
        raise NotFound(f"no archived file {message_id}/{part}", field="message_id")
    entry = services.archive.entry(found.archive_seq)
    if part == "file":
        data, media, name = services.archive.blob(entry.blob_sha256), "application/xml", found.file_name
    else:
        if entry.signature_sha256 is None:
            raise NotFound(f"file {message_id} has no signature", field="message_id")
        data, media, name = (
            services.archive.blob(entry.signature_sha256),
            "application/pkcs7-signature",
            (found.file_name + ".p7s"),
        )
    return Response(
        data,
        media_type=media,
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- deliveries -----------------------------------------------------------------------------------


@router.get("/deliveries", response_class=HTMLResponse)
def deliveries(request: Request, caller: Operator, services: Console) -> HTMLResponse:
    dead = services.deliveries.list_rows(status="dead", limit=100)
    return render(
        request,
        services,
        caller,
        "deliveries.html",
        section="deliveries",
        title="deliveries",
        counts=queries.delivery_counts(services.store),
        dead=dead,
        types=queries.event_types_of(services.store, [row.event_id for row in dead]),
    )


@router.post("/deliveries/retry", response_class=HTMLResponse)
def retry_deliveries(request: Request, caller: Operator, services: Console, form: Form) -> Response:
    back = "/console/deliveries"
    raw_id = form.get("delivery_id", "").strip()
    subscription = form.get("subscription", "").strip() or None
    t = _t(request)
    if raw_id:
        if not raw_id.isdigit() or len(raw_id) > 18:
            error = InvalidInput("delivery_id must be a delivery number", field="delivery_id")
            return failed(
                request, services, caller, error.issues, back=back, section="deliveries", status=400
            )
        ids: list[int] | None = [int(raw_id)]
        target = f"delivery:{raw_id}"
        fields = [("delivery_id", raw_id)]
        facts = [(t("event"), f"#{raw_id}")]
    elif subscription:
        ids, target = None, f"subscription:{subscription}"
        fields = [("subscription", subscription)]
        facts = [(t("subscription"), subscription)]
    else:
        error = InvalidInput("say which delivery (delivery_id) or subscription to retry", field="delivery_id")
        return failed(request, services, caller, error.issues, back=back, section="deliveries", status=400)
    if form.get("confirm") != "yes":
        question = t("retry") if ids else t("retry_all")
        return _confirm(
            request,
            services,
            caller,
            section="deliveries",
            question=question,
            action="/console/deliveries/retry",
            fields=fields,
            facts=facts,
            back=back,
        )
    requeued = services.deliveries.requeue_dead(ids, now=_now(services), subscription=subscription)
    outcome = "done" if requeued else "nothing-to-retry"
    row = _record(
        services, caller, "deliveries.retry", target, outcome=outcome, details={"requeued": requeued}
    )
    return _done(back, row)


# --- archive --------------------------------------------------------------------------------------


@router.get("/archive", response_class=HTMLResponse)
def archive_page(
    request: Request, caller: Operator, services: Console, seq: str | None = None
) -> HTMLResponse:
    archive = services.archive
    proof = entry = proof_error = None
    proof_ok = False
    number: int | None = None
    if seq:
        try:
            if not seq.isdigit() or len(seq) > 18:
                raise InvalidInput("the entry number is a whole number", field="seq")
            number = int(seq)
            found = archive.inclusion_proof(number)
            document = found.to_json()
            verify_proof_document(document, trust_anchors=services.trust_anchors)
            proof_ok, entry = True, found.entry
            proof = json.dumps(document, indent=2, ensure_ascii=False)
        except GatewayError as exc:
            proof_error = f"{exc.code}: {exc.message}"
    checkpoints = archive.checkpoints()[-50:][::-1]
    return render(
        request,
        services,
        caller,
        "archive.html",
        section="archive",
        title="archive",
        size=archive.size,
        verified=audit.last_of(services.store, "archive.verify"),
        seq=number,
        proof=proof,
        proof_ok=proof_ok,
        proof_error=proof_error,
        entry=entry,
        checkpoints=checkpoints,
    )


def run_verify(services: ConsoleServices) -> dict[str, Any]:
    """`gateway archive verify`, in this process (no fork from a threaded server)."""
    archive = services.archive
    with archive.store.read() as uow:
        report = verify_archive(
            uow.connection, archive.blobs, trust_anchors=services.trust_anchors, workers=1
        )
    document = report.to_json()
    document["problems"] = document["problems"][:20]
    document["notes"] = document["notes"][:20]
    return document


@router.post("/archive/verify", response_class=HTMLResponse)
def verify(request: Request, caller: Operator, services: Console, form: Form) -> Response:
    result = run_verify(services)
    row = _record(
        services,
        caller,
        "archive.verify",
        "archive",
        outcome="ok" if result["ok"] else "problems",
        details=result,
    )
    return _done("/console/archive", row)


@router.post("/archive/checkpoint", response_class=HTMLResponse)
def checkpoint(request: Request, caller: Operator, services: Console, form: Form) -> Response:
    signed = services.archive.checkpoint()
    row = _record(
        services,
        caller,
        "archive.checkpoint",
        "archive",
        outcome="done",
        details={"size": signed.size, "root": signed.root.hex()},
    )
    return _done("/console/archive", row)


# --- audit ----------------------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, caller: Operator, services: Console, before: str | None = None
) -> HTMLResponse:
    if before is not None and (not before.isdigit() or len(before) > 18):
        error = InvalidInput("before must be an audit number", field="before")
        return failed(
            request, services, caller, error.issues, back="/console/audit", section="audit", status=400
        )
    rows = audit.page(services.store, before=int(before) if before else None)
    next_before = rows[-1].audit_id if len(rows) == 50 else None
    return render(
        request,
        services,
        caller,
        "audit.html",
        section="audit",
        title="audit",
        rows=rows,
        next_before=next_before,
    )
