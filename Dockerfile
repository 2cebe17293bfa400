# syntax=docker/dockerfile:1
# The gateway as a container: `gateway serve` over mutual TLS on 8443, as the non-root user uid 10001.
#   docker build -t ifpa-gateway .
#   docker run -p 8443:8443 -v gateway-data:/data ifpa-gateway
# On first start the entrypoint (scripts/container-entrypoint) creates a development PKI in
# /data/certs, readable by uid 10001; the SQLite file and the archive live in /data unless
# GATEWAY_DATABASE_URL points to PostgreSQL. Your own certificates: docs/install.md ("Container").
# Every setting is a GATEWAY_* environment variable.
#
# Base image pinned by digest (multi-arch index of python:3.11.10-slim-bookworm); to move on, take the
# new tag's digest (`docker buildx imagetools inspect python:3.11-slim`) and change both stages at once.
ARG PYTHON_IMAGE=python:3.11.10-slim-bookworm@sha256:5148c0e4bbb64271bca1d3322360ebf4bfb7564507ae32dd639322e4952a6b16

# --- build: the gateway's wheel ------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
# gateway/schemas links to ../schemas: the wheel takes the files themselves as package data
COPY schemas ./schemas
RUN pip wheel --no-deps --wheel-dir /wheels .

# --- runtime: a virtualenv with the locked dependencies (hashes checked), then the gateway -------
FROM ${PYTHON_IMAGE}
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 \
    PATH=/opt/gateway/bin:$PATH \
    GATEWAY_DATA_DIR=/data GATEWAY_CERTS_DIR=/data/certs
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin gateway \
    && mkdir -p /data && chown gateway:gateway /data
COPY requirements.lock /tmp/requirements.lock
COPY --from=builder /wheels /tmp/wheels
RUN python -m venv /opt/gateway \
    && /opt/gateway/bin/pip install --require-hashes -r /tmp/requirements.lock \
    && /opt/gateway/bin/pip install --no-deps --no-index /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels /tmp/requirements.lock
COPY --chmod=0755 scripts/container-entrypoint /usr/local/bin/gateway-entrypoint
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8443
# `gateway healthcheck`: GET /healthz over mutual TLS with the certs dir's backoffice.pem (or
# GATEWAY_HEALTHCHECK_CERT / GATEWAY_HEALTHCHECK_KEY)
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["gateway", "healthcheck"]
ENTRYPOINT ["gateway-entrypoint"]
CMD ["serve", "--host", "0.0.0.0"]
