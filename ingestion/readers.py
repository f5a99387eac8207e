"""One reader per landing format. Each returns the source's bronze columns as strings.

Bronze keeps input as it came: every declared column is a string, a line or row
that cannot be parsed keeps its raw text in ``_corrupt_record``, fields nobody
declared are kept as JSON in ``_rescued_data``, and ``_ingest_file`` /
``_ingest_seq`` record where each row came from and in which order. Typing and
rejection of rows happens in silver, where a rule can say why.

A *file* that cannot be read as its source declares (a truncated gzip, a workbook without
the sheet, a CSV with another delimiter or without a declared column...) is rejected alone
by :func:`read_files`, with a reason from :data:`REJECT_REASONS`, before Spark reads
anything: one bad file must not stop the good files next to it, nor any other source.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ingestion.landing import LandingFile, LandingStore
from ingestion.sources import Source
from lakehouse.schema_policy import SchemaBreak, check_header
from transforms.rules import INVALID_UTF8_PREFIX

CORRUPT = "_corrupt_record"
RESCUED = "_rescued_data"
INGEST_FILE = "_ingest_file"
INGEST_SEQ = "_ingest_seq"
HEADER_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
GZIP_WBITS = 16 + zlib.MAX_WBITS
GZIP_OUTPUT_BYTES = 1 << 20  # decompressed bytes held at once while checking a gzip file
PARQUET_MAGIC = b"PAR1"
# Rows of a sheet (or lines of a CSV head) searched for the declared header below title rows.
HEADER_SCAN_ROWS = 20
# Other delimiters tried on a CSV header that lacks declared columns, to name the likely cause.
OTHER_DELIMITERS = (";", "\t", "|", ",")
DEFAULT_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024

# Why a landing file was rejected (``ops.rejected_files.reason``): a closed vocabulary, so runs
# can be counted and alerted on by reason; the specifics go to ``detail``.
REJECT_REASONS: dict[str, str] = {
    "empty_file": "the file has no bytes (a CSV needs a header; a workbook, document or .gz needs content)",
    "not_gzip": "named .gz but its bytes are not gzip",
    "truncated_gzip": "the gzip stream ends before its end marker (a cut-off copy or upload)",
    "corrupt_gzip": "the gzip data does not decompress, fails its checksum or has trailing bytes",
    "wrong_delimiter": "the CSV header holds the declared columns only when split on another delimiter",
    "missing_columns": "the header lacks declared columns (header drift); the detail carries the diff",
    "header_not_first_row": "the declared header is found only below title rows",
    "missing_sheet": "the workbook has no sheet of the declared name",
    "not_a_workbook": "the .xlsx file cannot be opened as a workbook",
    "unreadable_sheet": "the workbook opens but the declared sheet's rows cannot be read",
    "too_large": "the document is over LAKEHOUSE_MAX_DOCUMENT_BYTES (XLSX and JSON are parsed on the driver)",
    "not_utf8": "the JSON document is not UTF-8 text",
    "invalid_json_document": "the JSON document does not parse",
    "not_json_objects": "the JSON document holds something other than objects",
    "not_parquet": "the file does not start with the Parquet magic bytes",
}


class FileRejected(Exception):
    """A landing file cannot be read as its source declares; ``reason`` is a key of :data:`REJECT_REASONS`."""

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in REJECT_REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}; add it to REJECT_REASONS")
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True)
class Rejection:
    """One rejected file with its reason code and a one-line detail."""

    file: LandingFile
    reason: str
    detail: str


@dataclass
class SourceRead:
    """What :func:`read_files` made of a source's new files: the readable ones' rows, and the rest."""

    frame: DataFrame | None  # None when every file was rejected
    accepted: list[LandingFile] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def raw_schema(columns: Iterable[str]) -> T.StructType:
    fields = [T.StructField(name, T.StringType()) for name in columns]
    return T.StructType([*fields, T.StructField(CORRUPT, T.StringType())])


def bronze_schema(source: Source) -> T.StructType:
    """Columns every reader returns for ``source`` (before the writer adds batch metadata)."""
    return T.StructType(
        [
            *[T.StructField(name, T.StringType()) for name in source.columns],
            T.StructField(CORRUPT, T.StringType()),
            T.StructField(RESCUED, T.StringType()),
            T.StructField(INGEST_FILE, T.StringType()),
            T.StructField(INGEST_SEQ, T.LongType()),
        ]
    )


def _rescued_json_fields(value: Column, declared: list[str]) -> Column:
    """JSON of the top-level keys of a JSON line that no column declares (null when none).

    Listing a line's keys is about three times cheaper than parsing it into a map, and nearly
    every line has only declared keys, so the map is built only for lines with an extra key
    (measured on 1M event lines: 10 s instead of 15.7 s for the whole parse on 2 cores).
    """
    declared_keys = F.array(*[F.lit(name) for name in declared])
    extra_keys = F.array_except(F.json_object_keys(value), declared_keys)
    as_map = F.from_json(value, T.MapType(T.StringType(), T.StringType()))
    extra = F.map_filter(as_map, lambda key, _value: ~F.array_contains(declared_keys, key))
    return F.when(F.size(extra_keys) > 0, F.to_json(extra))


def parse_json_lines(frame: DataFrame, value_col: str, columns: list[str], keep: Sequence[str] = ()) -> DataFrame:
    """Parse the JSON text in ``value_col`` into ``columns`` (strings), ``_corrupt_record`` and ``_rescued_data``.

    Shared by the JSON Lines reader and the Kafka extract so that a clickstream event
    lands in the same bronze columns whichever way it arrived. Text that is not a JSON
    object keeps its raw form in ``_corrupt_record``; ``keep`` columns pass through.

    Spark reads lines as bytes and decodes them only when a value leaves the JVM, so a
    line that is not valid UTF-8 would reach silver with replacement characters in place
    of its bytes. Such a line is not parsed: its columns stay null and ``_corrupt_record``
    holds :data:`INVALID_UTF8_PREFIX` + the base64 of its raw bytes (silver quarantines it
    as ``invalid_utf8``, and the bytes can still be recovered exactly).
    """
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}
    raw = F.col(value_col)
    valid = F.is_valid_utf8(raw)
    text = F.when(valid, raw)
    undecodable = F.when(~valid, F.concat(F.lit(INVALID_UTF8_PREFIX), F.base64(raw.cast("binary"))))
    parsed = frame.select(
        F.from_json(text, raw_schema(columns), options).alias("row"),
        _rescued_json_fields(text, columns).alias(RESCUED),
        undecodable.alias("_undecodable"),
        *keep,
    )
    return parsed.select(
        *[F.col("row").getField(name).alias(name) for name in columns],
        F.coalesce(F.col("_undecodable"), F.col("row").getField(CORRUPT)).alias(CORRUPT),
        RESCUED,
        *keep,
    )


def _read_jsonl(spark: SparkSession, source: Source, uris: list[str]) -> DataFrame:
    lines = spark.read.text(uris).select(
        "value", F.col("_metadata.file_path").alias(INGEST_FILE), F.monotonically_increasing_id().alias(INGEST_SEQ)
    )
    return parse_json_lines(
        lines.filter(F.trim("value") != ""), "value", source.read_columns, keep=(INGEST_FILE, INGEST_SEQ)
    )


def _split_csv_line(line: str, delimiter: str, quote_char: str) -> list[str]:
    row = next(csv.reader([line], delimiter=delimiter, quotechar=quote_char), [])
    return [name.strip() for name in row]


def _csv_header(source: Source, file: LandingFile, store: LandingStore) -> list[str]:
    """The file's header row, read from its first 64 KiB (decompressed when gzipped).

    Raises :class:`FileRejected` when the header lacks a declared column, naming the likely
    cause: another delimiter (``wrong_delimiter``), title lines above the header
    (``header_not_first_row``), or else the columns themselves (``missing_columns``, with the
    schema diff). Extra columns are fine: they go to ``_rescued_data``.
    """
    head = store.read_bytes(file, limit=HEADER_BYTES)
    if file.path.endswith(".gz"):
        head = zlib.decompressobj(GZIP_WBITS).decompress(head)
    text = head.decode(source.options.get("encoding", "utf-8"), errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    delimiter = source.options.get("sep", ",")
    quote_char = source.options.get("quote", '"') or '"'
    header = _split_csv_line(lines[0], delimiter, quote_char) if lines else []
    declared = source.read_columns
    if all(name in header for name in declared):
        return header
    for other in OTHER_DELIMITERS:
        split = _split_csv_line(lines[0], other, quote_char) if other != delimiter else []
        if all(name in split for name in declared):
            raise FileRejected(
                "wrong_delimiter", f"the header splits into the declared columns on {other!r}, not on {delimiter!r}"
            )
    # The last line of the 64 KiB head may be cut short; a cut line cannot hold every column anyway.
    for number, line in enumerate(lines[1:HEADER_SCAN_ROWS], start=2):
        if all(name in _split_csv_line(line, delimiter, quote_char) for name in declared):
            raise FileRejected("header_not_first_row", f"the declared header is line {number}, below {lines[0]!r}")
    raise FileRejected("missing_columns", _header_diff(f"source {source.name}: {file.path}", declared, header))


def _header_diff(where: str, declared: Sequence[str], header: Sequence[str]) -> str:
    """The one-line schema diff of a header that lacks declared columns (see ``lakehouse.schema_policy``)."""
    try:
        check_header(where, declared, header)
    except SchemaBreak as exc:
        return str(exc)
    return f"{where}: header {list(header)}"


def _check_gzip(file: LandingFile, store: LandingStore) -> None:
    """Stream-decompress a .gz file on the driver and raise :class:`FileRejected` unless it is whole.

    Spark (Hadoop's gzip codec) fails the whole scan, and so the whole run, on one truncated or
    corrupt member, and only when the data is finally read. Decompressing on the driver costs one
    more sequential read of the file and zlib's C speed (a few hundred MB/s of output), in
    bounded memory; a per-file Spark probe would decompress the same bytes plus a job per
    file. Concatenated members (``cat a.gz b.gz``) are valid gzip and are accepted, as Hadoop
    reads them; bytes after the last member that are not another member are not.
    """
    decompressor = None
    for chunk in store.iter_chunks(file):
        if decompressor is None and not chunk.startswith(GZIP_MAGIC):
            raise FileRejected("not_gzip", f"first bytes are {chunk[:8]!r}, not the gzip magic 1f 8b")
        data = chunk
        while data:
            if decompressor is None or decompressor.eof:
                decompressor = zlib.decompressobj(GZIP_WBITS)
            try:
                decompressor.decompress(data, GZIP_OUTPUT_BYTES)
            except zlib.error as exc:
                raise FileRejected("corrupt_gzip", f"gzip data error: {exc}") from exc
            data = decompressor.unused_data if decompressor.eof else decompressor.unconsumed_tail
    if decompressor is None:
        raise FileRejected("empty_file", "0 bytes")
    if not decompressor.eof:
        raise FileRejected("truncated_gzip", f"the gzip stream ends early ({file.size} bytes, no end marker)")


def _check_parquet(file: LandingFile, store: LandingStore) -> None:
    if not store.read_bytes(file, limit=len(PARQUET_MAGIC)).startswith(PARQUET_MAGIC):
        raise FileRejected("not_parquet", "the file does not start with PAR1")


def _screen_stream(source: Source, file: LandingFile, store: LandingStore) -> None:
    """The per-file checks of a format Spark reads (raise :class:`FileRejected`), done before the scan."""
    if file.size == 0 and (source.format != "jsonl" or file.path.endswith(".gz")):
        # An empty JSON Lines file is zero records; everything else needs at least a header or magic.
        raise FileRejected("empty_file", "0 bytes")
    if file.path.endswith(".gz") and source.format in ("jsonl", "csv"):
        _check_gzip(file, store)
    if source.format == "parquet":
        _check_parquet(file, store)


def _read_csv(spark: SparkSession, source: Source, headers: dict[LandingFile, list[str]]) -> DataFrame:
    """One Spark scan per distinct header; undeclared columns go to ``_rescued_data`` as JSON.

    ``headers`` are the accepted files' headers (:func:`_csv_header` checked each one), so every
    scan reads files that hold every declared column.
    """
    by_header: dict[tuple[str, ...], list[str]] = {}
    for file, header in headers.items():
        by_header.setdefault(tuple(header), []).append(file.spark_uri)
    options = {
        "header": "true",
        "enforceSchema": "false",
        "mode": "PERMISSIVE",
        "columnNameOfCorruptRecord": CORRUPT,
        "encoding": "UTF-8",
        "quote": '"',
        "escape": '"',
        **source.options,
    }
    frames = []
    for header, uris in by_header.items():
        extra = [name for name in header if name not in source.read_columns]
        frame = spark.read.options(**options).schema(raw_schema(header)).csv(uris)
        extras_json = F.to_json(F.struct(*[F.col(f"`{name}`") for name in extra])) if extra else None
        # to_json leaves null fields out, so a row whose extra cells are all empty rescues nothing.
        rescued = F.when(extras_json != "{}", extras_json) if extras_json is not None else F.lit(None)
        frames.append(
            frame.select(
                *[F.col(f"`{name}`") for name in source.read_columns],
                CORRUPT,
                rescued.cast("string").alias(RESCUED),
                F.col("_metadata.file_path").alias(INGEST_FILE),
                F.monotonically_increasing_id().alias(INGEST_SEQ),
            )
        )
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def _read_parquet(spark: SparkSession, source: Source, uris: list[str]) -> DataFrame:
    frame = spark.read.parquet(*uris)
    missing = [name for name in source.read_columns if name not in frame.columns]
    if missing:
        raise ValueError(f"source {source.name}: parquet files lack declared columns {missing}")
    rescued = [name for name in frame.columns if name not in source.read_columns]
    rescued_json = F.to_json(F.struct(*[F.col(f"`{n}`") for n in rescued])) if rescued else F.lit(None)
    return frame.select(
        *[F.col(f"`{name}`").cast("string").alias(name) for name in source.read_columns],
        F.lit(None).cast("string").alias(CORRUPT),
        rescued_json.cast("string").alias(RESCUED),
        F.col("_metadata.file_path").alias(INGEST_FILE),
        F.monotonically_increasing_id().alias(INGEST_SEQ),
    )


def _cell_text(value: object) -> str | None:
    """Render a spreadsheet cell the way a person reads it, so silver can parse it like text."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if text.strip() else None


def _document_rows(source: Source, file: LandingFile, records: list[dict[str, object]]) -> list[tuple]:
    columns = source.read_columns
    rows = []
    for seq, record in enumerate(records):
        extra = {key: value for key, value in record.items() if key not in columns}
        rows.append(
            (
                *[_cell_text(record.get(name)) for name in columns],
                None,
                json.dumps(extra, default=str, sort_keys=True) if extra else None,
                file.path,
                seq,
            )
        )
    return rows


# What openpyxl raises on a file that is not a workbook or on a broken part inside one: not a
# zip, a missing part, bad values, XML that does not parse (ElementTree's ParseError is a
# SyntaxError), a deflate stream that does not inflate.
_WORKBOOK_ERRORS = (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError, SyntaxError, zlib.error)


def _sheet_header(source: Source, file: LandingFile, rows: Iterable[tuple]) -> list[str]:
    """The sheet's header: its first non-empty row, which must hold every declared column.

    Raises :class:`FileRejected`: ``header_not_first_row`` when the declared header sits below
    title rows (a report export), ``missing_columns`` otherwise. Rows are consumed up to the header.
    """
    declared = source.read_columns
    first: list[str] | None = None
    for number, row in enumerate(rows, start=1):
        names = [str(cell).strip() if cell is not None else "" for cell in row]
        if not any(names):
            continue  # blank rows above the header carry nothing
        if all(name in names for name in declared):
            if first is None:
                return names
            raise FileRejected(
                "header_not_first_row", f"sheet {source.options['sheet']!r}: the declared header is row {number}"
            )
        if first is None:
            first = names
        if number >= HEADER_SCAN_ROWS:
            break
    where = f"source {source.name}: {file.path} (sheet {source.options['sheet']})"
    raise FileRejected("missing_columns", _header_diff(where, declared, first or []))


def _xlsx_records(source: Source, file: LandingFile, content: bytes) -> list[tuple]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    sheet_name = source.options["sheet"]
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (*_WORKBOOK_ERRORS, InvalidFileException) as exc:
        raise FileRejected("not_a_workbook", f"{type(exc).__name__}: {exc}") from exc
    try:
        if sheet_name not in workbook.sheetnames:
            raise FileRejected("missing_sheet", f"no sheet {sheet_name!r}; the workbook has {workbook.sheetnames}")
        try:
            rows = workbook[sheet_name].iter_rows(values_only=True)
            header = _sheet_header(source, file, rows)
            records = [
                {name: value for name, value in zip(header, row, strict=False) if name}
                for row in rows
                if any(cell is not None and str(cell).strip() for cell in row)
            ]
        except _WORKBOOK_ERRORS as exc:
            raise FileRejected("unreadable_sheet", f"sheet {sheet_name!r}: {type(exc).__name__}: {exc}") from exc
    finally:
        workbook.close()
    return _document_rows(source, file, records)


def _json_records(source: Source, file: LandingFile, content: bytes) -> list[tuple]:
    try:
        text = content.decode("utf-8-sig")  # a byte-order mark is an encoding detail, not content
    except UnicodeDecodeError as exc:
        raise FileRejected("not_utf8", str(exc)) from exc
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FileRejected("invalid_json_document", f"{exc}; starts {text[:200]!r}") from exc
    items = document if isinstance(document, list) else [document]
    records = []
    for item in items:
        if not isinstance(item, dict):
            raise FileRejected("not_json_objects", f"expected JSON objects, found {type(item).__name__}")
        records.append({k: json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v for k, v in item.items()})
    return _document_rows(source, file, records)


def _document_bytes(source: Source, file: LandingFile, store: LandingStore, max_bytes: int) -> bytes:
    """The whole document, refused before it is read when empty or over ``max_bytes``."""
    if file.size == 0:
        raise FileRejected("empty_file", "0 bytes")
    if file.size > max_bytes:
        raise FileRejected("too_large", f"{file.size:,} bytes > the {max_bytes:,} byte limit for {source.format}")
    return store.read_bytes(file)


_DOCUMENT_PARSERS: dict[str, Callable[[Source, LandingFile, bytes], list[tuple]]] = {
    "xlsx": _xlsx_records,
    "json": _json_records,
}
_SPARK_READERS: dict[str, Callable[[SparkSession, Source, list[str]], DataFrame]] = {
    "jsonl": _read_jsonl,
    "parquet": _read_parquet,
}


def conform(frame: DataFrame, source: Source, keep: Sequence[str] = ()) -> DataFrame:
    """Apply null markers and the column mapping in one projection, giving exactly the bronze columns.

    Public because the Kafka extract applies the same projection to parsed messages; its
    own lineage columns ride along as ``keep``.
    """
    markers = [*source.null_values]
    cleaned = {}
    for name in source.read_columns:
        text = F.trim(F.col(f"`{name}`"))
        blank = (text == "") | text.isin(markers) if markers else text == ""
        cleaned[name] = F.when(blank, F.lit(None)).otherwise(F.col(f"`{name}`"))
    frame = frame.select(
        *[value.alias(name) for name, value in cleaned.items()], CORRUPT, RESCUED, INGEST_FILE, INGEST_SEQ, *keep
    )
    selected = [
        F.expr(source.mapping[name]).cast("string").alias(name)
        if name in source.mapping
        else F.col(f"`{name}`").alias(name)
        for name in source.columns
    ]
    return frame.select(*selected, CORRUPT, RESCUED, INGEST_FILE, INGEST_SEQ, *keep)


def _relative_file(files: list[LandingFile]) -> Column:
    """Map the URI Spark reports for each file back to its landing-relative path.

    Spark reports ``file:/abs/path`` or ``s3a://bucket/key`` with URI escaping, so each
    file is matched by the escaped form of its own URI's path.
    """
    mapping: list[Column] = []
    for file in files:
        mapping += [F.lit(_uri_path(file.spark_uri)), F.lit(file.path)]
    reported_path = F.regexp_replace(F.col(INGEST_FILE), r"^[a-zA-Z0-9]+:(//[^/]*)?", "")
    return F.coalesce(F.element_at(F.create_map(*mapping), reported_path), F.col(INGEST_FILE))


def _uri_path(uri: str) -> str:
    """The path part of a URI as Hadoop escapes it (only characters illegal in a URI path)."""
    path = uri.split("://", 1)[1].split("/", 1)[1] if "://" in uri else uri.lstrip("/")
    return "/" + quote(path, safe="/:@!$&'()*+,;=-._~")


def read_files(
    spark: SparkSession,
    source: Source,
    files: list[LandingFile],
    store: LandingStore,
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
) -> SourceRead:
    """Read the readable ``files`` of ``source`` into bronze columns; reject the others alone.

    Every file is checked before Spark sees it (a gzip streamed whole, a CSV header sniffed, a
    document parsed on the driver), so a bad file leaves the batch instead of failing it: its
    :class:`Rejection` says why, and the other files are read as usual (nothing is dropped
    from them).
    """
    accepted: list[LandingFile] = []
    rejected: list[Rejection] = []
    document_rows: list[tuple] = []
    csv_headers: dict[LandingFile, list[str]] = {}
    for file in files:
        try:
            if source.format in _DOCUMENT_PARSERS:
                content = _document_bytes(source, file, store, max_document_bytes)
                document_rows += _DOCUMENT_PARSERS[source.format](source, file, content)
            else:
                _screen_stream(source, file, store)
                if source.format == "csv":
                    csv_headers[file] = _csv_header(source, file, store)
        except FileRejected as exc:
            rejected.append(Rejection(file, exc.reason, exc.detail))
            continue
        accepted.append(file)
    if not accepted:
        return SourceRead(None, accepted, rejected)
    if source.format in _DOCUMENT_PARSERS:
        schema = T.StructType(
            [
                *raw_schema(source.read_columns).fields,
                T.StructField(RESCUED, T.StringType()),
                T.StructField(INGEST_FILE, T.StringType()),
                T.StructField(INGEST_SEQ, T.LongType()),
            ]
        )
        frame = spark.createDataFrame(document_rows, schema)
    else:
        if source.format == "csv":
            frame = _read_csv(spark, source, csv_headers)
        else:
            frame = _SPARK_READERS[source.format](spark, source, [f.spark_uri for f in accepted])
        frame = frame.withColumn(INGEST_FILE, _relative_file(accepted))
    return SourceRead(conform(frame, source), accepted, rejected)
