"""The shipped files: `gateway/schemas` is the repository's `schemas/`, and the wheel takes all of it."""

from __future__ import annotations

import tomllib
from pathlib import Path, PurePosixPath

from gateway.resources import EXAMPLES_DIR, ISO20022_DIR, MIGRATIONS_DIR, SCHEMAS_DIR

ROOT = Path(__file__).resolve().parents[2]


def test_schemas_dir_is_the_repository_folder() -> None:
    assert SCHEMAS_DIR.resolve() == (ROOT / "schemas").resolve()
    assert (SCHEMAS_DIR / "greffe-1.xsd").is_file()
    assert (EXAMPLES_DIR / "avocat-1.json").is_file()
    assert (ISO20022_DIR / "pain.008.001.08.xsd").is_file()


def test_package_data_covers_every_schema_file() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["gateway"]
    package = ROOT / "gateway"
    shipped = {PurePosixPath(f.relative_to(package).as_posix()) for p in patterns for f in package.glob(p)}
    for path in (ROOT / "schemas").rglob("*"):
        if path.is_file():
            relative = PurePosixPath("schemas") / path.relative_to(ROOT / "schemas").as_posix()
            assert relative in shipped, relative


def test_package_code_finds_its_files_through_importlib_resources() -> None:
    # `Path(__file__).parents[3] / "schemas"` pointed outside site-packages once installed (issue 14).
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "gateway").rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "Path(__file__)" in line or "parents[" in line
    ]
    assert offenders == []


def test_migrations_are_package_data() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert sorted(MIGRATIONS_DIR.glob("versions/0001_*.py"))
