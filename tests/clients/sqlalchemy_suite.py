"""The client suite's ORM scenario (issue 12, item 7): SQLAlchemy 2.0 over PyMySQL, run by
tests/client_suite.rs as

    python3 sqlalchemy_suite.py HOST PORT USER PASSWORD DB

once through the proxy and once against a plain MariaDB. A small shop: sa_products and
sa_orders placed alike (orders sharded by product_id, co-located with their product),
create_all with a foreign key, create_order from several threads with with_for_update() and
with optimistic version counters (neither may oversell), relationship lazy loads, joins,
session.get(). Prints one line per step (see suite_common.py); when the engine cannot even
connect, the connect step says why and the script stops (the test reports the rest as not run).
"""

import decimal
import sys
import threading

from sqlalchemy import BigInteger, ForeignKey, Numeric, String, create_engine, func, inspect, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.orm.exc import StaleDataError

from suite_common import emit, tag

host, port, user, password, db = sys.argv[1:6]
engine = create_engine(f"mysql+pymysql://{user}:{password}@{host}:{port}/{db}?charset=utf8mb4",
                       pool_size=10, max_overflow=0)


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "sa_products"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(40))
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2))
    stock: Mapped[int]
    version: Mapped[int] = mapped_column(nullable=False)
    orders: Mapped[list["Order"]] = relationship(back_populates="product", order_by="Order.qty")
    __mapper_args__ = {"version_id_col": version}


class Order(Base):
    __tablename__ = "sa_orders"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sa_products.id"))
    qty: Mapped[int]
    customer: Mapped[str] = mapped_column(String(40))
    product: Mapped[Product] = relationship(back_populates="orders")


def code(e):
    orig = getattr(e, "orig", None)
    args = getattr(orig, "args", None) or getattr(e, "args", None) or [str(e)]
    return args[0]


def guarded(name, fn):
    """Runs one step; a database error becomes the step's output."""
    try:
        emit(name, fn())
    except DBAPIError as e:
        emit(name, {"error": code(e)})


try:
    with engine.connect() as c:
        c.exec_driver_sql("SELECT 1").all()
    emit("connect", {"ok": True})
except DBAPIError as e:
    emit("connect", {"error": code(e)})
    sys.exit(0)


def create_all():
    Base.metadata.create_all(engine)
    insp = inspect(engine)
    return {
        "tables": sorted(insp.get_table_names()),
        "order_columns": [[c["name"], str(c["type"]), c["nullable"]]
                          for c in insp.get_columns("sa_orders")],
        "order_fks": [[fk["constrained_columns"], fk["referred_table"], fk["referred_columns"]]
                      for fk in insp.get_foreign_keys("sa_orders")],
    }


guarded("create_all", create_all)


def seed():
    with Session(engine) as s, s.begin():
        s.add_all([Product(id=i, name="product %d" % i, price=decimal.Decimal("%d.99" % i),
                           stock=10, version=1) for i in range(1, 5)])
    return {"ok": True}


guarded("seed_products", seed)


def order_locked(pid, qty, customer):
    with Session(engine) as s, s.begin():
        p = s.scalars(select(Product).where(Product.id == pid).with_for_update()).one()
        if p.stock < qty:
            return "insufficient"
        p.stock -= qty
        s.add(Order(product_id=pid, qty=qty, customer=customer))
    return "ok"


def order_optimistic(pid, qty, customer):
    # No lock: the version counter makes a concurrent change fail (StaleDataError), and the
    # order is retried from a fresh read. Needs the UPDATE's matched-rows count to be right.
    for _ in range(100):
        try:
            with Session(engine) as s, s.begin():
                p = s.get(Product, pid)
                if p.stock < qty:
                    return "insufficient"
                p.stock -= qty
                s.add(Order(product_id=pid, qty=qty, customer=customer))
            return "ok"
        except StaleDataError:
            continue
        except OperationalError as e:
            if code(e) in (1205, 1213):  # lock wait timeout, deadlock: retry as an app would
                continue
            raise
    return "gave up"


