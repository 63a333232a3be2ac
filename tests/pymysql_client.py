"""PyMySQL through the proxy, run by tests/clients.rs: python3 pymysql_client.py HOST PORT DB.

PyMySQL interpolates parameters client-side and, as PEP 249 asks, turns autocommit off: every
statement after COMMIT/ROLLBACK opens a transaction implicitly. Prints one line per check passed;
any failed assertion exits non-zero with a traceback.
"""

import decimal
import sys

import pymysql
from pymysql.constants import CLIENT

host, port, db = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def connect(**kw):
    return pymysql.connect(host=host, port=port, user="app", password="app", database=db, **kw)


conn = connect()
assert conn.get_autocommit() is False, "PEP 249: autocommit off"
cur = conn.cursor()
cur.execute(
    "CREATE TABLE py_items (id BIGINT PRIMARY KEY, tag VARBINARY(16), price DECIMAL(10,2), "
    "name VARCHAR(20))"
)
rows = [(i, bytes([i, 0, 0x80 + i, 0xFF]), decimal.Decimal(i) + decimal.Decimal("0.5"), "n%d" % i)
        for i in range(1, 11)]
for r in rows:
    cur.execute("INSERT INTO py_items (id, tag, price, name) VALUES (%s, %s, %s, %s)", r)
    assert cur.rowcount == 1
conn.commit()
print("inserted", len(rows))

# Another connection sees the committed rows (they were not left in an open transaction).
other = connect(autocommit=True)
ocur = other.cursor()
ocur.execute("SELECT COUNT(*) FROM py_items")
assert ocur.fetchone()[0] == 10

cur.execute("SELECT id, tag, price, name FROM py_items ORDER BY id")
got = cur.fetchall()
assert len(got) == 10, got
for (gid, tag, price, name), (wid, wtag, wprice, wname) in zip(got, rows):
    assert gid == wid
    assert isinstance(tag, bytes), "VARBINARY must reach Python as bytes, got %r" % (tag,)
    assert tag == wtag, (tag, wtag)
    assert isinstance(price, decimal.Decimal), "DECIMAL must be Decimal, got %r" % (price,)
    assert price == wprice and price.as_tuple().exponent == -2, price
    assert str(price) == "%d.50" % wid, str(price)
    assert isinstance(name, str) and name == wname
desc = {d[0]: d for d in cur.description}
assert desc["price"][5] == 2, "DECIMAL scale from the column definition: %r" % (desc["price"],)
print("types ok")

cur.execute("SELECT tag FROM py_items WHERE id = %s", (7,))
assert cur.fetchone()[0] == bytes([7, 0, 0x87, 0xFF])
cur.execute("SELECT id FROM py_items WHERE tag = %s", (bytes([3, 0, 0x83, 0xFF]),))
assert cur.fetchall() == ((3,),)

# rowcount of UPDATE: changed rows (PyMySQL does not ask for CLIENT_FOUND_ROWS).
n = cur.execute("UPDATE py_items SET price = price + 1 WHERE id = %s", (4,))
assert n == 1 and cur.rowcount == 1, cur.rowcount
cur.execute("UPDATE py_items SET name = 'x' WHERE id IN (%s, %s, %s)", (1, 2, 3))
assert cur.rowcount == 3, cur.rowcount
cur.execute("UPDATE py_items SET name = 'x' WHERE id IN (%s, %s, %s)", (1, 2, 3))
assert cur.rowcount == 0, "nothing changed: %d" % cur.rowcount
conn.commit()
print("rowcount ok")

# With CLIENT_FOUND_ROWS (as SQLAlchemy asks) the same UPDATE reports matched rows.
fr = connect(client_flag=CLIENT.FOUND_ROWS)
fcur = fr.cursor()
fcur.execute("UPDATE py_items SET name = 'x' WHERE id IN (%s, %s, %s)", (1, 2, 3))
assert fcur.rowcount == 3, "found rows: %d" % fcur.rowcount
fr.commit()
fr.close()
print("found rows ok")

# Implicit transaction: no BEGIN is sent; ROLLBACK undoes the insert.
cur.execute("INSERT INTO py_items (id, tag, price, name) VALUES (%s, %s, %s, %s)",
            (11, b"\x00", decimal.Decimal("1.00"), "gone"))
ocur.execute("SELECT COUNT(*) FROM py_items WHERE id = 11")
assert ocur.fetchone()[0] == 0, "uncommitted row visible to another connection"
conn.rollback()
cur.execute("SELECT COUNT(*) FROM py_items WHERE id = 11")
assert cur.fetchone()[0] == 0, "rolled back row still there"
# Pools send ROLLBACK after COMMIT: it must simply succeed.
conn.commit()
conn.rollback()
conn.rollback()
print("transactions ok")

conn.ping(reconnect=False)
other.ping(reconnect=False)
print("ping ok")

cur.execute("SELECT VERSION()")
print("version", cur.fetchone()[0])
cur.close()
conn.close()
other.close()
print("done")
