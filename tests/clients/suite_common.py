"""Shared by the Python clients of tests/client_suite.rs: the scenario's data and the one-line
output format the Rust test compares (proxy run against plain-MariaDB run, line by line).

Every step prints exactly one line:  STEP<TAB>name<TAB>payload  where payload is JSON with sorted
keys. Values are tagged with the Python type the driver returned (["bytes", "00ff.."],
["Decimal", "1.50"], ...) so that a driver decoding a column differently (bytes instead of str,
float instead of Decimal) shows as a difference. Nothing that legitimately differs between two
servers (connection ids, versions, timings) is printed.
"""

import datetime
import decimal
import json
import sys

# All 256 byte values, in four rows that a hash on id puts on both shards (ids 1, 3 on one
# shard, 2, 4 on the other): every value, reversed, the quoting-sensitive low bytes (NUL, quote,
# backslash, newline, ^Z) next to invalid UTF-8, and the high half alone (invalid UTF-8 only).
ALL_BYTES = bytes(range(256))
BIN_ROWS = [
    (1, ALL_BYTES, ALL_BYTES),
    (2, ALL_BYTES[::-1], b"\x00'\"\\\n\r\x1a\x80\xff\xc3(" * 4),
    (3, bytes(range(0x80, 0x100)), bytes(range(0x80, 0x100))[::-1]),
    (4, b"", None),
]
HIGH_BYTES = bytes(range(0x80, 0x100))

BIG_DEC = "99999999999999999999999999999999999.999999999999999999999999999999"
TYPED_ROWS = [
    (1, decimal.Decimal(BIG_DEC), 18446744073709551615,
     datetime.datetime(2026, 11, 22, 10, 20, 30, 123000), "héllo wörld", 1),
    (2, decimal.Decimal("-" + BIG_DEC), 0,
     datetime.datetime(1000, 1, 1, 0, 0, 0), "😀🎉 emoji 👩‍👩‍👧", None),
    (3, decimal.Decimal("0.000000000000000000000000000001"), 9223372036854775808,
     datetime.datetime(9999, 12, 31, 23, 59, 59, 999000), "日本語 Ελληνικά ﬁ", -1),
    (4, None, None, None, None, None),
    (5, decimal.Decimal("-0.000000000000000000000000000001"), 1,
     datetime.datetime(2026, 2, 28, 23, 59, 59, 500000), "çà Ünïcödé 'quote' \\ back", 0),
]

CREATE_TABLES = [
    "CREATE TABLE cs_bin (id BIGINT PRIMARY KEY, b VARBINARY(256), bl BLOB)",
    "CREATE TABLE cs_types (id BIGINT PRIMARY KEY, d DECIMAL(65,30), u BIGINT UNSIGNED, "
    "dt DATETIME(3), s VARCHAR(50) CHARACTER SET utf8mb4, n INT NULL)",
    "CREATE TABLE cs_items (id BIGINT PRIMARY KEY, name VARCHAR(20) NOT NULL, qty INT NOT NULL)",
    "CREATE TABLE cs_auto (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10))",
    "CREATE TABLE cs_notes (id BIGINT PRIMARY KEY, note VARCHAR(40))",
]


def tag(v):
    """A JSON-able value that keeps the Python type the driver chose."""
    if v is None:
        return None
    if isinstance(v, (bytes, bytearray)):
        return ["bytes", bytes(v).hex()]
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, int):
        return ["int", str(v)]
    if isinstance(v, float):
        return ["float", repr(v)]
    if isinstance(v, decimal.Decimal):
        return ["Decimal", str(v)]
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return [type(v).__name__, v.isoformat()]
    if isinstance(v, datetime.timedelta):
        return ["timedelta", str(v)]
    if isinstance(v, str):
        return ["str", v]
    if isinstance(v, (set, frozenset)):
        return ["set", sorted(v)]
    return [type(v).__name__, repr(v)]


def _fallback(v):
    # Metadata some drivers keep as bytes (PyMySQL's org_table, db, ...).
    if isinstance(v, (bytes, bytearray)):
        return "bytes:" + bytes(v).hex()
    return repr(v)


def emit(step, payload):
    line = json.dumps(payload, sort_keys=True, ensure_ascii=True, default=_fallback)
    sys.stdout.write("STEP\t%s\t%s\n" % (step, line))
    sys.stdout.flush()
