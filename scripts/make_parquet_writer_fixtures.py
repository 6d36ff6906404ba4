#!/usr/bin/env python3
"""Writes small Parquet files with the writers people use, and what each row should read as.

    python scripts/make_parquet_writer_fixtures.py                # all writers
    python scripts/make_parquet_writer_fixtures.py pyarrow duckdb # some of them

Writers: pyarrow, polars, duckdb (PARQUET_VERSION V1 and V2), pandas + fastparquet, Spark
(pyspark; parquet-mr with writer.version v1 + Hadoop LZ4 and INT96 timestamps, and v2 with the
delta encodings) and DataFusion (writer version 1.0 and 2.0). The packages are in
scripts/requirements-parquet-writers.txt (`make parquet-writer-fixtures` installs them in
.venv-parquet and runs this script); Spark also needs a Java 17 runtime. Every file is
read back with pyarrow, and the rows written next to it as <name>.json in the convention of the
Swift reader (docs/ingest.md, "Parquet"):

- signed and unsigned integers: JSON numbers, exact (uint64 past 2^63 included);
- FLOAT, DOUBLE, FLOAT16: JSON numbers (the test compares them at the column's precision);
- DECIMAL: a string, the unscaled value with `scale` fraction digits ("-0.05");
- DATE: "YYYY-MM-DD"; TIME: "HH:MM:SS.fff" with 3, 6 or 9 fraction digits for millis, micros,
  nanos; TIMESTAMP: "YYYY-MM-DDTHH:MM:SS.fff...", with a "Z" when UTC-adjusted; INT96: a local
  nanosecond timestamp (no zone), as pyarrow reads it;
- STRING / ENUM / JSON: strings; UUID: the 8-4-4-4-12 form; other BYTE_ARRAY and
  FIXED_LEN_BYTE_ARRAY (BINARY, BSON): lowercase hex;
- nested and repeated columns (lists) are listed under "skipped".

DuckDB's V2 writer packs INT32 deltas in up to 64 bits when neighbouring values are more than
2^31 apart, which pyarrow refuses to read; those columns (integers only) are read with DuckDB
instead and named under "read_by" in the JSON.

Each JSON also lists the codecs and encodings of the file's column chunks (from pyarrow's
metadata) so the tests can check that the fixtures cover what they are meant to. Two more files
are pyarrow files patched by hand to use a codec id and an encoding id that do not exist, for
the `unsupported` tests. Output goes to Tests/IngestTests/Fixtures/manifests/parquet/writers.
"""
import datetime
import decimal
import glob
import json
import os
import re
import shutil
import sys
import tempfile
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "IngestTests", "Fixtures", "manifests", "parquet", "writers")

U32 = [0, 3_000_000_000, 4_294_967_295, None, 1]
U64 = [0, 2**63 + 5, 2**64 - 1, None, 12_345]
I8 = [-128, 127, 0, None, -1]
I16 = [-32768, 32767, 7, None, -2]
I32 = [-(2**31), 2**31 - 1, 0, None, 42]
I64 = [-(2**63), 2**63 - 1, 0, None, -42]
F32 = [1.5, -0.1, 3.4028234663852886e38, None, 1e-7]
F64 = [0.1, -2.5e300, 5e-324, None, 12345.678]
DEC = ["123.45", "-0.05", "99999999.99", None, "0.00"]
DEC38 = ["-1234567890123456789012345678.9012345678", "0.0000000001", "9999999999999999999999999999.9999999999",
         None, "-0.5000000000"]
DATES = [datetime.date(2024, 2, 29), datetime.date(1969, 12, 31), datetime.date(1, 1, 1), None, datetime.date(9999, 12, 31)]
TS = [datetime.datetime(2024, 2, 29, 12, 34, 56, 789012), datetime.datetime(1969, 12, 31, 23, 59, 59, 500000),
      datetime.datetime(1900, 1, 1), None, datetime.datetime(2262, 4, 11, 0, 0, 0, 1)]
TIMES = [datetime.time(0, 0, 0), datetime.time(12, 34, 56, 789000), datetime.time(23, 59, 59, 999000), None,
         datetime.time(1, 2, 3, 4000)]
