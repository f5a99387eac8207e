"""One bad file never stops the rest: a corpus of broken landing files next to good ones, run once.

Every file ends one of three ways, asserted per file: rejected alone (``ops.rejected_files``
with the expected reason), ingested with every row accounted for (bronze = silver +
quarantine + duplicates, quarantine reasons named), or not listed at all (hidden, temporary).
A second run then picks up a corrected file and a temporary file renamed into place, and does
not re-attempt the unchanged rejected ones. Everything runs on the shared Spark session, in
one run over bronze and silver, then a bronze-only run, on a few rows per file.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import io
import json
import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from pyspark.sql import SparkSession
from typer.testing import CliRunner

from bronze.ingest import has_new_files
from cli.exit_codes import ExitCode
from ingestion.landing import LocalLanding, is_unstable_name
from ingestion.readers import REJECT_REASONS, FileRejected, _check_gzip
from ingestion.sources import load_sources
from lakehouse import delta_io, ops
from lakehouse.catalog import Catalog, load_catalog
from lakehouse.model import RunReport
from lakehouse.quality import QualityGate
from lakehouse.runner import Pipeline
from lakehouse.settings import Settings
from lakehouse.storage import table_path
from tests.conftest import make_settings
from transforms.rules import INVALID_UTF8_PREFIX

# Every bronze table, and silver where rows are judged one by one (events, order lines). Workbook
# and document rows are accounted for in bronze: the silver cleaning of products, stock and
# experiments is what it was, and each silver table costs seconds the suite does not have.
BRONZE_TABLES = ("bronze.events", "bronze.orders", "bronze.products", "bronze.stock", "bronze.experiments")
TABLES = (*BRONZE_TABLES, "silver.events", "silver.order_lines")
# The second run lands a corrected CSV and a renamed JSON Lines file: only their bronze tables.
SECOND_RUN_TABLES = ("bronze.events", "bronze.orders")
MAX_DOCUMENT_BYTES = 64 * 1024
ORDER_HEADER = "order_id,line_no,order_ts,customer_id,product_id,quantity,unit_price,discount,status,country"
PRODUCT_HEADER = ["product_id", "name", "category", "brand", "list_price", "cost"]
STOCK_HEADER = ["snapshot_date", "product_id", "warehouse", "on_hand", "reorder_point"]


def _event(event_id: str, **changes: object) -> dict[str, object]:
    event: dict[str, object] = {
        "event_id": event_id,
        "event_ts": "2026-10-01T10:00:00Z",
        "user_id": "u1",
        "session_id": "s1",
        "event_type": "page_view",
        "product_id": None,
        "device": "mobile",
        "country": "NL",
        "experiments": {},
        "properties": {"path": "/"},
    }
    event.update(changes)
    return event


def _jsonl(*events: dict[str, object]) -> bytes:
    return "".join(json.dumps(e) + "\n" for e in events).encode("utf-8")


def _order(order_id: str, line_no: int = 1, sep: str = ",") -> str:
    return sep.join([order_id, str(line_no), "2026-10-01T10:00:00Z", "u1", "p1", "2", "10.00", "0", "paid", "DE"])


def _workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _experiment(experiment_id: str, **extra: object) -> dict[str, object]:
    return {
        "experiment_id": experiment_id,
        "name": f"test {experiment_id}",
        "variants": ["control", "treatment"],
        "allocation": {"control": 0.5, "treatment": 0.5},
        "start_date": "2026-10-01",
        "end_date": "2026-10-14",
        **extra,
    }


def _truncated_gzip() -> bytes:
    whole = gzip.compress(_jsonl(*[_event(f"e-trunc-{i}") for i in range(50)]), mtime=0)
    return whole[: len(whole) // 2]


def _bad_crc_gzip() -> bytes:
    whole = bytearray(gzip.compress(_jsonl(_event("e-crc-1")), mtime=0))
    whole[-8] ^= 0xFF  # the CRC32 of the trailer no longer matches the data
    return bytes(whole)


@dataclass(frozen=True)
class Accounted:
    """A file whose rows arrive: per table, rows in bronze, silver, quarantine (by rule), duplicates."""

    bronze: int
    silver: int
    quarantined: tuple[tuple[str, int], ...] = ()
    duplicates: int = 0


# --- the corpus -----------------------------------------------------------------------------
GOOD: dict[str, bytes] = {
    "events/good_1.jsonl": _jsonl(*[_event(f"e-good1-{i}") for i in range(4)]),
    "events/good_2.jsonl.gz": gzip.compress(_jsonl(*[_event(f"e-good2-{i}") for i in range(3)]), mtime=0),
    "orders/good.csv": (ORDER_HEADER + "\n" + "\n".join(_order(f"o-good-{i}") for i in range(3)) + "\n").encode(),
    "inventory/good.xlsx": _workbook(
        {
            "products": [
                PRODUCT_HEADER,
                ["p1", "Mug", "kitchen", "Acme", 9.5, 3],
                ["p2", "Cup", "kitchen", "Acme", 5, 2],
            ],
            "stock": [
                STOCK_HEADER,
                [dt.date(2026, 10, 1), "p1", "north", 10, 2],
                [dt.date(2026, 10, 1), "p2", "north", 5, 1],
            ],
        }
    ),
    "experiments/good.json": json.dumps([_experiment("exp-good")], indent=2).encode(),
}

# (source, path) -> expected reason.
REJECTED: dict[tuple[str, str], str] = {
    ("events", "events/truncated.jsonl.gz"): "truncated_gzip",
    ("events", "events/not_gzip.jsonl.gz"): "not_gzip",
    ("events", "events/bad_crc.jsonl.gz"): "corrupt_gzip",
    ("orders", "orders/semicolon.csv"): "wrong_delimiter",
    ("orders", "orders/drift.csv"): "missing_columns",
    ("orders", "orders/missing_column.csv"): "missing_columns",
    ("orders", "orders/empty.csv"): "empty_file",
    ("orders", "orders/title_line.csv"): "header_not_first_row",
    ("products", "inventory/title_row.xlsx"): "header_not_first_row",
    ("stock", "inventory/no_stock_sheet.xlsx"): "missing_sheet",
    ("products", "inventory/not_a_workbook.xlsx"): "not_a_workbook",
    ("stock", "inventory/not_a_workbook.xlsx"): "not_a_workbook",
    ("experiments", "experiments/malformed.json"): "invalid_json_document",
    ("experiments", "experiments/too_large.json"): "too_large",
    ("experiments", "experiments/latin1.json"): "not_utf8",
    ("experiments", "experiments/scalars.json"): "not_json_objects",
}

BAD: dict[str, bytes] = {
    "events/truncated.jsonl.gz": _truncated_gzip(),
    "events/not_gzip.jsonl.gz": _jsonl(_event("e-notgz-1")),
    "events/bad_crc.jsonl.gz": _bad_crc_gzip(),
    "orders/semicolon.csv": (ORDER_HEADER.replace(",", ";") + "\n" + _order("o-semi", sep=";") + "\n").encode(),
    "orders/drift.csv": (ORDER_HEADER.replace("quantity", "qty") + "\n" + _order("o-drift") + "\n").encode(),
    "orders/missing_column.csv": (
        ORDER_HEADER.replace(",discount", "") + "\n" + _order("o-miss").replace(",10.00,0,", ",10.00,") + "\n"
    ).encode(),
    "orders/empty.csv": b"",
    "orders/title_line.csv": ("Orders export 2026-10-01\n" + ORDER_HEADER + "\n" + _order("o-title") + "\n").encode(),
    "inventory/title_row.xlsx": _workbook(
        {
            "products": [["Product list, October"], PRODUCT_HEADER, ["p9", "Hidden", "x", "y", 1, 1]],
            "stock": [STOCK_HEADER, [dt.date(2026, 10, 2), "p1", "south", 7, 1]],
        }
    ),
    "inventory/no_stock_sheet.xlsx": _workbook(
        {"products": [PRODUCT_HEADER, ["p3", "Bowl", "kitchen", "Acme", 12, 4]]}
    ),
    "inventory/not_a_workbook.xlsx": b"product_id,name\np1,Mug\n",
    "experiments/malformed.json": b'{"experiment_id": "exp-broken", "variants": [',
    "experiments/too_large.json": json.dumps([_experiment("exp-big", notes="x" * MAX_DOCUMENT_BYTES)]).encode(),
    "experiments/latin1.json": json.dumps([_experiment("exp-latin", name="caf\u00e9")], ensure_ascii=False).encode(
        "latin-1"
    ),
    "experiments/scalars.json": b'["exp-1", "exp-2"]',
}

# Ingested, with rows accounted for: path -> per bronze table.
ACCOUNTED_FILES: dict[str, bytes] = {
    # Line 2 is not UTF-8 (a Latin-1 byte inside a string): kept as bytes, quarantined.
    "events/bad_utf8.jsonl": _jsonl(_event("e-utf8-1"))
    + b'{"event_id": "e-utf8-2", "event_ts": "2026-10-01T10:00:00Z", "user_id": "caf\xe9", "event_type": "search"}\n'
    + _jsonl(_event("e-utf8-3")),
    "events/object_ids.jsonl": _jsonl(
        _event("e-obj-1"),
        _event("e-obj-2", user_id={"id": 5}),
        _event("e-obj-3", session_id=["s1", "s2"]),
        _event("e-obj-4", product_id={"sku": "p1"}),
        _event("e-obj-5", user_id=5, product_id="[A1]"),  # a number and a bracketed string are identifiers
    ),
    "events/nul_bytes.jsonl": _jsonl(_event("e-nul-1")) + b"\x00\x00\x00\x00\n" + _jsonl(_event("e-nul-2")),
    "events/bom_crlf.jsonl": b"\xef\xbb\xbf" + _jsonl(_event("e-bom-1"), _event("e-bom-2")).replace(b"\n", b"\r\n"),
    "events/duplicates.jsonl": _jsonl(_event("e-dup-1"), _event("e-dup-2"), _event("e-dup-1"), _event("e-dup-2")),
    "events/empty.jsonl": b"",
    "orders/bom_crlf.csv": (
        "\ufeff" + ORDER_HEADER + "\r\n" + _order("o-bom-1") + "\r\n" + _order("o-bom-2") + "\r\n"
    ).encode(),
    "orders/ragged.csv": (ORDER_HEADER + "\n" + _order("o-rag-1") + "\n" + _order("o-rag-2") + ",extra\n").encode(),
    "experiments/bom_crlf.json": b"\xef\xbb\xbf"
    + json.dumps([_experiment("exp-bom")], indent=2).encode().replace(b"\n", b"\r\n"),
}

ACCOUNTED: dict[tuple[str, str], Accounted] = {
    ("events", "events/good_1.jsonl"): Accounted(4, 4),
    ("events", "events/good_2.jsonl.gz"): Accounted(3, 3),
    ("events", "events/bad_utf8.jsonl"): Accounted(3, 2, (("invalid_utf8", 1),)),
    (
        "events",
        "events/object_ids.jsonl",
    ): Accounted(5, 2, (("user_id_not_scalar", 1), ("session_id_not_scalar", 1), ("product_id_not_scalar", 1))),
    ("events", "events/nul_bytes.jsonl"): Accounted(3, 2, (("malformed_json", 1),)),
    ("events", "events/bom_crlf.jsonl"): Accounted(2, 2),
    ("events", "events/duplicates.jsonl"): Accounted(4, 2, duplicates=2),
    ("events", "events/empty.jsonl"): Accounted(0, 0),
    ("order_lines", "orders/good.csv"): Accounted(3, 3),
    ("order_lines", "orders/bom_crlf.csv"): Accounted(2, 2),
    ("order_lines", "orders/ragged.csv"): Accounted(2, 1, (("malformed_csv_row", 1),)),
    ("products", "inventory/good.xlsx"): Accounted(2, 2),
    ("products", "inventory/no_stock_sheet.xlsx"): Accounted(1, 1),
    ("stock", "inventory/good.xlsx"): Accounted(2, 2),
    ("stock", "inventory/title_row.xlsx"): Accounted(1, 1),
    ("experiments", "experiments/good.json"): Accounted(1, 1),
    ("experiments", "experiments/bom_crlf.json"): Accounted(1, 1),
}
# Silver table -> its bronze table, which here is also the name of its one source.
BRONZE_OF = {
    "events": "events",
    "order_lines": "orders",
    "products": "products",
    "stock": "stock",
    "experiments": "experiments",
}

# Never listed: hidden, underscore, temporary and lock files (valid content, so only the listing keeps them out).
UNLISTED: dict[str, bytes] = {
    "events/.hidden.jsonl": _jsonl(_event("e-hidden")),
    "events/_staging/events.jsonl": _jsonl(_event("e-staging")),
    "events/upload.jsonl.part": _jsonl(_event("e-part")),
    "events/export.jsonl.tmp": _jsonl(_event("e-tmp")),
    "inventory/~$good.xlsx": b"lock",
}

SECOND_RUN_FIX = ("orders/semicolon.csv", (ORDER_HEADER + "\n" + _order("o-fixed") + "\n").encode())
SECOND_RUN_RENAME = ("events/upload.jsonl.part", "events/upload.jsonl")


@dataclass
class Runs:
    settings: Settings
    first: RunReport
    second: RunReport
    rejected_after_first: pd.DataFrame
    started_second: dt.datetime


def _catalog(settings: Settings, tables: tuple[str, ...]) -> Catalog:
    return Catalog([t for t in load_catalog(settings) if t.id in tables])


def _write(landing: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.fixture(scope="module")
def runs(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    settings = make_settings(
        tmp_path_factory.mktemp("bad-input"), max_document_bytes=MAX_DOCUMENT_BYTES, landing_settle_seconds=0
    )
    landing = Path(settings.landing)
    _write(landing, {**GOOD, **BAD, **ACCOUNTED_FILES, **UNLISTED})
    gate = QualityGate()  # one GX context for both runs
    first = Pipeline(settings, spark, catalog=_catalog(settings, TABLES), gate=gate).run()
    assert first.ok, first.failed
    rejected_after_first = ops.read_ops(settings, "rejected_files")

    fixed, content = SECOND_RUN_FIX
    (landing / fixed).write_bytes(content)
    (landing / SECOND_RUN_RENAME[0]).rename(landing / SECOND_RUN_RENAME[1])
    started_second = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    second = Pipeline(settings, spark, catalog=_catalog(settings, SECOND_RUN_TABLES), gate=gate).run()
    assert second.ok, second.failed
    return Runs(settings, first, second, rejected_after_first, started_second)


def _table(settings: Settings, layer: str, name: str) -> pd.DataFrame:
    reader = delta_io.open_reader(settings, table_path(settings, layer, name))
    assert reader is not None, f"{layer}.{name} was not written"
    return reader.to_pandas()


def _per_file(frame: pd.DataFrame) -> Counter[str]:
    return Counter(frame["_ingest_file"].tolist())


def test_each_bad_file_is_rejected_alone_with_its_reason(runs: Runs) -> None:
    rejected = runs.rejected_after_first
    got = {(r.source, r.path): r.reason for r in rejected.itertuples()}
    assert got == REJECTED
    assert len(rejected) == len(REJECTED)  # one row per (source, file)
    assert set(got.values()) <= set(REJECT_REASONS)
    for row in rejected.itertuples():
        assert row.detail and "\n" not in row.detail, row
        assert row.run_id == runs.first.run_id
        assert row.size == len(BAD[row.path])
        assert len(row.checksum) == 64
    missing = rejected[rejected["path"] == "orders/missing_column.csv"]["detail"].item()
    assert "- discount string" in missing  # the schema diff names the missing column
    # A rejected file is not in the ingest log of its source (a workbook may be read by the other sheet's).
    ingested = ops.read_ops(runs.settings, "ingest_log")
    ingested = ingested[ingested["run_id"] == runs.first.run_id]
    assert not set(zip(ingested["source"], ingested["file"], strict=True)) & set(REJECTED)


def test_every_other_file_arrives_with_its_rows_accounted_for(runs: Runs) -> None:
    settings = runs.settings
    ingest = ops.read_ops(settings, "ingest_log")
    first_ingest = ingest[ingest["run_id"] == runs.first.run_id]
    assert sorted(zip(first_ingest["source"], first_ingest["file"], strict=True)) == sorted(
        (BRONZE_OF[table], path) for table, path in ACCOUNTED
    )
    assert {path for _, path in ACCOUNTED} >= set(GOOD)
    for table, bronze_name in BRONZE_OF.items():
        bronze_frame = _table(settings, "bronze", bronze_name)
        bronze = _per_file(bronze_frame[bronze_frame["_ingest_batch_id"] == runs.first.run_id])
        accounted = {path: want for (t, path), want in ACCOUNTED.items() if t == table}
        for path, want in accounted.items():
            assert bronze[path] == want.bronze, (table, path)
        # Nothing of a rejected or unlisted file reached bronze.
        rejected_paths = {path for source, path in REJECTED if source == bronze_name}
        assert set(bronze) == {path for path, want in accounted.items() if want.bronze}, table
        assert not rejected_paths & set(bronze), table
        if f"silver.{table}" not in TABLES:
            continue
        silver = _per_file(_table(settings, "silver", table))
        quarantine = _table(settings, "quarantine", table)
        assert quarantine["_reason"].notna().all()
        quarantined = Counter(zip(quarantine["_ingest_file"], quarantine["_rule"], strict=True))
        for path, want in accounted.items():
            rules = {rule: n for (file, rule), n in quarantined.items() if file == path}
            assert silver[path] == want.silver, (table, path)
            assert rules == dict(want.quarantined), (table, path)
            assert bronze[path] == silver[path] + sum(rules.values()) + want.duplicates, (table, path)


def test_workbook_and_document_rows_carry_their_keys(runs: Runs) -> None:
    products = _table(runs.settings, "bronze", "products")
    assert sorted(zip(products["_ingest_file"], products["product_id"], strict=True)) == [
        ("inventory/good.xlsx", "p1"),
        ("inventory/good.xlsx", "p2"),
        ("inventory/no_stock_sheet.xlsx", "p3"),
    ]
    stock = _table(runs.settings, "bronze", "stock")
    assert sorted(zip(stock["_ingest_file"], stock["warehouse"], stock["snapshot_date"], strict=True)) == [
        ("inventory/good.xlsx", "north", "2026-10-01"),
        ("inventory/good.xlsx", "north", "2026-10-01"),
        ("inventory/title_row.xlsx", "south", "2026-10-02"),
    ]
    experiments = _table(runs.settings, "bronze", "experiments")
    assert sorted(experiments["experiment_id"]) == ["exp-bom", "exp-good"]  # BOM and CRLF are not content
    assert experiments["_corrupt_record"].isna().all()
    assert json.loads(experiments["variants"].iloc[0]) == ["control", "treatment"]


def test_the_bad_rows_keep_what_explains_them(runs: Runs) -> None:
    quarantine = _table(runs.settings, "quarantine", "events")
    [utf8] = quarantine[quarantine["_rule"] == "invalid_utf8"].to_dict("records")
    record = json.loads(utf8["_record"])
    assert "user_id" not in record  # null: nothing decoded with replacement characters reaches a column
    assert record["_corrupt_record"].startswith(INVALID_UTF8_PREFIX)
    assert b"caf\xe9" in base64.b64decode(record["_corrupt_record"].removeprefix(INVALID_UTF8_PREFIX))
    silver = _table(runs.settings, "silver", "events")
    assert not silver["user_id"].str.contains("\ufffd").any()
    assert set(silver[silver["_ingest_file"] == "events/object_ids.jsonl"]["event_id"]) == {"e-obj-1", "e-obj-5"}
    obj5 = silver[silver["event_id"] == "e-obj-5"].iloc[0]
    assert (obj5["user_id"], obj5["product_id"]) == ("5", "[A1]")
    [user_obj] = quarantine[quarantine["_rule"] == "user_id_not_scalar"].to_dict("records")
    assert user_obj["_reason"].startswith("user_id is a JSON object or array")
    assert json.loads(json.loads(user_obj["_record"])["user_id"]) == {"id": 5}


def test_a_corrected_file_is_ingested_and_an_unchanged_rejected_file_is_not_retried(runs: Runs) -> None:
    settings = runs.settings
    rejected = ops.read_ops(settings, "rejected_files")
    # The second run rejected nothing new: the unchanged files were skipped, not re-attempted.
    assert ops.rejected_since(settings, runs.started_second).empty
    assert len(rejected) == len(REJECTED)
    ingest = ops.read_ops(settings, "ingest_log")
    second = ingest[ingest["run_id"] == runs.second.run_id]
    assert sorted(second["file"]) == sorted([SECOND_RUN_FIX[0], SECOND_RUN_RENAME[1]])
    orders = _table(settings, "bronze", "orders")
    assert orders.loc[orders["_ingest_file"] == SECOND_RUN_FIX[0], "order_id"].tolist() == ["o-fixed"]
    events = _table(settings, "bronze", "events")
    assert events.loc[events["_ingest_file"] == SECOND_RUN_RENAME[1], "event_id"].tolist() == ["e-part"]
    by_table = {r.table: r for r in runs.second.results}
    assert "3 rejected before and unchanged: not retried" in (by_table["bronze.events"].message or "")
    # Nothing is new any more: the check that decides whether to start Spark says so too.
    sources = load_sources()
    assert not has_new_files(settings, "bronze.events", [sources["events"]])
    assert not has_new_files(settings, "bronze.orders", [sources["orders"]])


def test_cli_lists_rejections_and_exits_3(
    runs: Runs, spark: SparkSession, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The exit code path of ``lakehouse run``, with the pipeline replaced by one that rejects a file."""
    from cli import main as cli

    settings = make_settings(tmp_path)

    def fake_run(settings_: Settings, *_args: object, **_kwargs: object) -> tuple[list[dict], Catalog]:
        record = ops.RejectedFileRecord(
            "orders", "orders/x.csv", 3, "0" * 64, "wrong_delimiter", "split on ';'", "run-x", _now()
        )
        ops.append_records(spark, settings_, "rejected_files", [record])
        return [], Catalog([])

    monkeypatch.setattr(cli, "_run_pipeline", fake_run)
    monkeypatch.setattr(cli, "_print_summary", lambda *_args: None)
    env = {"LAKEHOUSE_ROOT": settings.root, "LAKEHOUSE_LANDING": settings.landing, "LAKEHOUSE_ENV_FILE": "none"}
    done = CliRunner().invoke(cli.app, ["run", "--no-prefect"], env=env)
    assert done.exit_code == ExitCode.REJECTED_FILES == 3, done.output
    assert "rejected 1 landing file(s)" in done.output
    assert "orders/x.csv  wrong_delimiter: split on ';'" in done.output


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- listing and gzip units (no Spark) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "unstable"),
    [
        ("events/a.jsonl", False),
        ("events/a.jsonl.gz", False),
        ("inventory/stock_2026.xlsx", False),
        ("events/.a.jsonl", True),
        ("events/_SUCCESS", True),
        (".staging/events/a.jsonl", True),
        ("events/_tmp/a.jsonl", True),
        ("events/a.jsonl.tmp", True),
        ("events/a.jsonl.gz.part", True),
        ("orders/a.csv.PART", True),
        ("inventory/~$stock.xlsx", True),
        ("orders/a.csv~", True),
    ],
)
def test_unstable_names(relative: str, unstable: bool) -> None:
    assert is_unstable_name(relative) is unstable


