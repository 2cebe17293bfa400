"""Settings from the environment (GATEWAY_*), built once at start, never at import."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CertificateRoleRule(BaseModel):
    """Maps verified client certificates to a role; every field given must match.

    `fingerprint_sha256`: hex SHA-256 of the certificate's DER (colons and case ignored);
    `subject` / `issuer`: RFC 4514 strings as `openssl x509 -noout -subject -nameopt RFC2253` prints.
    """

    role: str
    fingerprint_sha256: str | None = None
    subject: str | None = None
    issuer: str | None = None


class WebhookSubscription(BaseModel):
    """A back-office endpoint that receives events by HTTP POST, signed per Standard Webhooks.

    `secret`: `whsec_` + base64 of the 24-64 byte HMAC key, as the specification hands secrets out
    (checked by gateway.delivery when the worker starts, so that a refused secret is never echoed
    in a validation error); `types`: the event types to push (empty: all); `id`: the stable name
    deliveries are kept under (default: the URL).
    """

    url: str
    secret: SecretStr
    types: list[str] = Field(default_factory=list)
    id: str | None = None

    @property
    def key(self) -> str:
        return self.id or self.url


class Settings(BaseSettings):
    """Every setting has an embedded default that serves one machine with zero setup."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_nested_delimiter="__", extra="ignore")

    # where things live (relative to the working directory unless absolute)
    data_dir: Path = Path("var")
    certs_dir: Path = Path("certs/dev")
    database_url: str | None = None  # default: sqlite file under data_dir
    archive_dir: Path | None = None  # default: data_dir / "archive"
    archive_checkpoint_every: int = 100  # sign a checkpoint every N archive entries (and at exit)

    # signing identity (default: certs_dir/signer.pem + signer-key.pem)
    signer_cert: Path | None = None
    signer_key: Path | None = None
    signer_key_password: SecretStr | None = None

    # HTTPS server
    host: str = "127.0.0.1"
    port: int = 8443
    tls_cert: Path | None = None  # default certs_dir/server.pem
    tls_key: Path | None = None  # default certs_dir/server-key.pem
    client_ca: Path | None = None  # default certs_dir/ca.pem
    # addresses allowed to send the RFC 9440 Client-Cert header
    trusted_proxies: list[str] = Field(default_factory=list)
    max_payload_bytes: int = 10 * 1024 * 1024
    # server limits (gateway.transport.http.guard; how the defaults were chosen: docs/robustness.md)
    max_connections: int = Field(default=1000, ge=1)  # also kept below the open-files limit
    keep_alive_seconds: float = Field(default=5.0, gt=0)  # idle between two requests
    header_timeout_seconds: float = Field(default=10.0, gt=0)  # TLS handshake; then a request's head
    body_timeout_seconds: float = Field(default=60.0, gt=0)  # a whole body, from its head
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)  # request line and headers
    log_level: str = Field(default="INFO", pattern="^(?i:DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    # processes that validate, render and sign incoming titles beside each server process
    # (0: in the server process itself); requests are taken in batches of at most intake_max_batch
    intake_processes: int = Field(default=1, ge=0, le=64)
    intake_max_batch: int = Field(default=128, ge=1, le=10_000)
    intake_max_batch_bytes: int = Field(default=32 * 1024 * 1024, ge=1)
    # container allocations between two young-generation garbage collections in `gateway serve`
    # (CPython's default, 700, made collections so frequent that they set the latency tail)
    gc_young_threshold: int = Field(default=20_000, ge=100)
    # client certificate -> role: explicit rules first (GATEWAY_ROLE_RULES as a JSON list), then,
    # when dev_roles is on, the subject's OU or CN when it names a role (the `certs init` certificates)
    role_rules: list[CertificateRoleRule] = Field(default_factory=list)
    dev_roles: bool = True

    # the fund as SEPA creditor / debtor of the credit transfers
    creditor_name: str = "CAF DEMO ARIPA"
    creditor_id: str = "FR72ZZZ123456"  # ICS (AT-02), checked with python-stdnum
    creditor_iban: str = "FR7630006000011234567890189"
    creditor_bic: str = "AGRIFRPP"
    # the fund's own postal address (structured or hybrid, as `gateway.sepa.model.PostalAddress`):
    # mandatory in a file's batch whose debtor (pain.008) or creditor (pain.001) banks outside the
    # EEA (SDD Core rulebook 2025 AT-05, SCT rulebook 2025 AT-03). The default is a demo address,
    # like the demo account above; an empty town means "no address" (such batches are refused).
    creditor_address_street: str | None = "Rue de la Demo"
    creditor_address_building_number: str | None = "1"
    creditor_address_postcode: str | None = "75015"
    creditor_address_town: str = "Paris"
    creditor_address_country: str = "FR"
    creditor_address_lines: list[str] = Field(default_factory=list)  # hybrid form: AdrLine, at most 2
    outbound_dir: Path | None = None  # bank channel folder; default data_dir / "outbound"
    bank_upload_url: str | None = None

    # back-office delivery (issue 7): webhook subscriptions as a JSON list in GATEWAY_WEBHOOKS,
    # e.g. '[{"url": "https://bo.example/hooks", "secret": "whsec_...", "types": ["dossier.accepted"]}]'
    webhooks: list[WebhookSubscription] = Field(default_factory=list)
    webhook_max_attempts: int = Field(default=8, ge=1, le=100)  # then the delivery is dead
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)  # whole attempt, connect to answer
    webhook_backoff_base_seconds: float = Field(default=10.0, gt=0)  # retry n waits <= base * 2**(n-1)
    webhook_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    # a claimed delivery is another worker's to take once its lease is over (crashed worker);
    # it must outlast an attempt: at least twice the timeout
    delivery_lease_seconds: float = Field(default=60.0, gt=0)
    delivery_poll_seconds: float = Field(default=1.0, gt=0)
    delivery_batch_size: int = Field(default=20, ge=1, le=1000)
    deliver_in_serve: bool = True  # run the delivery worker inside `gateway serve`

    def resolved(self, value: Path | None, default: Path) -> Path:
        return value if value is not None else default

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'gateway.sqlite3'}"

    @property
    def effective_archive_dir(self) -> Path:
        return self.resolved(self.archive_dir, self.data_dir / "archive")

    @property
    def effective_outbound_dir(self) -> Path:
        return self.resolved(self.outbound_dir, self.data_dir / "outbound")

    @property
    def effective_signer_cert(self) -> Path:
        return self.resolved(self.signer_cert, self.certs_dir / "signer.pem")

    @property
    def effective_signer_key(self) -> Path:
        return self.resolved(self.signer_key, self.certs_dir / "signer-key.pem")

    @property
    def effective_tls_cert(self) -> Path:
        return self.resolved(self.tls_cert, self.certs_dir / "server.pem")

    @property
    def effective_tls_key(self) -> Path:
        return self.resolved(self.tls_key, self.certs_dir / "server-key.pem")

    @property
    def effective_client_ca(self) -> Path:
        return self.resolved(self.client_ca, self.certs_dir / "ca.pem")