STRINGS = ["héllo", "", "日本語", None, 'quote " back \\ newline \n']
BINARY = [b"\x00\xff", b"", b"abc", None, b"\x80"]
BOOLS = [True, False, True, None, False]
COLORS = ["red", "blue", "red", None, "red"]
LISTS = [[1, 2], [], None, [3], [None, 4]]
UUIDS = [uuid.UUID("12345678-1234-5678-9abc-def012345678"), uuid.UUID(int=0), uuid.UUID(int=2**128 - 1), None,
         uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")]


def dec(values):
    return [None if v is None else decimal.Decimal(v) for v in values]


# ---------------------------------------------------------------------------------------------
# Expected rows: pyarrow reads the file; values are written in the convention above.

def hexs(b):
    return bytes(b).hex()


def clock(value, per_second, digits):
    seconds, fraction = divmod(value, per_second)
    return "%02d:%02d:%02d.%0*d" % (seconds // 3600, seconds // 60 % 60, seconds % 60, digits, fraction)


def timestamp(value, per_second, digits, utc):
    days, rest = divmod(value, 86400 * per_second)
    day = datetime.date(1970, 1, 1) + datetime.timedelta(days=days)
    return day.isoformat() + "T" + clock(rest, per_second, digits) + ("Z" if utc else "")


UNITS = {"milliseconds": ("ms", 1000, 3), "microseconds": ("us", 10**6, 6), "nanoseconds": ("ns", 10**9, 9)}


def column_values(pa, column, arr):
    """The expected JSON values of one top-level column."""
    logical = str(column.logical_type)
    kind = logical.split("(")[0].strip().lower()
    physical = column.physical_type
    if isinstance(arr.type, pa.DictionaryType):
        arr = arr.cast(arr.type.value_type)
    if isinstance(arr.type, pa.ExtensionType):
        arr = arr.storage
    if physical == "INT96":
        raw = arr.cast(pa.timestamp("ns")).cast(pa.int64()).to_pylist()
        return [None if v is None else timestamp(v, 10**9, 9, False) for v in raw]
    if kind in ("timestamp", "time") or column.converted_type in (
            "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS", "TIME_MILLIS", "TIME_MICROS"):
        unit = re.search(r"timeUnit=(\w+)", logical)
        utc = re.search(r"isAdjustedToUTC=(\w+)", logical)
        if unit:
            name, per_second, digits = UNITS[unit.group(1)]
            adjusted = utc.group(1) == "true"
        else:   # converted type only: UTC-adjusted by the format's rules
            name, per_second, digits = ("ms", 1000, 3) if column.converted_type.endswith("MILLIS") else ("us", 10**6, 6)
            adjusted = True
        if kind == "time" or column.converted_type.startswith("TIME_"):
            target = pa.time32(name) if name == "ms" else pa.time64(name)
            raw = arr.cast(target).cast(pa.int32() if name == "ms" else pa.int64()).to_pylist()
            return [None if v is None else clock(v, per_second, digits) for v in raw]
        raw = arr.cast(pa.timestamp(name, tz=arr.type.tz)).cast(pa.int64()).to_pylist()
        return [None if v is None else timestamp(v, per_second, digits, adjusted) for v in raw]
    out = []
    for v in arr.to_pylist():
        if v is None:
            out.append(None)
        elif isinstance(v, bool):
            out.append(v)
        elif isinstance(v, decimal.Decimal):
            out.append(format(v, "f"))
        elif isinstance(v, datetime.date):
            out.append(v.isoformat())
        elif isinstance(v, uuid.UUID):
            out.append(str(v))
        elif isinstance(v, (bytes, bytearray)):
            if kind == "uuid":
                out.append(str(uuid.UUID(bytes=bytes(v))))
            elif kind in ("string", "json", "enum"):
                out.append(bytes(v).decode("utf-8", "replace"))
            else:
                out.append(hexs(v))
        elif isinstance(v, str):
            out.append(v if kind in ("string", "json", "enum") else hexs(v.encode()))
        elif isinstance(v, int):
            out.append(v)
        else:
            out.append(float(v))
    return out


def write_expected(path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    schema = pf.schema
    columns, skipped = [], []
    for i in range(len(schema)):
        c = schema.column(i)
        if "." in c.path or c.max_repetition_level > 0 or c.max_definition_level > 1:
            skipped.append(c.path)
        else:
            columns.append(c)
    values, read_by = [], {}
    for c in columns:
        try:
            values.append(column_values(pa, c, pf.read([c.path]).column(0).combine_chunks()))
        except OSError:
            if not os.path.basename(path).startswith("duckdb_"):
                raise
            values.append(duckdb_integers(path, c.path))
            read_by[c.path] = "duckdb"
    meta = pf.metadata
    codecs, encodings = set(), set()
    for g in range(meta.num_row_groups):
        for k in range(meta.num_columns):
            chunk = meta.row_group(g).column(k)
            codecs.add(chunk.compression)
            encodings.update(chunk.encodings)
    expected = {
        "created_by": meta.created_by,
        "codecs": sorted(codecs),
        "encodings": sorted(encodings),
        "columns": [c.path for c in columns],
        "skipped": skipped,
        "read_by": read_by,
        "rows": [list(r) for r in zip(*values)] if values else [],
    }
    # One key, one row per line: small diffs when a writer changes.
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in expected.items() if k != "rows"]
    rows = [f"    {json.dumps(r, ensure_ascii=False)}" for r in expected["rows"]]
    with open(path[:-len(".parquet")] + ".json", "w") as f:
        f.write("{\n" + "\n".join(lines) + '\n  "rows": [\n' + ",\n".join(rows) + "\n  ]\n}\n")
    print(f"{os.path.basename(path)}: {os.path.getsize(path)} bytes, {meta.created_by}, "
          f"{sorted(codecs)}, {sorted(encodings)}")


# ---------------------------------------------------------------------------------------------
# Writers.

def arrow_table(pa, *, uuid_type=True):
    import numpy as np
    columns = {
        "u8": pa.array([0, 255, 128, None, 1], pa.uint8()),
        "u16": pa.array([0, 65535, 40000, None, 1], pa.uint16()),
        "u32": pa.array(U32, pa.uint32()),
        "u64": pa.array(U64, pa.uint64()),
        "i8": pa.array(I8, pa.int8()),
        "i16": pa.array(I16, pa.int16()),
        "i32": pa.array(I32, pa.int32()),
        "i64": pa.array(I64, pa.int64()),
        "f16": pa.array([None if v is None else np.float16(v) for v in [1.5, -0.0999755859375, 65504.0, None, 6e-8]],
                        pa.float16()),
        "f32": pa.array(F32, pa.float32()),
        "f64": pa.array(F64, pa.float64()),
        "dec": pa.array(dec(DEC), pa.decimal128(10, 2)),
        "dec38": pa.array(dec(DEC38), pa.decimal128(38, 10)),
        "date": pa.array(DATES, pa.date32()),
        "ts_ms": pa.array(TS, pa.timestamp("ms")),
        "ts_us_utc": pa.array(TS, pa.timestamp("us", tz="UTC")),
        "ts_ns": pa.array(TS[:4] + [datetime.datetime(2262, 4, 11)], pa.timestamp("ns")),
        "ts_ns_ny": pa.array(TS[:4] + [datetime.datetime(2000, 6, 1)], pa.timestamp("ns", tz="America/New_York")),
        "t_ms": pa.array(TIMES, pa.time32("ms")),
        "t_us": pa.array(TIMES, pa.time64("us")),
        "t_ns": pa.array(TIMES, pa.time64("ns")),
        "s": pa.array(STRINGS, pa.string()),
        "b": pa.array(BINARY, pa.binary()),
        "fixed": pa.array([b"abc", b"\x00\x01\x02", b"xyz", None, b"\xff\xfe\xfd"], pa.binary(3)),
        "flag": pa.array(BOOLS, pa.bool_()),
        "color": pa.array(COLORS, pa.string()).dictionary_encode(),
        "l": pa.array(LISTS, pa.list_(pa.int32())),
    }
    if uuid_type and hasattr(pa, "uuid"):
        columns["id"] = pa.array([None if u is None else u.bytes for u in UUIDS], pa.uuid())
    if hasattr(pa, "json_"):
        columns["doc"] = pa.array(['{"a": 1}', "[]", "null", None, '"x"'], pa.json_())
    table = pa.table(columns)
    # One required column: no definition levels.
    required = pa.array([10, 20, 30, 40, 50], pa.int32())
    return table.append_column(pa.field("req", pa.int32(), nullable=False), required)


def write_pyarrow(tmp):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = arrow_table(pa)
    files = {
        "pyarrow_snappy": dict(compression="snappy"),
        "pyarrow_gzip_v1format": dict(compression="gzip", version="1.0"),
        "pyarrow_lz4raw": dict(compression="lz4"),
        "pyarrow_brotli": dict(compression="brotli"),
        "pyarrow_zstd_int_decimals": dict(compression="zstd", store_decimal_as_integer=True),
    }
    for name, options in files.items():
        pq.write_table(table, os.path.join(OUT, name + ".parquet"), **options)
    # Data page v2, no dictionary, every column in one of the v2 encodings.
    names = table.column_names
    encoding = {}
    for n in names:
        if n in ("i32", "i64", "u32", "u64", "i8", "i16", "u8", "u16", "date", "ts_ms", "ts_us_utc", "ts_ns", "t_us", "req"):
            encoding[n] = "DELTA_BINARY_PACKED"
        elif n in ("s", "doc"):
            encoding[n] = "DELTA_LENGTH_BYTE_ARRAY"
        elif n in ("b", "fixed", "dec38", "id"):
            encoding[n] = "DELTA_BYTE_ARRAY"
        elif n in ("f32", "f64", "f16", "t_ms", "ts_ns_ny", "t_ns"):
            encoding[n] = "BYTE_STREAM_SPLIT"
    pq.write_table(table.drop_columns(["color"]), os.path.join(OUT, "pyarrow_v2_delta_zstd.parquet"),
                   compression="zstd", data_page_version="2.0", use_dictionary=False, column_encoding=encoding,
                   store_decimal_as_integer=False)
    return [os.path.join(OUT, n + ".parquet") for n in list(files) + ["pyarrow_v2_delta_zstd"]]


def write_polars(tmp):
    import polars as pl

    df = pl.DataFrame({
        "phash": pl.Series(["a", "b", "c", None, "e"]).hash(seed=0),
        "u32": pl.Series(U32, dtype=pl.UInt32),
        "u64": pl.Series(U64, dtype=pl.UInt64),
        "i8": pl.Series(I8, dtype=pl.Int8),
        "i16": pl.Series(I16, dtype=pl.Int16),
        "f32": pl.Series(F32, dtype=pl.Float32),
        "f64": pl.Series(F64, dtype=pl.Float64),
        "dec": pl.Series(dec(DEC), dtype=pl.Decimal(10, 2)),
        "date": pl.Series(DATES, dtype=pl.Date),
        "ts_ms": pl.Series(TS, dtype=pl.Datetime("ms")),
        "ts_us_utc": pl.Series(TS, dtype=pl.Datetime("us", "UTC")),
        "ts_ns": pl.Series(TS[:4] + [datetime.datetime(2262, 4, 11)], dtype=pl.Datetime("ns")),
        "t": pl.Series(TIMES, dtype=pl.Time),
        "s": pl.Series(STRINGS, dtype=pl.String),
        "b": pl.Series(BINARY, dtype=pl.Binary),
        "flag": pl.Series(BOOLS, dtype=pl.Boolean),
        "color": pl.Series(COLORS, dtype=pl.Categorical),
        "l": pl.Series(LISTS, dtype=pl.List(pl.Int32)),
    })
    paths = []
    for codec in ("lz4", "brotli", "zstd"):
        path = os.path.join(OUT, f"polars_{codec}.parquet")
        df.write_parquet(path, compression=codec, statistics=False)
        paths.append(path)
    return paths


def write_duckdb(tmp):
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
    con.execute("""
        CREATE TABLE t AS SELECT * FROM (VALUES
          (1, 255::UTINYINT, 65535::USMALLINT, 3000000000::UINTEGER, 9223372036854775813::UBIGINT, (-128)::TINYINT,
           (-32768)::SMALLINT, (-2147483648)::INTEGER, (-9223372036854775808)::BIGINT, 1.5::FLOAT, 0.1::DOUBLE,
           123.4::DECIMAL(4,1), 123456789012.345::DECIMAL(18,3), (-1234567890123456789012345678.9012345678)::DECIMAL(38,10),
           DATE '2024-02-29', TIME '12:34:56.789012', TIMESTAMP '2024-02-29 12:34:56.789012',
           TIMESTAMP_MS '1969-12-31 23:59:59.5', TIMESTAMP_NS '2262-04-11 00:00:00.000000001',
           TIMESTAMPTZ '2024-02-29 12:34:56.789012+00', 'héllo', '\\x00\\xFF'::BLOB, true,
           '12345678-1234-5678-9abc-def012345678'::UUID, 'happy'::mood, '{"a": 1}'::JSON, [1, 2]),
          (2, 0, 0, 4294967295, 18446744073709551615, 127, 32767, 2147483647, 9223372036854775807, -0.1, -2.5e300,
           -0.5, -0.001, 0.0000000001, DATE '1969-12-31', TIME '00:00:00', TIMESTAMP '1900-01-01 00:00:00',
           TIMESTAMP_MS '2000-01-01 00:00:00.001', TIMESTAMP_NS '1969-12-31 23:59:59.999999999',
           TIMESTAMPTZ '1969-12-31 23:59:59.5+00', '', ''::BLOB, false,
           '00000000-0000-0000-0000-000000000000'::UUID, 'sad', '[]', []),
          (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
          (4, 1, 1, 1, 12345, 0, 7, 0, 0, 1e-7, 5e-324, 0.0, 0.000, -0.5000000000, DATE '0001-01-01',
           TIME '23:59:59.999999', TIMESTAMP '2262-04-11 00:00:00', TIMESTAMP_MS '1900-01-01 00:00:00',
           TIMESTAMP_NS '2000-06-01 00:00:00', TIMESTAMPTZ '2000-06-01 00:00:00+00', '日本語', 'abc'::BLOB, NULL,
           'ffffffff-ffff-ffff-ffff-ffffffffffff'::UUID, 'ok', 'null', [NULL, 4])
        ) v(req, u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, dec4, dec18, dec38, d, t, ts, ts_ms, ts_ns,
            tstz, s, b, flag, id, m, doc, l)
    """)
    paths = []
    for name, options in [("duckdb_zstd", "COMPRESSION zstd"), ("duckdb_lz4raw", "COMPRESSION lz4"),
                          ("duckdb_brotli", "COMPRESSION brotli"),
                          ("duckdb_v2_snappy", "COMPRESSION snappy, PARQUET_VERSION V2")]:
        path = os.path.join(OUT, name + ".parquet")
        con.execute(f"COPY t TO '{path}' (FORMAT parquet, {options})")
        paths.append(path)
    return paths


def duckdb_integers(path, name):
    """One integer column as DuckDB reads it. DuckDB's V2 writer computes DELTA_BINARY_PACKED
    deltas of INT32 columns in 64 bits, so values more than 2^31 apart get deltas wider than 32
    bits, which pyarrow refuses (u32 and i32 here); DuckDB reads its own file."""
    import duckdb
    values = [r[0] for r in duckdb.sql(f"SELECT \"{name}\" FROM '{path}'").fetchall()]
    assert all(v is None or isinstance(v, int) for v in values), values
    return values


def write_fastparquet(tmp):
    import numpy as np
    import pandas as pd

    df = pd.DataFrame({
        "u32": np.array([0, 3_000_000_000, 4_294_967_295, 7, 1], dtype=np.uint32),
        "u64": np.array([0, 2**63 + 5, 2**64 - 1, 7, 12_345], dtype=np.uint64),
        "i8": np.array([-128, 127, 0, 5, -1], dtype=np.int8),
        "i16": np.array([-32768, 32767, 7, 5, -2], dtype=np.int16),
        "f32": np.array([1.5, -0.1, 3.4028234663852886e38, 2.0, 1e-7], dtype=np.float32),
        "f64": np.array([0.1, -2.5e300, 5e-324, 2.0, 12345.678], dtype=np.float64),
        "ts": pd.to_datetime(["2024-02-29 12:34:56.789012", "1969-12-31 23:59:59.5", "1900-01-01", None,
                              "2262-04-11"], format="ISO8601").as_unit("ns"),
        "ts_utc": pd.to_datetime(["2024-02-29 12:34:56.789012", "1969-12-31 23:59:59.5", "1900-01-01", None,
                                  "2000-06-01"], format="ISO8601").as_unit("ns").tz_localize("UTC"),
        "s": pd.Series(STRINGS, dtype=object),
        "b": pd.Series(BINARY, dtype=object),
        "flag": np.array([True, False, True, True, False]),
        "color": pd.Categorical(COLORS),
    })
    from fastparquet import write
    paths = []
    for name, options in [("fastparquet_snappy", dict(compression="SNAPPY")),
                          ("fastparquet_gzip_int96", dict(compression="GZIP", times="int96")),
                          ("fastparquet_zstd", dict(compression="ZSTD"))]:
        path = os.path.join(OUT, name + ".parquet")
        write(path, df, object_encoding={"s": "utf8", "b": "bytes"}, stats=False, **options)
        paths.append(path)
    return paths


def write_spark(tmp):
    from decimal import Decimal
    from pyspark.sql import SparkSession
    from pyspark.sql import types as T

    spark = (SparkSession.builder.master("local[1]").appName("fixtures")
             .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
             .getOrCreate())
    schema = T.StructType([
        T.StructField("i8", T.ByteType()), T.StructField("i16", T.ShortType()),
        T.StructField("i32", T.IntegerType()), T.StructField("i64", T.LongType()),
        T.StructField("f32", T.FloatType()), T.StructField("f64", T.DoubleType()),
        T.StructField("dec", T.DecimalType(10, 2)), T.StructField("dec18", T.DecimalType(18, 3)),
        T.StructField("dec30", T.DecimalType(30, 5)),
        T.StructField("d", T.DateType()), T.StructField("ts", T.TimestampType()),
        T.StructField("ts_ntz", T.TimestampNTZType()),
        T.StructField("s", T.StringType()), T.StructField("b", T.BinaryType()),
        T.StructField("flag", T.BooleanType()), T.StructField("l", T.ArrayType(T.IntegerType())),
    ])
    utc = datetime.timezone.utc
    rows = [
        (-128, -32768, -(2**31), -(2**63), 1.5, 0.1, Decimal("123.45"), Decimal("123456789012.345"),
         Decimal("-1234567890123456789012345.12345"), DATES[0], datetime.datetime(2024, 2, 29, 12, 34, 56, 789012, utc),
         TS[0], "héllo", b"\x00\xff", True, [1, 2]),
        (127, 32767, 2**31 - 1, 2**63 - 1, -0.1, -2.5e300, Decimal("-0.05"), Decimal("-0.001"), Decimal("0.00001"),
         DATES[1], datetime.datetime(1969, 12, 31, 23, 59, 59, 500000, utc), TS[1], "", b"", False, []),
        (None,) * 16,
        (0, 7, 42, -42, 1e-7, 5e-324, Decimal("0.00"), Decimal("0.000"), Decimal("-0.50000"), DATES[2],
         datetime.datetime(1900, 1, 1, tzinfo=utc), TS[2], "日本語", b"abc", False, [None, 4]),
    ]
    df = spark.createDataFrame(rows, schema).coalesce(1)
    paths = []
    runs = [
        ("spark_v1_lz4hadoop_int96", {"compression": "lz4"}, {"parquet.writer.version": "v1"}, "INT96"),
        ("spark_v2_zstd_delta", {"compression": "zstd"},
         {"parquet.writer.version": "v2", "parquet.enable.dictionary": "false"}, "TIMESTAMP_MICROS"),
        ("spark_v2_snappy_dictionary", {"compression": "snappy"}, {"parquet.writer.version": "v2"}, "TIMESTAMP_MILLIS"),
    ]
    for name, options, hadoop, ts_type in runs:
        spark.conf.set("spark.sql.parquet.outputTimestampType", ts_type)
        conf = spark.sparkContext._jsc.hadoopConfiguration()
        for k, v in hadoop.items():
            conf.set(k, v)
        folder = os.path.join(tmp, name)
        df.write.options(**options, **hadoop).mode("overwrite").parquet(folder)
        for k in hadoop:
            conf.unset(k)
        part = sorted(glob.glob(os.path.join(folder, "part-*.parquet")))[0]
        path = os.path.join(OUT, name + ".parquet")
        shutil.copyfile(part, path)
        paths.append(path)
    spark.stop()
    return paths


def write_datafusion(tmp):
    import pyarrow as pa
    from datafusion import SessionContext

    ctx = SessionContext()
    # Arrow extension types (UUID, JSON) stay out: DataFusion writes their storage type. The
    # dictionary column stays out too: pyarrow cannot read a DELTA_BYTE_ARRAY page back into an
    # Arrow dictionary ("DecodeArrow of DictAccumulator for DeltaByteArrayDecoder").
    table = arrow_table(pa, uuid_type=False)
    table = table.drop_columns([c for c in ("doc", "color") if c in table.column_names])
    ctx.register_record_batches("t", [table.to_batches()])
    paths = []
    for name, options in [
        ("datafusion_lz4hadoop", "'format.compression' 'lz4'"),
        ("datafusion_v2_delta_zstd", "'format.compression' 'zstd(3)', 'format.writer_version' '2.0', "
                                     "'format.dictionary_enabled' 'false'"),
        ("datafusion_v2_lz4raw", "'format.compression' 'lz4_raw', 'format.writer_version' '2.0'"),
    ]:
        path = os.path.join(OUT, name + ".parquet")
        ctx.sql(f"COPY (SELECT * FROM t) TO '{path}' STORED AS PARQUET OPTIONS ({options})").collect()
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------------------------
# Files patched to use what no reader knows: a codec id and an encoding id past the format's.

class Compact:
    """Just enough of Thrift's compact protocol to find a field's offset in a struct."""

    def __init__(self, data, pos):
        self.data, self.pos = data, pos

    def varint(self):
        shift = result = 0
        while True:
            b = self.data[self.pos]
            self.pos += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def value(self, t):
        start = self.pos
        if t in (1, 2):
            return start, t == 1
        if t == 3:
            self.pos += 1
        elif t in (4, 5, 6):
            z = self.varint()
            return start, (z >> 1) ^ -(z & 1)
        elif t == 7:
            self.pos += 8
        elif t == 8:
            n = self.varint()
            self.pos += n
        elif t in (9, 10):
            h = self.data[self.pos]
            self.pos += 1
            n, et = h >> 4, h & 0x0F
            if n == 15:
                n = self.varint()
            return start, [self.value(et)[1] if et not in (1, 2) else self.skip_bool() for _ in range(n)]
        elif t == 12:
            return start, self.struct()
        else:
            raise ValueError(f"type {t}")
        return start, None

    def skip_bool(self):
        self.pos += 1

    def struct(self):
        fields, last = {}, 0
        while True:
            h = self.data[self.pos]
            self.pos += 1
            if h == 0:
                return fields
            delta, t = h >> 4, h & 0x0F
            fid = last + delta if delta else self.varint()
            last = fid
            fields[fid] = self.value(t)


def write_patched(tmp):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"url": ["http://a/1.jpg", "http://a/2.jpg"], "caption": ["one", "two"]})
    plain = os.path.join(tmp, "plain.parquet")
    pq.write_table(table, plain, compression="none", use_dictionary=False, write_statistics=False)
    data = bytearray(open(plain, "rb").read())
    footer_length = int.from_bytes(data[-8:-4], "little")
    footer = Compact(data, len(data) - 8 - footer_length).struct()
    row_group = footer[4][1][0]
    chunk = row_group[1][1][0][3][1]              # row_groups[0].columns[0].meta_data
    codec_at = chunk[4][0]
    header = Compact(data, chunk[9][1]).struct()  # the data page's header
    encoding_at = header[5][1][2][0]              # data_page_header.encoding
    assert data[codec_at] == 0 and data[encoding_at] == 0, (data[codec_at], data[encoding_at])
    made_up = 2 * 42                              # zigzag(42), one byte
    codec = bytearray(data)
    codec[codec_at] = made_up
    encoding = bytearray(data)
    encoding[encoding_at] = made_up
    for name, patched in [("unsupported_codec", codec), ("unsupported_encoding", encoding)]:
        with open(os.path.join(OUT, name + ".parquet"), "wb") as f:
            f.write(patched)


WRITERS = {
    "pyarrow": write_pyarrow,
    "polars": write_polars,
    "duckdb": write_duckdb,
    "fastparquet": write_fastparquet,
    "spark": write_spark,
    "datafusion": write_datafusion,
}


def main():
    chosen = sys.argv[1:] or list(WRITERS) + ["patched"]
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in chosen:
            if name == "patched":
                write_patched(tmp)
                continue
            for path in WRITERS[name](tmp):
                write_expected(path)
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(OUT, "*")))
    print(f"{OUT}: {total} bytes")


if __name__ == "__main__":
    main()
