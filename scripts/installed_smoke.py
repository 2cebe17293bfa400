"""Run from an installed wheel, in an empty folder (scripts/wheel-smoke): `gateway demo`, then
`gateway serve` with one title posted over mutual TLS, then `gateway bank import` of a report.
Standard library and the gateway's own dependencies only; exits non-zero at the first surprise."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

import gateway
from gateway.resources import EXAMPLES_DIR


def run(*args: str) -> subprocess.CompletedProcess[str]:
    print("$ gateway", " ".join(args), flush=True)
    done = subprocess.run(["gateway", *args], capture_output=True, text=True, timeout=300, check=False)
    print(done.stdout + done.stderr, end="", flush=True)
    if done.returncode != 0 or "Traceback" in done.stdout + done.stderr:
        sys.exit(f"gateway {' '.join(args)} failed with exit status {done.returncode}")
    return done


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(proc: subprocess.Popen[bytes], check: list[str], env: dict[str, str]) -> None:
    deadline = time.monotonic() + 60
    while subprocess.run(check, env=env, capture_output=True, check=False).returncode != 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            output = proc.stdout.read().decode() if proc.stdout else ""
            sys.exit(f"the server did not become healthy (exit status {proc.poll()}): {output}")
        time.sleep(0.3)


def container_entrypoint(entrypoint: str, base: Path) -> None:
    """The image's ENTRYPOINT and HEALTHCHECK as a non-root uid that owns nothing but its data folder:
    a first start creates the dev PKI readable by that uid; keys it cannot read are one clear line."""
    uid = 10001
    as_user = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    data = base / "container-data"
    data.mkdir()
    os.chown(data, uid, uid)
    env = os.environ | {
        "GATEWAY_DATA_DIR": str(data),
        "GATEWAY_CERTS_DIR": str(data / "certs"),
        "GATEWAY_PORT": str(free_port()),
        "HOME": str(data),
    }
    print(f"$ {' '.join(as_user)} gateway-entrypoint serve  (uid {uid}, data in {data})", flush=True)
    server = subprocess.Popen(
        [*as_user, entrypoint, "serve", "--host", "127.0.0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_healthy(server, [*as_user, "gateway", "healthcheck"], env)
        print("HEALTHCHECK (gateway healthcheck as the same uid): healthy", flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        ended = server.wait(timeout=60)
    assert ended == 0, f"the entrypoint's gateway serve ended with exit status {ended}"
    key = data / "certs" / "server-key.pem"
    assert (key.stat().st_uid, key.stat().st_mode & 0o777) == (uid, 0o600), "dev PKI not owned by the user"

    # Keys owned by someone else (root here, the host user in a bind mount), mode 0600:
    foreign = base / "foreign-certs"
    run("certs", "init", "--dir", str(foreign))
    done = subprocess.run(
        [*as_user, entrypoint, "serve"],
        env=env | {"GATEWAY_CERTS_DIR": str(foreign)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    print(done.stderr, end="")
    lines = done.stderr.splitlines()
    assert done.returncode == 3, done.stderr
    assert len(lines) == 1, done.stderr
    assert "is not readable by uid 10001" in lines[0], lines[0]


def main() -> None:
    here = Path.cwd()
    package = Path(gateway.__file__).resolve().parent
    assert "site-packages" in package.parts, f"gateway imported from {package}, not from the wheel"
    print(f"gateway imported from {package}")

    run("demo")
    assert not (here / "var").exists(), "the demo left var/ behind"

    run("certs", "init")
    port = free_port()
    server = subprocess.Popen(
        ["gateway", "serve", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        context = ssl.create_default_context(cafile="certs/dev/ca.pem")
        context.load_cert_chain("certs/dev/greffe.pem", "certs/dev/greffe-key.pem")
        with httpx.Client(base_url=f"https://localhost:{port}", verify=context, timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode() if server.stdout else ""
                    sys.exit(f"gateway serve did not become ready: {output}")
                time.sleep(0.2)
            answer = client.post(
                "/v1/greffe/transmissions",
                content=(EXAMPLES_DIR / "greffe-1.xml").read_bytes(),
                headers={"Content-Type": "application/xml"},
            )
            status = answer.json()["receipt"]["status"]
            print(f"POST /v1/greffe/transmissions -> {answer.status_code} {status}")
            assert answer.status_code == 201, answer.text
    finally:
        server.send_signal(signal.SIGTERM)
        ended = server.wait(timeout=60)
    assert ended == 0, f"gateway serve ended with exit status {ended}"

    imported = run("bank", "import", "camt054_v08_credits.xml")
    assert "camt.054.001.08" in imported.stdout, imported.stdout
    run("archive", "verify")

    entrypoint = os.environ.get("GATEWAY_SMOKE_ENTRYPOINT", "")
    if entrypoint and os.geteuid() == 0 and shutil.which("setpriv"):
        container_entrypoint(entrypoint, here.parent)
    else:
        print("container entrypoint as a non-root uid: not replayed (needs root and setpriv)")
    print("installed smoke: ok", flush=True)


if __name__ == "__main__":
    os.environ.pop("PYTHONPATH", None)
    main()
