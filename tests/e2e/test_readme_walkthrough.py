"""The README's walk-through, replayed command by command as a user types it in one terminal, against a
real `gateway serve` in a temporary folder: every ```sh replay block, each command's output compared
with the `# ` lines under it (`…` stands for what differs each time), status codes included."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import free_port, tls_context, wait_until_ready

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```sh replay\n(.*?)^```$", re.M | re.S)
END = "__replayed__"


@dataclass(frozen=True)
class Command:
    text: str
    expected: tuple[str, ...]


def commands(markdown: str) -> list[Command]:
    """Each command (continuation lines and multi-line quotes joined) with the `# ` lines under it."""
    found: list[Command] = []
    for block in BLOCK.findall(markdown):
        lines = block.splitlines()
        n = 0
        while n < len(lines):
            text = lines[n]
            n += 1
            while text.endswith("\\") or text.count("'") % 2:
                text += "\n" + lines[n]
                n += 1
            expected = []
            while n < len(lines) and lines[n].startswith("#"):
                expected.append(lines[n].removeprefix("#").removeprefix(" "))
                n += 1
            found.append(Command(text, tuple(expected)))
    return found


def matches(expected: str, line: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.split("…"))
    return re.fullmatch(pattern, line) is not None


def test_the_readme_has_a_replayable_walk_through() -> None:
    replayed = commands(README.read_text(encoding="utf-8"))
    assert len(replayed) >= 10
    for command in replayed:
        if command.text.startswith("curl"):
            # issue 14: `-s` alone hid the status codes
            assert "%{http_code}" in command.text, command.text
            assert re.fullmatch(r"\d{3}( \S+)?", command.expected[-1]), command


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A fresh folder with the examples, its dev PKI and `gateway serve` answering on a free port."""
    shutil.copytree(ROOT / "schemas" / "examples", tmp_path / "schemas" / "examples")
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    gateway = [sys.executable, "-m", "gateway"]
    subprocess.run([*gateway, "certs", "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*gateway, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        with httpx.Client(
            base_url=f"https://localhost:{port}", verify=tls_context(tmp_path / "certs" / "dev", "greffe")
        ) as client:
            wait_until_ready(client, server)
        yield tmp_path, port
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        if server.stdout:
            server.stdout.close()


@pytest.mark.slow
def test_the_walk_through_answers_as_the_readme_says(
    folder: tuple[Path, int], tmp_path_factory: pytest.TempPathFactory
) -> None:
    cwd, port = folder
    answers = tmp_path_factory.mktemp("answers")
    shell = subprocess.Popen(
        ["bash", "--norc", "--noprofile"],
        cwd=cwd,
        env=os.environ | {"TMPDIR": str(answers)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert shell.stdin is not None
    assert shell.stdout is not None
    try:
        for command in commands(README.read_text(encoding="utf-8")):
            text = command.text.replace("https://localhost:8443", f"https://localhost:{port}")
            shell.stdin.write(f"{text}\necho {END} $?\n")
            shell.stdin.flush()
            output: list[str] = []
            while not (line := shell.stdout.readline()).startswith(END):
                assert line, f"the shell ended during: {command.text}"
                output.append(line.rstrip("\n"))
            status = int(line.split()[1])
            assert status == 0, f"{command.text}\nexit status {status}:\n" + "\n".join(output)
            assert len(output) == len(command.expected), (command.text, output)
            for expected, got in zip(command.expected, output, strict=True):
                assert matches(expected, got), f"{command.text}\nREADME: {expected}\nactual: {got}"
    finally:
        shell.stdin.close()
        shell.wait(timeout=30)
        shell.stdout.close()
    # the answers went to the temporary folder, none into the folder the user works in
    assert sorted(p.name for p in cwd.iterdir()) == ["certs", "schemas", "var"]
    assert {p.name for p in next(answers.iterdir()).iterdir()} >= {
        "answer.json",
        "receipt.p7s",
        "dossier.xml",
    }
