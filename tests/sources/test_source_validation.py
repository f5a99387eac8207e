"""Declared sources are validated before anything runs: identifiers for names, globs inside the landing zone.

A source's name and bronze table become folder names and SQL identifiers, and its glob is matched
under the landing zone; a bad declaration must fail with one line naming the source and the field.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.sources import SourceError, load_sources

GOOD = """
[sources.{name}]
table = "{table}"
format = "jsonl"
glob = '{glob}'
columns = ["event_id"]
"""


def _load(tmp_path: Path, name: str = "clicks", table: str = "clicks", glob: str = "clicks/*.jsonl") -> None:
    path = tmp_path / "sources.toml"
    path.write_text(GOOD.format(name=name, table=table, glob=glob))
    load_sources(path)


def _one_line_error(tmp_path: Path, **declaration: str) -> str:
    with pytest.raises(SourceError) as raised:
        _load(tmp_path, **declaration)
    message = str(raised.value)
    assert "\n" not in message, message
    assert str(tmp_path / "sources.toml") in message
    return message


def test_a_valid_declaration_loads(tmp_path: Path) -> None:
    _load(tmp_path, name="web_clicks_2", table="_clicks", glob="web/**/clicks-*.jsonl.gz")
    assert set(load_sources()) == {"events", "orders", "products", "stock", "experiments"}


@pytest.mark.parametrize("table", ["Clicks", "1clicks", "clicks-raw", "clicks.raw", "../silver", "", "a b"])
def test_table_names_are_identifiers(tmp_path: Path, table: str) -> None:
    message = _one_line_error(tmp_path, table=table)
    assert "source 'clicks': table" in message and "is not an identifier" in message


@pytest.mark.parametrize("name", ["Clicks", "web-clicks", "9lives"])
def test_source_names_are_identifiers(tmp_path: Path, name: str) -> None:
    message = _one_line_error(tmp_path, name=name)
    assert f"source '{name}': name" in message and "is not an identifier" in message


@pytest.mark.parametrize(
    ("glob", "problem"),
    [
        ("/etc/*.jsonl", "is absolute"),
        ("//host/share/*.jsonl", "is absolute"),
        ("\\\\host\\share\\*.jsonl", "is absolute"),
        ("C:/data/*.jsonl", "is absolute"),
        ("../lakehouse/bronze/*", "has a '..' segment"),
        ("clicks/../../*.jsonl", "has a '..' segment"),
        ("clicks\\..\\x.jsonl", "has a '..' segment"),
        ("s3://other-bucket/*.jsonl", "names a URI"),
        ("  ", "is empty"),
    ],
)
def test_globs_stay_inside_the_landing_zone(tmp_path: Path, glob: str, problem: str) -> None:
    message = _one_line_error(tmp_path, glob=glob)
    assert f"source 'clicks': glob {glob!r} {problem}" in message


def test_dots_inside_a_name_are_not_a_parent_segment(tmp_path: Path) -> None:
    _load(tmp_path, glob="clicks/..hidden-not/*..jsonl")


def test_pydantic_errors_name_source_and_field(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[sources.clicks]\ntable = "clicks"\nformat = "avro"\nglob = "c/*"\ncolumns = ["a"]\n')
    with pytest.raises(SourceError, match=r"source 'clicks': field format: Input should be") as raised:
        load_sources(path)
    assert "\n" not in str(raised.value)
    path.write_text('[sources.clicks]\ntable = "clicks"\nformat = "jsonl"\nglob = "c/*"\n')
    with pytest.raises(SourceError, match=r"source 'clicks': field columns: Field required"):
        load_sources(path)
