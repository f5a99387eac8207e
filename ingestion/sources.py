"""Landing sources, declared in TOML rather than coded.

A source says where files land, which reader parses them, and how their columns
map to the contract. The built-in declarations (``lakehouse/sources.toml``) read
what ``lakehouse generate`` writes; a team points the pipeline at its own files by
writing its own file and setting ``LAKEHOUSE_SOURCES_FILE``.

A declaration is checked before anything runs: a source name and its bronze table become Delta
folder names and SQL identifiers, so both must be identifiers (``[a-z_][a-z0-9_]*``); a glob is
matched under the landing zone, so it must stay there (relative, no ``..`` segment, no scheme).
A bad declaration fails with one line naming the source and the field.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

Format = Literal["jsonl", "csv", "xlsx", "json", "parquet"]
# Bronze table names and source names: lower-case identifiers, safe as folder names and in SQL.
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


class SourceError(ValueError):
    """A source declaration is invalid."""


class Source(BaseModel):
    """One landing source feeding one bronze table."""

    name: str
    table: str
    format: Format
    glob: str
    columns: list[str] = Field(min_length=1, description="Bronze columns, in order (csv: the header).")
    source_columns: list[str] | None = Field(None, description="Columns as the files name them.")
    mapping: dict[str, str] = Field(default_factory=dict, description="Bronze column -> Spark SQL expression.")
    options: dict[str, str] = Field(default_factory=dict)
    null_values: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _mapping_targets_are_columns(self) -> Source:
        unknown = set(self.mapping) - set(self.columns)
        if unknown:
            raise SourceError(f"source {self.name}: mapping names unknown columns {sorted(unknown)}")
        if self.format == "xlsx" and "sheet" not in self.options:
            raise SourceError(f"source {self.name}: xlsx sources need options.sheet")
        return self

    @property
    def read_columns(self) -> list[str]:
        """Columns the reader takes from each file."""
        return self.source_columns or self.columns


def check_identifier(source: str, field: str, value: str) -> None:
    """Refuse a name that is not an identifier: it becomes a table folder and a SQL name."""
    if not IDENTIFIER.fullmatch(value):
        raise SourceError(
            f"source {source!r}: {field} {value!r} is not an identifier (lower-case letters, digits and _, "
            "not starting with a digit)"
        )


def check_glob(source: str, glob: str) -> None:
    """Refuse a glob that could match outside the landing zone it is resolved under.

    Absolute paths (``/x``, ``C:\\x``), ``..`` segments and URIs (``s3://``) would read files the
    landing zone does not hold, e.g. another team's bucket or the lakehouse itself.
    """
    segments = re.split(r"[/\\]", glob)
    problem = None
    if not glob.strip():
        problem = "is empty"
    elif glob.startswith(("/", "\\")) or PurePosixPath(glob).is_absolute() or PureWindowsPath(glob).drive:
        problem = "is absolute"
    elif "://" in glob:
        problem = "names a URI"
    elif ".." in segments:
        problem = "has a '..' segment"
    if problem:
        raise SourceError(
            f"source {source!r}: glob {glob!r} {problem}; a glob is relative to the landing zone and stays "
            "inside it (e.g. 'orders/*.csv')"
        )


def _declare(origin: str, name: str, body: object) -> Source:
    """One declared source, validated; every failure is one line naming the file, the source and the field."""
    try:
        check_identifier(name, "name", name)
        if not isinstance(body, dict):
            raise SourceError(f"source {name!r}: expected a table of fields, got {body!r}")
        try:
            source = Source(name=name, **body)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"])
            message = " ".join(str(error["msg"]).removeprefix("Value error, ").split())
            raise SourceError(f"source {name!r}: field {field}: {message}" if field else message) from exc
        check_identifier(name, "table", source.table)
        check_glob(name, source.glob)
    except SourceError as exc:
        raise SourceError(f"{origin}: {exc}") from exc
    return source


def load_sources(path: Path | None = None) -> dict[str, Source]:
    """Parse a sources file (the built-in one when ``path`` is None)."""
    if path is None:
        text = resources.files("lakehouse").joinpath("sources.toml").read_text(encoding="utf-8")
        origin = "built-in sources.toml"
    else:
        if not path.is_file():
            raise SourceError(f"sources file not found: {path}")
        text = path.read_text(encoding="utf-8")
        origin = str(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{origin} is not valid TOML: {exc}") from exc
    declared = raw.get("sources", {})
    if not declared:
        raise SourceError(f"{origin} declares no [sources.*]")
    sources = load_sources() if path is not None and raw.get("extends_builtin", False) else {}
    sources.update({name: _declare(origin, name, body) for name, body in declared.items()})
    return sources
