"""`gateway mandates ...`: record a debtor's signed SEPA mandate and a creditor's payout account,
and list the dossiers still waiting for either (the same service as the HTTP API:
gateway.services.mandates). A refused input prints one line per problem, `error: CODE (FIELD):
MESSAGE`, on stderr and exits 1; nothing is recorded then."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from gateway.cli import main
from gateway.errors import GatewayError

T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


def refused(exc: GatewayError) -> click.exceptions.Exit:
    """Print each problem of `exc` as one line (never a traceback) and exit 1."""
    for issue in exc.issues:
        where = f" ({issue.field})" if issue.field else ""
        click.echo(f"error: {issue.code}{where}: {issue.message}", err=True)
    return click.exceptions.Exit(1)


def with_gateway(action: Callable[[Any], T]) -> T:
    """Run `action(gateway)` on the configured gateway; a GatewayError becomes one line per issue."""
    from gateway.bootstrap import build
    from gateway.config import Settings

    try:
        with build(Settings()) as gw:
            return action(gw)
    except GatewayError as exc:
        raise refused(exc) from None


@main.group("mandates")
def mandates() -> None:
    """Signed SEPA mandates of debtor parents, payout accounts of creditor parents."""


@mandates.command("sign")
@click.argument("dossier_id")
@click.option("--holder", required=True, help="Account holder, as on the signed mandate.")
@click.option("--iban", required=True)
@click.option("--bic", default=None, help="Optional (an IBAN alone identifies a SEPA account).")
@click.option("--signed-on", required=True, metavar="YYYY-MM-DD", help="Date the debtor signed (AT-25).")
@click.option("--method", required=True, metavar="paper|electronic", help="How the debtor signed.")
@click.option("--day", type=int, default=None, help="Debit day the debtor chose: 1, 10 or 15 (default 10).")
def sign_command(
    dossier_id: str, *, holder: str, iban: str, bic: str | None, signed_on: str, method: str, day: int | None
) -> None:
    """Record the SEPA mandate the debtor of DOSSIER_ID signed: from then on the dossier is
    collected (FRST first, then RCUR). On a mandate already collected on, a new account is an
    amendment the next debit carries (same bank: the original IBAN; another bank: SMNDA)."""
    from gateway.services.mandates import sign_mandate

    recorded = with_gateway(
        lambda gw: sign_mandate(
            gw.store, dossier_id, holder=holder, iban=iban, bic=bic, signed_on=signed_on,
            method=method, debit_day=day, now=_now(),
        )
    )  # fmt: skip
    click.echo(json.dumps({**recorded.view, "changed": recorded.changed}, ensure_ascii=False))


@mandates.command("payout-account")
@click.argument("dossier_id")
@click.option("--holder", required=True, help="Account holder (the creditor parent).")
@click.option("--iban", required=True)
@click.option("--bic", default=None)
def payout_account_command(dossier_id: str, holder: str, iban: str, bic: str | None) -> None:
    """Record the account the creditor parent of DOSSIER_ID is paid on: payouts go there only."""
    from gateway.services.mandates import record_payout_account

    recorded = with_gateway(
        lambda gw: record_payout_account(gw.store, dossier_id, holder=holder, iban=iban, bic=bic, now=_now())
    )
    click.echo(json.dumps({**recorded.view, "changed": recorded.changed}, ensure_ascii=False))


@mandates.command("show")
@click.argument("dossier_id")
def show_command(dossier_id: str) -> None:
    """DOSSIER_ID's mandate (pending or signed) and payout account, as JSON."""
    from gateway.services.mandates import show_mandate, show_payout_account

    found = with_gateway(
        lambda gw: {
            "mandate": show_mandate(gw.store, dossier_id),
            "payout_account": show_payout_account(gw.store, dossier_id),
        }
    )
    click.echo(json.dumps(found, ensure_ascii=False, indent=2))


@mandates.command("pending")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of the table.")
def pending_command(as_json: bool) -> None:
    """Dossiers in force the collection or the payout leaves out, with why: `mandate-pending` (no
    signed mandate: not debited), `no-payout-account` (the creditor is not paid). The table
    says whether the title brought the debtor's bank details (a pre-fill, not a signature)."""
    from gateway.services.mandates import fund_today, waiting

    def listing(gw: Any) -> int:
        count = 0
        if not as_json:
            click.echo(f"{'DOSSIER':<24}  {'WAITING FOR':<34}  {'RECEIVED':<10}  TITLE BANK DETAILS")
        for item in waiting(gw.store, today=fund_today(_now())):
            count += 1
            if as_json:
                click.echo(json.dumps(item.to_json()))
            else:
                reasons = ",".join(item.reasons)
                received = item.received_at.date().isoformat()
                prefill = "yes" if item.prefilled else "no"
                click.echo(f"{item.dossier_id:<24}  {reasons:<34}  {received:<10}  {prefill}")
        return count

    count = with_gateway(listing)
    if not as_json:
        click.echo(f"{count} dossier(s) waiting", err=True)
