# The gateway as a container: `gateway serve` over mutual TLS on 8443, as a non-root user.
#   docker build -t ifpa-gateway .
#   docker run -p 8443:8443 -v "$PWD/certs/dev:/certs:ro" -v gateway-data:/data ifpa-gateway
# Certificates (server.pem, server-key.pem, ca.pem, signer.pem, signer-key.pem) are mounted at
# /certs, never baked in; the SQLite file and the archive live in /data unless
# GATEWAY_DATABASE_URL points to PostgreSQL. Every setting is a GATEWAY_* environment variable.

# --- build: wheels of the gateway and of every dependency ----------------------------------------
FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
# gateway/schemas links to ../schemas: the wheel takes the files themselves as package data
COPY schemas ./schemas
RUN pip wheel --wheel-dir /wheels .

# --- runtime: a virtualenv installed offline from those wheels -----------------------------------
FROM python:3.11-slim
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 \
    PATH=/opt/gateway/bin:$PATH \
    GATEWAY_CERTS_DIR=/certs GATEWAY_DATA_DIR=/data
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin gateway \
    && mkdir -p /data /certs && chown gateway:gateway /data
COPY --from=builder /wheels /tmp/wheels
RUN python -m venv /opt/gateway \
    && /opt/gateway/bin/pip install --no-index --find-links /tmp/wheels ifpa-gateway \
    && rm -rf /tmp/wheels
USER gateway
WORKDIR /data
VOLUME ["/data", "/certs"]
EXPOSE 8443
ENTRYPOINT ["gateway"]
CMD ["serve", "--host", "0.0.0.0"]
