"""Landing sources, declared in TOML rather than coded.

A source says where files land, which reader parses them, and how their columns
map to the contract. The built-in declarations (``lakehouse/sources.toml``) read
what ``lakehouse generate`` writes; a team points the pipeline at its own files by
writing its own file and setting ``LAKEHOUSE_SOURCES_FILE``.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

Format = Literal["jsonl", "csv", "xlsx", "json", "parquet"]


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
    try:
        sources.update({name: Source(name=name, **body) for name, body in declared.items()})
    except ValidationError as exc:
        raise SourceError(f"{origin}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc
    return sources
