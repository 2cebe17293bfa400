"""The docs stay in step with the code; the repository is read on its own.

Code, tests and README cite docs/ pages, never files outside the repository. A citation of a page of
`docs/` must name a page that exists, and a quoted section after it (`docs/rules.md "Duplicates"`)
must be one of that page's headings. Every page of `docs/` is listed in its index,
`docs/README.md`, and every setting of `gateway/config.py` is in `docs/operations.md`.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
READ = ("gateway", "tests", "schemas", "bench", "scripts", "openapi", "docs", "certs", ".ci")
TOP_FILES = ("README.md", "Makefile", "pyproject.toml", "Dockerfile")
TEXT_SUFFIXES = {".py", ".md", ".xsd", ".json", ".toml", ".txt", ".xml", ".sh", ".cfg", ".ini", ""}

# Built from pieces so that this file does not cite what it forbids.
_DESIGN = "|".join(name + r"\.md" for name in ("CONTRACT", "DOMAIN", "ARCHITECTURE", "STYLE"))
OUTSIDE = re.compile(
    rf"\b(?:{_DESIGN})|\bCONTRACT\s*§|\.\./shared\b|\bshared/(?:design|seeds)\b|/work/(?:shared|wt|main)\b"
)
# `docs/x.md` or `../docs/x.md`, not a URL's `.../docs/x.md`; a quoted section may follow
DOCS_CITATION = re.compile(r'(?:(?<=\.\./)|(?<![\w/.-]))docs/([a-z0-9-]+\.md)(?:,? "([^"\n]+)")?')


def _files() -> list[Path]:
    """Every text file read, this one aside (its examples are citations on purpose)."""
    found = [ROOT / name for name in TOP_FILES if (ROOT / name).is_file()]
    for folder in READ:
        for path in sorted((ROOT / folder).rglob("*")):
            if (
                path.is_file()
                and path.suffix in TEXT_SUFFIXES
                and "__pycache__" not in path.parts
                and not path.is_symlink()
                and path != Path(__file__).resolve()
            ):
                found.append(path)
    return found


def _headings(page: Path) -> list[str]:
    return [
        line.lstrip("#").strip().strip("`")
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    ]


def test_nothing_cites_files_outside_the_repository() -> None:
    offenders = []
    for path in _files():
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert offenders == [], "cite the matching docs/ page instead:\n" + "\n".join(offenders)


def test_every_docs_citation_names_a_page_and_a_section_that_exist() -> None:
    broken = []
    for path in _files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in DOCS_CITATION.finditer(text):
            page, section = DOCS / match.group(1), match.group(2)
            where = f"{path.relative_to(ROOT)}: {match.group(0)}"
            if not page.is_file():
                broken.append(f"{where}: no such page")
            elif section is not None and not any(h.startswith(section) for h in _headings(page)):
                broken.append(f"{where}: no such section")
    assert broken == [], "\n".join(broken)


def test_every_docs_page_is_in_the_index() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    missing = [
        p.name for p in sorted(DOCS.glob("*.md")) if p.name != "README.md" and f"({p.name})" not in index
    ]
    assert missing == [], "add these pages to docs/README.md: " + ", ".join(missing)


@pytest.mark.parametrize(
    "line",
    [
        "see " + "CONTRACT" + ".md §4",
        "(" + "DOMAIN" + '.md "Payment cycle")',
        "ARCHITECTURE" + ".md says so",
        "as in ../" + "shared/design",
        "CONTRACT" + " §8 files",
    ],
)
def test_the_check_catches_each_form_of_outside_citation(line: str) -> None:
    assert OUTSIDE.search(line)


def test_the_check_reads_docs_citations_with_their_section() -> None:
    found = DOCS_CITATION.findall(
        'a (docs/rules.md "Duplicates") and docs/contract.md, "Readings" and docs/x.md'
    )
    assert found == [("rules.md", "Duplicates"), ("contract.md", "Readings"), ("x.md", "")]


def test_every_setting_is_documented_in_operations() -> None:
    from gateway.config import Settings

    page = (DOCS / "operations.md").read_text(encoding="utf-8")
    missing = [
        f"GATEWAY_{name.upper()}" for name in Settings.model_fields if f"GATEWAY_{name.upper()}" not in page
    ]
    assert missing == [], 'add to docs/operations.md "Settings": ' + ", ".join(missing)


def _layout() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Layout", 1)[1].split("```", 2)[1]


def test_every_path_in_the_readme_layout_exists() -> None:
    layout = _layout()
    paths = re.findall(r"^((?:gateway|schemas|docs|tests|bench)/\S*)", layout, re.MULTILINE)
    paths += re.findall(r"\bgateway/[\w/]+\.py\b", layout)
    assert len(paths) > 20
    assert [p for p in paths if not (ROOT / p).exists()] == []


@pytest.mark.parametrize(
    ("words", "module", "name"),
    [
        ("rules/scope.py", "gateway.domain.rules.scope", "intermediation_not_excluded"),
        ("rules/dates.py", "gateway.domain.rules.dates", "DEADLINE_DAYS"),
        ("pain008.py", "gateway.sepa.pain008", "write_pain008"),
        ("gateway/signing/webhooks.py", "gateway.signing.webhooks", "sign"),
    ],
)
def test_the_readme_layout_says_where_the_landmarks_live(words: str, module: str, name: str) -> None:
    # a newcomer's four questions (issue 13): violence with a joint refusal, the 7-day deadline,
    # the pain.008 writer, where a webhook is signed
    assert words in _layout()
    assert hasattr(importlib.import_module(module), name)
