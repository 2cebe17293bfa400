"""Small text helpers shared by the pain writers: escaping, dates, parties and addresses."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from gateway.errors import RuleViolation
from gateway.sepa import rules
from gateway.sepa.countries import bank_outside_eea
from gateway.sepa.xsd import ValidatingSink

if TYPE_CHECKING:
    from gateway.sepa.batches import Batch
from gateway.sepa.model import ByteSink, Fund, MessageHeader, PostalAddress, WriteSummary, format_cents

NOTPROVIDED = "NOTPROVIDED"  # EPC130-08/EPC125-05 IG: BIC of the other bank not given


def esc(value: str) -> str:
    """XML text escape. After the rules every value is in the SEPA set, which has no XML
    special character, so this is a cheap membership test nearly always."""
    if "&" in value or "<" in value or ">" in value:  # what xml.sax.saxutils.escape does
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


def iso_datetime(moment: datetime) -> str:
    """CreDtTm in UTC with a `Z` (xs:dateTime); a naive datetime is refused, not guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("created_at must be timezone-aware (UTC)")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(day: date) -> str:
    return day.isoformat()


def address_xml(address: PostalAddress | None) -> str:
    """Structured or hybrid PstlAdr; element order is the same in PostalAddress6 (.02/.03) and
    PostalAddress24 (.08/.09) for the parts we write: the structured parts, then `Ctry`, then
    the hybrid form's AdrLine (at most two, `rules.address_rule`)."""
    if address is None:
        return ""
    parts = ["<PstlAdr>"]
    if address.street is not None:
        parts.append(f"<StrtNm>{esc(address.street)}</StrtNm>")
    if address.building_number is not None:
        parts.append(f"<BldgNb>{esc(address.building_number)}</BldgNb>")
    if address.postcode is not None:
        parts.append(f"<PstCd>{esc(address.postcode)}</PstCd>")
    parts.append(f"<TwnNm>{esc(address.town)}</TwnNm><Ctry>{address.country}</Ctry>")
    parts.extend(f"<AdrLine>{esc(line)}</AdrLine>" for line in address.lines)
    parts.append("</PstlAdr>")
    return "".join(parts)


def agent_xml(bic: str | None, *, bicfi: bool) -> str:
    """FinInstnId with the BIC (`BICFI` from .08/.09, `BIC` before), or `NOTPROVIDED`."""
    if bic is None:
        return f"<FinInstnId><Othr><Id>{NOTPROVIDED}</Id></Othr></FinInstnId>"
    tag = "BICFI" if bicfi else "BIC"
    return f"<FinInstnId><{tag}>{bic}</{tag}></FinInstnId>"


def leaf(tag: str, text: str) -> etree._Element:
    """A namespace-less element: it inherits the Document's default namespace when written."""
    element = etree.Element(tag)
    element.text = text
    return element


def node(tag: str, *children: etree._Element) -> etree._Element:
    element = etree.Element(tag)
    element.extend(children)
    return element


def agent_element(bic: str | None, bic_tag: str) -> etree._Element:
    """FinInstnId element form of `agent_xml` (headers are built with lxml)."""
    if bic is None:
        return node("FinInstnId", node("Othr", leaf("Id", NOTPROVIDED)))
    return node("FinInstnId", leaf(bic_tag, bic))


def address_element(address: PostalAddress) -> etree._Element:
    """Element form of `address_xml` (the batch headers are built with lxml): PstlAdr with the
    structured parts, `Ctry`, then the hybrid form's AdrLine, in PostalAddress6/24 order."""
    parts = [
        leaf(tag, value)
        for tag, value in (
            ("StrtNm", address.street),
            ("BldgNb", address.building_number),
            ("PstCd", address.postcode),
            ("TwnNm", address.town),
            ("Ctry", address.country),
        )
        if value is not None
    ]
    parts.extend(leaf("AdrLine", line) for line in address.lines)
    return node("PstlAdr", *parts)


def fund_party(fund: Fund, tag: str, *, with_address: bool) -> etree._Element:
    """The fund as `Cdtr` (pain.008) or `Dbtr` (pain.001): its name, and its postal address
    when the batch needs it (`rules.fund_address_rule`)."""
    if with_address and fund.address is not None:
        return node(tag, leaf("Nm", fund.name), address_element(fund.address))
    return node(tag, leaf("Nm", fund.name))


def group_header(header: MessageHeader, fund: Fund, count: int, total_cents: int) -> etree._Element:
    """GrpHdr: MsgId, CreDtTm, NbOfTxs, CtrlSum (from pass 1), InitgPty (the fund)."""
    return node(
        "GrpHdr",
        leaf("MsgId", header.message_id),
        leaf("CreDtTm", iso_datetime(header.created_at)),
        leaf("NbOfTxs", str(count)),
        leaf("CtrlSum", format_cents(total_cents)),
        node("InitgPty", leaf("Nm", fund.name)),
    )


FRAGMENTS_PER_WRITE = 512  # ~300 KB per write: few sink calls, bounded memory


def write_fragments(stream: ByteSink, fragments: Iterable[str]) -> None:
    """Write transaction fragments in groups (one encode and one write per group)."""
    group: list[str] = []
    for fragment in fragments:
        group.append(fragment)
        if len(group) == FRAGMENTS_PER_WRITE:
            stream.write("".join(group).encode())
            group.clear()
    if group:
        stream.write("".join(group).encode())


_BUFFER = 1 << 20


def fund_address_needed(fund: Fund, batches: Iterable[Batch[Any]], role: str) -> bool:
    """Whether the batch headers carry the fund's address: some batch has a party banking outside
    the EEA, or the fund's own bank is; RuleViolation `sepa-fund-address-required` when the
    fund has none (before a byte is written)."""
    needed = any(batch.outside_eea for batch in batches)
    issues = list(rules.fund_address_rule(fund, needed, role))
    if issues:
        raise RuleViolation.from_issues(issues)
    return needed or bank_outside_eea(fund.iban, fund.bic)


def checked_fund(fund: Fund, header: MessageHeader, *, needs_creditor_id: bool) -> Fund:
    """The fund normalized, after the rules on it and on the MsgId; a naive CreDtTm is refused too.

    Done before a writer's first pass over the transactions, which can be long."""
    fund = rules.normalize_fund(fund)
    issues = [
        *rules.check_fund(fund, needs_creditor_id=needs_creditor_id),
        *rules.identifier_rule(header.message_id, "header.message_id"),
    ]
    if issues:
        raise RuleViolation.from_issues(issues)
    iso_datetime(header.created_at)
    return fund


def to_sink(out: ByteSink | Path, version: str, write: Callable[[ByteSink], WriteSummary]) -> WriteSummary:
    """Run `write` on `out`. A path is written through a `ValidatingSink`: every byte is checked
    against the official XSD of `version` and hashed as it is written, and the summary carries the
    file's SHA-256 and size; a file that fails (a rule, the XSD, anything) is deleted before the
    error goes up, so a path holds a complete, valid file or nothing."""
    if not isinstance(out, Path):
        return write(out)
    try:
        with ValidatingSink(out, version, digest=True, buffer_size=_BUFFER) as sink:
            summary = write(sink)
        return replace(summary, sha256=sink.sha256.hex(), size=sink.size)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
