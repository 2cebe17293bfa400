"""Where the gateway's shipped files are: the schemas folder (XSDs, JSON Schemas, examples) and the
alembic migrations, found through `importlib.resources` so that they are found wherever the package
is installed (a checkout, a wheel in a virtual environment, the container image).

`gateway/schemas` is a link to the repository's `schemas/` in a checkout; a built wheel holds the
files themselves there, as package data. lxml and xmlschema resolve an XSD's imports relative to its
file, so the gateway needs its package on the file system (not zipped): `package_dir` says so if not.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from gateway.errors import ConfigurationError


def package_dir(package: str, *parts: str) -> Path:
    """The folder `parts` inside `package`, as a file-system path.

    >>> package_dir("gateway", "schemas", "iso20022").name
    'iso20022'
    """
    found = files(package).joinpath(*parts)
    if not isinstance(found, Path):  # e.g. imported from a zip file
        raise ConfigurationError(
            f"{package} must be installed as files, not zipped ({'/'.join(parts)} is not on disk)",
            field="installation",
        )
    return found


SCHEMAS_DIR = package_dir("gateway", "schemas")
EXAMPLES_DIR = SCHEMAS_DIR / "examples"
ISO20022_DIR = SCHEMAS_DIR / "iso20022"
MIGRATIONS_DIR = package_dir("gateway", "store", "migrations")