def concurrent(fn, pid, threads=8, qty=3):
    """`threads` customers order `qty` each of a product with 10 in stock, all at once."""
    outcomes = []
    barrier = threading.Barrier(threads)
    lock = threading.Lock()

    def worker(i):
        barrier.wait()
        try:
            r = fn(pid, qty, "customer %d" % i)
        except DBAPIError as e:
            r = "error %s" % code(e)
        with lock:
            outcomes.append(r)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with Session(engine) as s:
        p = s.get(Product, pid)
        ordered = s.scalar(select(func.coalesce(func.sum(Order.qty), 0))
                           .where(Order.product_id == pid))
        return {"outcomes": {o: outcomes.count(o) for o in sorted(set(outcomes))},
                "stock": p.stock, "version": p.version, "ordered": int(ordered),
                "oversold": p.stock < 0 or int(ordered) > 10}


guarded("create_order_with_for_update", lambda: concurrent(order_locked, 1))
guarded("create_order_optimistic", lambda: concurrent(order_optimistic, 2))


def orders_read():
    with Session(engine) as s:
        orders = s.scalars(select(Order).order_by(Order.product_id, Order.qty)).all()
        ids = [o.id for o in orders]
        return {"orders": [[o.product_id, o.qty] for o in orders],
                "distinct_ids": len(set(ids)) == len(ids)}


guarded("orders_read", orders_read)


def lazy_loads():
    with Session(engine) as s:
        p = s.get(Product, 1)
        orders = p.orders  # lazy one-to-many
        return {"product": p.name,
                "orders": [[o.qty, o.product.name, o.product is p] for o in orders]}


guarded("lazy_loads", lazy_loads)


def session_get_order():
    # The first order of product 2, fetched again by primary key: with ids repeating across
    # shards, session.get() can hand back another product's order.
    with Session(engine) as s:
        first = s.scalars(select(Order).where(Order.product_id == 2).order_by(Order.id)).first()
        oid = first.id
        s.expunge_all()
        again = s.get(Order, oid)
        return {"product_id": again.product_id, "qty": again.qty,
                "same_customer": again.customer == first.customer}


guarded("session_get_order", session_get_order)


def session_get_product():
    with Session(engine) as s:
        p = s.get(Product, 3)
        return {"name": p.name, "price": tag(p.price), "stock": p.stock, "version": p.version}


guarded("session_get_product", session_get_product)


def join_one_product():
    with Session(engine) as s:
        rows = s.execute(select(Product.name, func.count(Order.id), func.sum(Order.qty))
                         .join(Order.product).where(Product.id == 1)
                         .group_by(Product.name)).all()
        return [[tag(v) for v in r] for r in rows]


guarded("join_one_product", join_one_product)


def join_by_order_key():
    with Session(engine) as s:
        rows = s.execute(select(Order.qty, Product.name).join(Order.product)
                         .where(Order.product_id == 2).order_by(Order.qty)).all()
        return [[tag(v) for v in r] for r in rows]


guarded("join_by_order_key", join_by_order_key)


def join_all():
    with Session(engine) as s:
        rows = s.execute(select(Product.name, Order.qty).join(Product.orders)
                         .order_by(Product.name, Order.qty)).all()
        return [[tag(v) for v in r] for r in rows]


guarded("join_all_products", join_all)


def orm_update():
    with Session(engine) as s, s.begin():
        for p in s.scalars(select(Product).where(Product.id.in_([3, 4]))).all():
            p.price = p.price + decimal.Decimal("0.01")
    with Session(engine) as s:
        return [[p.id, tag(p.price), p.version]
                for p in s.scalars(select(Product).order_by(Product.id)).all()]


guarded("orm_update_two_shards", orm_update)
emit("done", {})
