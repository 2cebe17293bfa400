"""What the container image and CI install: the Dockerfile, the lock file, the wheel smoke in CI.
(No Docker engine here: scripts/wheel-smoke replays the image's entrypoint on the installed wheel.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_base_image_is_pinned_by_digest_in_every_stage() -> None:
    image = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.M)
    assert image is not None
    assert re.fullmatch(r"python:3\.11[.\w-]*@sha256:[0-9a-f]{64}", image.group(1)), image.group(1)
    stages = re.findall(r"^FROM (\S+)", DOCKERFILE, re.M)
    assert stages == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"], stages


def test_the_image_installs_the_locked_dependencies_with_their_hashes() -> None:
    assert "pip install --require-hashes -r /tmp/requirements.lock" in DOCKERFILE
    assert "pip install --no-deps --no-index /tmp/wheels/*.whl" in DOCKERFILE


def test_the_image_runs_as_a_non_root_user_with_an_entrypoint_and_a_healthcheck() -> None:
    assert re.search(r"^USER 10001:10001$", DOCKERFILE, re.M)
    assert re.search(r'^HEALTHCHECK .*CMD \["gateway", "healthcheck"\]$', DOCKERFILE, re.M)
    assert 'ENTRYPOINT ["gateway-entrypoint"]' in DOCKERFILE
    assert "COPY --chmod=0755 scripts/container-entrypoint /usr/local/bin/gateway-entrypoint" in DOCKERFILE
    assert os.access(ROOT / "scripts" / "container-entrypoint", os.X_OK)
    assert "GATEWAY_CERTS_DIR=/data/certs" in DOCKERFILE  # the dev PKI lands in the user's volume


def test_the_lock_pins_every_runtime_dependency_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pinned = {normal(m.group(1)) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==\S+ \\$", lock, re.M)}
    wanted = {normal(re.split(r"[\[<>=!~ ;]", dep, maxsplit=1)[0]) for dep in project["dependencies"]}
    assert wanted <= pinned, f"run `make lock`: {sorted(wanted - pinned)} not in requirements.lock"
    entries = re.split(r"\n(?=[A-Za-z])", lock.split("\n\n", 1)[-1].strip())
    assert all("--hash=sha256:" in entry for entry in entries if "==" in entry)


def test_ci_runs_the_wheel_smoke() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/wheel-smoke" in ci
    smoke = (ROOT / "scripts" / "wheel-smoke").read_text(encoding="utf-8")
    assert "--require-hashes -r" in smoke
    assert 'cd "$work/run"' in smoke  # outside the checkout


def test_make_bench_runs_every_benchmark_that_exists() -> None:
    # issue 14: `make bench` called bench/run_all.py, which did not exist
    assert "$(PY) bench/run_all.py" in (ROOT / "Makefile").read_text(encoding="utf-8")
    listed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run_all.py"), "--list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    scripts = {line.split("bench/")[1] for line in listed.splitlines()}
    helpers = {"postgres.py", "run_all.py", "load_store.py"}  # load_store: store_run's loader
    assert scripts == {p.name for p in (ROOT / "bench").glob("*.py")} - helpers


@pytest.mark.slow
def test_the_doctests_of_gateway_are_collected_with_the_tests() -> None:
    # issue 14: doctests in five modules were never collected
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "gateway"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for module in ("payments/amounts.py", "payments/asf.py", "payments/calendar.py", "sepa/charset.py"):
        assert f"gateway/{module}::" in listed, listed


@pytest.mark.slow
def test_the_slow_and_postgres_markers_are_used() -> None:
    # issue 14: declared and never used
    def collected(marker: str) -> list[str]:
        pytest_command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        listed = subprocess.run(
            [*pytest_command, "-m", marker, "tests"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return [line for line in listed.splitlines() if "::" in line]

    assert any("tests/e2e/test_serve.py::" in item for item in collected("slow"))
    assert any(item.endswith("[postgresql]") for item in collected("postgres"))