def _touch(root: Path, relative: str, age_seconds: float) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"{}\n")
    at = time.time() - age_seconds
    os.utime(path, (at, at))


def test_local_listing_skips_unstable_and_fresh_files(tmp_path: Path) -> None:
    for relative in ("events/old.jsonl", "events/.hidden.jsonl", "events/_tmp/x.jsonl", "events/x.jsonl.part"):
        _touch(tmp_path, relative, age_seconds=600)
    _touch(tmp_path, "events/writing.jsonl", age_seconds=1)

    settled = LocalLanding(str(tmp_path), settle_seconds=30)
    assert [f.path for f in settled.list("events/*.jsonl*")] == ["events/old.jsonl"]
    # Once it stops changing for the settle time (or with no settle time), the fresh file is listed.
    immediate = LocalLanding(str(tmp_path), settle_seconds=0)
    assert [f.path for f in immediate.list("events/*.jsonl*")] == ["events/old.jsonl", "events/writing.jsonl"]


def _gzip_reason(tmp_path: Path, data: bytes) -> str | None:
    (tmp_path / "f.jsonl.gz").write_bytes(data)
    store = LocalLanding(str(tmp_path))
    [file] = store.list("*.gz")
    try:
        _check_gzip(file, store)
    except FileRejected as exc:
        return exc.reason
    return None


def _members(parts: Iterable[bytes]) -> bytes:
    return b"".join(gzip.compress(p, mtime=0) for p in parts)


def test_gzip_check(tmp_path: Path) -> None:
    assert _gzip_reason(tmp_path, gzip.compress(b'{"a": 1}\n' * 1000)) is None
    assert _gzip_reason(tmp_path, _members([b'{"a": 1}\n', b'{"b": 2}\n'])) is None  # concatenated members
    assert _gzip_reason(tmp_path, _truncated_gzip()) == "truncated_gzip"
    assert _gzip_reason(tmp_path, _bad_crc_gzip()) == "corrupt_gzip"
    assert _gzip_reason(tmp_path, gzip.compress(b"x\n") + b"trailing junk") == "corrupt_gzip"
    assert _gzip_reason(tmp_path, b'{"a": 1}\n') == "not_gzip"
    assert _gzip_reason(tmp_path, b"") == "empty_file"
