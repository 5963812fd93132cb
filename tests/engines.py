"""Warehouses for the tests: DuckDB (a file), PostgreSQL (a throwaway server) and Spark (in-process).

Each `Engine` loads tables, runs SQL and reads rows back in one shape, so a test can build the
same project on every engine and compare the published tables. PostgreSQL comes from
`.ci/postgres.sh` (initdb into a temporary folder, started on 127.0.0.1 and a free port, stopped
at the end of the session); Spark is the `spark` target of the generated profile (dbt-spark,
method session), whose metastore and warehouse live in a temporary folder (SEGC_SPARK_DIR).

Outside CI a missing server or extra skips the tests that need it, with the reason; with CI=true
it fails them, so CI can never pass by skipping.

Run as `python tests/engines.py spark` it is the Spark side of `SparkEngine`: JSON
{statements, queries} on stdin, the queries' rows as JSON on stdout.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_SH = ROOT / ".ci" / "postgres.sh"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# segc column types -> warehouse column types (the types the docs promise for sources)
COLUMN_TYPES = {
    "duckdb": {"string": "VARCHAR", "number": "DOUBLE", "integer": "BIGINT", "boolean": "BOOLEAN",
               "date": "DATE", "timestamp": "TIMESTAMP", "list": "VARCHAR[]", "key": "BIGINT"},
    "postgres": {"string": "TEXT", "number": "DOUBLE PRECISION", "integer": "BIGINT", "boolean": "BOOLEAN",
                 "date": "DATE", "timestamp": "TIMESTAMP", "list": "TEXT[]", "key": "BIGINT"},
    "spark": {"string": "STRING", "number": "DOUBLE", "integer": "BIGINT", "boolean": "BOOLEAN",
              "date": "DATE", "timestamp": "TIMESTAMP", "list": "ARRAY<STRING>", "key": "BIGINT"},
}


def unavailable(reason: str):
    """Skip (locally) or fail (in CI) a test whose warehouse is missing."""
    import pytest

    if IN_CI:
        pytest.fail(f"{reason} (CI=true: warehouse tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


def literal_sql(value, typ: str, dialect: str) -> str:
    """A typed SQL literal for one cell (rendered by sqlglot, never by string formatting)."""
    from sqlglot import exp

    from compiler.sqlgen import atoms

    if value is None:
        return "NULL"
    if typ == "list":
        items = [exp.cast(exp.Null(), "VARCHAR") if v is None else atoms.literal(v) for v in value]
        node = exp.cast(exp.Array(expressions=items), exp.DataType.build("ARRAY<VARCHAR>"))
    elif typ == "number":
        node = atoms.literal(float(value))
    elif typ == "timestamp" and isinstance(value, date) and not isinstance(value, datetime):
        node = atoms.literal(datetime(value.year, value.month, value.day))
    else:
        node = atoms.literal(value)
    return node.sql(dialect=dialect)


def table_statements(dialect: str, relation: str, columns: list[tuple[str, str]], rows: list[dict],
                     batch: int = 400) -> list[str]:
    """DROP, CREATE and INSERT statements that give `relation` exactly these typed rows."""
    types = COLUMN_TYPES[dialect]
    schema = relation.split(".")[0]
    create = f"CREATE TABLE {relation} ({', '.join(f'{c} {types[t]}' for c, t in columns)})"
    if dialect == "spark":
        create += " USING parquet"
    out = [f"CREATE SCHEMA IF NOT EXISTS {schema}", f"DROP TABLE IF EXISTS {relation}", create]
    for start in range(0, len(rows), batch):
        values = ", ".join("(" + ", ".join(literal_sql(row.get(c), t, dialect) for c, t in columns) + ")"
                           for row in rows[start:start + batch])
        out.append(f"INSERT INTO {relation} VALUES {values}")
    return out


def source_tables(sources: dict, data: dict[str, list[dict]]) -> list[tuple[str, list, list]]:
    """(relation, [(column, type)], rows) of every declared source; `data` is keyed by source name."""
    contacts = sources["contacts"]
    tables = [(contacts["relation"], [(contacts["key"], "key"), *contacts["columns"].items()],
               data.get("contacts", []))]
    for name, s in (sources.get("streams") or {}).items():
        columns = [(s["contact_key"], "key"), (s["timestamp"], "timestamp")]
        if s.get("event_type"):
            columns.append((s["event_type"], "string"))
        columns += [(c, t) for c, t in (s.get("columns") or {}).items() if c not in dict(columns)]
        tables.append((s["relation"], columns, data.get(name, [])))
    return tables


def normalize(value):
    """One cell as Python compares it across engines: Decimal -> float, arrays -> tuples."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return tuple(normalize(v) for v in value)
    return value


class Engine:
    """A warehouse reachable as a target of the generated profile."""

    name = ""       # the profile target
    dialect = ""    # the sqlglot dialect segc renders for it

    def env(self) -> dict[str, str]:
        return {}

    @contextlib.contextmanager
    def environment(self):
        """os.environ with this engine's variables (dbt reads them through the profile)."""
        saved = {k: os.environ.get(k) for k in self.env()}
        os.environ.update(self.env())
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def execute(self, statements: list[str]) -> None:
        raise NotImplementedError

    def query(self, sql: str) -> list[tuple]:
        return self.queries([sql])[0]

    def queries(self, sqls: list[str]) -> list[list[tuple]]:
        raise NotImplementedError

    def load(self, sources: dict, data: dict[str, list[dict]]) -> None:
        self.execute([s for rel, cols, rows in source_tables(sources, data)
                      for s in table_statements(self.dialect, rel, cols, rows)])


class DuckDBEngine(Engine):
    name = dialect = "duckdb"

    def __init__(self, path: Path):
        self.path = path

    def execute(self, statements):
        import duckdb

        with duckdb.connect(str(self.path)) as con:
            for s in statements:
                con.execute(s)

    def queries(self, sqls):
        import duckdb

        with duckdb.connect(str(self.path), read_only=True) as con:
            return [[tuple(normalize(v) for v in row) for row in con.execute(s).fetchall()] for s in sqls]


class PostgresEngine(Engine):
    name = dialect = "postgres"

    def __init__(self, port: int, dbname: str, host: str = "127.0.0.1", user: str = "postgres"):
        self.port, self.dbname, self.host, self.user = port, dbname, host, user

    def env(self):
        return {"SEGC_PG_HOST": self.host, "SEGC_PG_PORT": str(self.port), "SEGC_PG_USER": self.user,
                "SEGC_PG_PASSWORD": "", "SEGC_PG_DBNAME": self.dbname}

    def connect(self, dbname: str | None = None):
        import psycopg2

        con = psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=dbname or self.dbname)
        con.autocommit = True
        return con

    def create_database(self) -> None:
        con = self.connect("postgres")
        try:
            with con.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{self.dbname}"')
                cur.execute(f'CREATE DATABASE "{self.dbname}" ENCODING \'UTF8\' TEMPLATE template0')
        finally:
            con.close()

    def execute(self, statements):
        con = self.connect()
        try:
            with con.cursor() as cur:
                for s in statements:
                    cur.execute(s)
        finally:
            con.close()

    def queries(self, sqls):
        con = self.connect()
        try:
            out = []
            with con.cursor() as cur:
                for s in sqls:
                    cur.execute(s)
                    out.append([tuple(normalize(v) for v in row) for row in cur.fetchall()])
            return out
        finally:
            con.close()


def spark_conf(env: dict[str, str]) -> dict[str, str]:
    """The `spark` profile's server_side_parameters, rendered with `env` like dbt would."""
    import jinja2
    import yaml

    from compiler import scaffold

    params = yaml.safe_load(scaffold.PROFILES)["segc"]["outputs"]["spark"]["server_side_parameters"]
    render = jinja2.Environment().from_string
    return {k: render(str(v)).render(env_var=lambda name, default="": env.get(name, default))
            for k, v in params.items()}


class SparkEngine(Engine):
    """Spark through the profile's `spark` target; SQL outside dbt runs in a helper process.

    The Derby metastore admits one JVM at a time, so nothing here keeps a Spark session open
    between calls: each call is a short-lived `python tests/engines.py spark` process.
    """

    name = dialect = "spark"

    def __init__(self, folder: Path):
        self.folder = folder

    def env(self):
        return {"SEGC_SPARK_DIR": str(self.folder), "SEGC_SPARK_PARTITIONS": "2", "SPARK_LOCAL_IP": "127.0.0.1"}

    def _run(self, statements: list[str], queries: list[str]) -> list[list[tuple]]:
        env = dict(os.environ, **self.env(), TZ="UTC", PYSPARK_PYTHON=sys.executable)
        proc = subprocess.run([sys.executable, __file__, "spark"], input=json.dumps(
            {"statements": statements, "queries": queries}), capture_output=True, text=True, env=env,
            cwd=self.folder, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"spark helper failed:\n{proc.stderr[-4000:]}")
        return [[tuple(normalize(_decode(v)) for v in row) for row in rows] for rows in json.loads(
            proc.stdout.strip().splitlines()[-1])]

    def execute(self, statements):
        self._run(statements, [])

    def queries(self, sqls):
        return self._run([], sqls)


def _encode(value):
    if isinstance(value, datetime):
        return {"$ts": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value):
    if isinstance(value, dict) and "$ts" in value:
        return datetime.fromisoformat(value["$ts"])
    if isinstance(value, dict) and "$date" in value:
        return date.fromisoformat(value["$date"])
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    return value


def _spark_main() -> None:
    """The helper process: run statements, then queries, print the rows as one JSON line."""
    from pyspark.sql import SparkSession

    request = json.load(sys.stdin)
    builder = SparkSession.builder.master("local[2]").appName("segc-tests").enableHiveSupport()
    for key, value in spark_conf(dict(os.environ)).items():
        builder = builder.config(key, value)
    spark = builder.config("spark.sql.ansi.enabled", "false").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    for statement in request["statements"]:
        spark.sql(statement).collect()
    out = [[[_encode(v) for v in row] for row in spark.sql(q).collect()] for q in request["queries"]]
    spark.stop()
    print(json.dumps(out))


# -- servers ------------------------------------------------------------------------------------


class PostgresServer:
    """A PostgreSQL cluster started by .ci/postgres.sh in a temporary folder."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="segc-pg-"))  # not under pytest's 0700 tmp: initdb runs as postgres
        proc = subprocess.run(["bash", str(POSTGRES_SH), "start", str(self.folder)], capture_output=True, text=True,
                              timeout=180)
        if proc.returncode != 0:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise RuntimeError(proc.stderr.strip() or f"postgres.sh start exited {proc.returncode}")
        self.port = int(proc.stdout.split()[-1])

    def engine(self, dbname: str) -> PostgresEngine:
        engine = PostgresEngine(self.port, dbname)
        engine.create_database()
        return engine

    def stop(self) -> None:
        subprocess.run(["bash", str(POSTGRES_SH), "stop", str(self.folder)], capture_output=True, timeout=120)


def postgres_missing() -> str | None:
    """Why PostgreSQL tests cannot run here, or None."""
    if importlib.util.find_spec("dbt.adapters.postgres") is None or importlib.util.find_spec("psycopg2") is None:
        return "dbt-postgres is not installed (pip install -e '.[postgres]')"
    has_initdb = any(Path(p).is_dir() for p in Path("/usr/lib/postgresql").glob("*/bin")) or shutil.which("initdb")
    if not has_initdb:
        return "PostgreSQL is not installed (apt-get install postgresql, or run .ci/postgres.sh install)"
    return None


def spark_missing() -> str | None:
    """Why Spark tests cannot run here, or None."""
    if importlib.util.find_spec("dbt.adapters.spark") is None or importlib.util.find_spec("pyspark") is None:
        return "dbt-spark[session] is not installed (pip install -e '.[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java is not installed (Spark needs Java 17)"
    return None



# -- the cross-engine fixture ------------------------------------------------------------------
#
# One project that touches every operator, NULLs, window edges, calendar months, age, scores
# with decay and caps, lifecycles, RFM with ties, not_followed_by, references and a sync; and
# deterministic rows full of edge cases. Built at AS_OF_1, then at AS_OF_2 (rows between the two
# are already loaded: the future of the first build), on every engine.

AS_OF_1 = datetime(2026, 3, 31, 12, 0, 0)
AS_OF_2 = datetime(2026, 4, 1, 12, 0, 0)

FIXTURE_SOURCES = {
    "contacts": {"relation": "raw.contacts", "key": "contact_id", "columns": {
        "email": "string", "city": "string", "job_title": "string", "company_size": "integer",
        "revenue": "number", "opt_in": "boolean", "birth_date": "date", "created_at": "timestamp",
        "tags": "list"}},
    "streams": {
        "events": {"relation": "raw.events", "contact_key": "contact_id", "timestamp": "occurred_at",
                   "event_type": "event_type", "columns": {"url": "string", "campaign": "string", "value": "number"}},
        "orders": {"relation": "raw.orders", "contact_key": "contact_id", "timestamp": "ordered_at",
                   "columns": {"order_id": "string", "amount": "number", "status": "string"}},
    },
}


def _seg(name, rule, **extra):
    return {"name": name, "description": f"cross-engine fixture: {name}", "owner": "tests", "rule": rule, **extra}


FIXTURE_DEFINITIONS = {
    "segments": [
        _seg("op_eq", {"attribute": "city", "eq": "Kraków"}, tags=["attr"]),
        _seg("op_ne", {"attribute": "city", "ne": "Kraków"}),
        _seg("op_in", {"attribute": "city", "in": ["Kraków", "Łódź"]}),
        _seg("op_not_in", {"attribute": "city", "not_in": ["Kraków", "Łódź"]}),
        _seg("op_int_range", {"attribute": "company_size", "gt": 10, "lte": 250}),
        _seg("op_number_range", {"attribute": "revenue", "gte": 1000.5, "lt": 1000000}),
        _seg("op_between_date", {"attribute": "birth_date", "between": [date(1980, 1, 1), date(1990, 12, 31)]}),
        _seg("op_between_string", {"attribute": "city", "between": ["A", "M"]}),
        _seg("op_contains", {"attribute": "email", "contains": "_x"}),
        _seg("op_icontains", {"attribute": "city", "icontains": "ŁÓDŹ"}),
        _seg("op_starts_ends", {"all": [{"attribute": "email", "starts_with": "a"},
                                        {"attribute": "email", "ends_with": "@firma.pl"}]}),
        _seg("op_ends_with_percent", {"attribute": "email", "ends_with": "%.pl"}),
        _seg("op_matches", {"attribute": "job_title", "matches": "^(CEO|Owner)$|[Cc]TO"}),
        _seg("op_is_null", {"attribute": "email", "is_null": True}),
        _seg("op_not_null", {"attribute": "email", "is_null": False}),
        _seg("op_has", {"attribute": "tags", "has": "vip"}),
        _seg("op_has_any", {"attribute": "tags", "has_any": ["vip", "b2b"]}),
        _seg("op_has_all", {"attribute": "tags", "has_all": ["vip", "b2b"]}),
        _seg("op_within_month", {"attribute": "created_at", "within": "1mo"}),
        _seg("op_older_than_date", {"attribute": "birth_date", "older_than": "18y"}),
        _seg("op_within_date", {"attribute": "birth_date", "within": "40y"}),
        _seg("op_age", {"attribute": "birth_date", "age": {"gte": 30, "lt": 40}}),
        _seg("op_age_26", {"attribute": "birth_date", "age": {"eq": 26}}),
        _seg("op_bool", {"attribute": "opt_in", "eq": True}),
        _seg("op_bool_ne", {"attribute": "opt_in", "ne": True}),
        _seg("op_not", {"not": {"any": [{"attribute": "city", "eq": "Kraków"}, {"attribute": "opt_in", "eq": False}]}}),
        _seg("ev_24h", {"event": "page_view", "within": "24h"}),
        _seg("ev_month", {"event": "page_view", "within": "1mo"}),
        _seg("ev_count", {"event": "page_view", "within": "30d", "count": {"gte": 3, "lte": 20}}),
        _seg("ev_url_percent", {"event": "page_view", "where": {"url": {"contains": "%"}}}),
        _seg("ev_distinct", {"event": "email_open", "distinct": {"of": "campaign", "gte": 2}}),
        _seg("ev_sum", {"stream": "orders", "where": {"status": {"eq": "paid"}}, "sum": {"of": "amount", "gte": 100}}),
        _seg("ev_sum_zero", {"stream": "orders", "sum": {"of": "amount", "lt": 1}}),
        _seg("ev_avg", {"event": "purchase", "avg": {"of": "value", "gt": 50}}),
        _seg("ev_min_max", {"all": [{"event": "purchase", "min": {"of": "value", "lt": 20}},
                                    {"event": "purchase", "max": {"of": "value", "gte": 90}}]}),
        _seg("ev_first", {"event": "email_open", "first": {"older_than": "30d"}}),
        _seg("ev_last", {"stream": "orders", "last": {"within": "1mo"}}),
        _seg("ev_where_time", {"event": "page_view", "where": {"occurred_at": {"older_than": "1w"},
                                                                "url": {"starts_with": "/tv"}}}),
        _seg("ev_matches", {"event": "page_view", "where": {"url": {"matches": "^/tv/[a-z]+$"}}, "within": "90d"}),
        _seg("ev_nfb", {"event": "add_to_cart", "within": "7d",
                        "not_followed_by": {"event": "purchase", "within": "48h"}}),
        _seg("ev_nfb_orders", {"event": "add_to_cart", "not_followed_by": {"stream": "orders"}}),
        _seg("ev_none", {"not": {"event": "unsubscribe"}}),
        _seg("ref_all", {"all": [{"segment": "op_not_null"}, {"score": "lead", "grade": ["hot", "warm"]}]}),
        _seg("ref_stage", {"lifecycle": "journey", "stage": ["loyal", "customer"]}),
        _seg("ref_rfm", {"any": [{"rfm": "value_rfm", "segment": "top"},
                                 {"rfm": "value_rfm", "r": {"gte": 2}, "f": {"gte": 2}, "m": {"ne": 1}}]}),
        _seg("ref_score", {"score": "fit", "gte": 5}, examples=[
            {"name": "two_purchases", "contact": {"tags": ["vip"], "city": "Łódź"},
             "events": [{"event_type": "purchase", "value": 10.5, "ago": "2d"},
                        {"event_type": "purchase", "ago": "1h"}], "expect": "member"},
            {"name": "one_purchase", "events": [{"event_type": "purchase", "ago": "2d"}], "expect": "not_member"},
        ]),
    ],
    "scores": [
        {"name": "lead", "rules": [
            {"points": 5, "when": {"event": "email_open", "within": "90d"}, "per_event": True, "cap": 20},
            {"points": 10, "when": {"event": "page_view", "where": {"url": {"contains": "/pricing"}}},
             "per_event": True},
            {"points": 15, "when": {"attribute": "job_title", "in": ["CEO", "Owner"]}},
            {"points": -30, "when": {"event": "unsubscribe"}},
            {"points": -7.5, "when": {"stream": "orders", "where": {"status": {"eq": "cancelled"}}},
             "per_event": True, "cap": 15}],
         "decay": {"half_life": "14d"}, "min": 0, "max": 100,
         "grades": [{"name": "hot", "gte": 30}, {"name": "warm", "gte": 10}, {"name": "cold"}]},
        {"name": "fit", "rules": [
            {"points": 2.5, "when": {"event": "purchase"}, "per_event": True},
            {"points": 1, "when": {"attribute": "company_size", "gte": 50}}],
         "grades": [{"name": "good", "gte": 5, "lt": 100}]},
    ],
    "lifecycles": [
        {"name": "journey", "stages": [
            {"name": "loyal", "when": {"stream": "orders", "within": "1y", "count": {"gte": 3}}},
            {"name": "customer", "when": {"stream": "orders"}},
            {"name": "engaged", "when": {"score": "lead", "gte": 10}},
            {"name": "visitor", "when": {"event": "page_view", "within": "30d"}}],
         "default": "prospect"},
    ],
    "rfm": [
        {"name": "value_rfm", "stream": "orders", "where": {"status": {"ne": "cancelled"}}, "monetary": "amount",
         "within": "1y", "bins": 3, "segments": [{"name": "top", "r": [3, 3], "f": [2, 3]},
                                                 {"name": "mid", "r": [2, 3]}, {"name": "rest"}]},
    ],
    "syncs": [
        {"name": "crm", "segment": "ev_month", "destination": "mailchimp", "identifier": "email", "fields": ["city"]},
    ],
}

CITIES = ["Kraków", "KRAKÓW", "Łódź", "łódź", "Warszawa", "Gdańsk", "Bydgoszcz", "Ełk", None]
TITLES = ["CEO", "Owner", "CTO", "cto", "Co-Owner", "Engineer", None]
TAGS = [None, [], ["vip"], ["b2b"], ["vip", "b2b"], ["b2b", "vip", "other"], ["other"], ["vip", None]]
EVENT_TYPES = ["page_view", "page_view", "page_view", "email_open", "add_to_cart", "purchase", "unsubscribe"]
URLS = ["/", "/pricing", "/tv/oled", "/tv/OLED", "/tv/qled/65", "/a%20b", "/blog_x", None]


def fixture_data() -> dict[str, list[dict]]:
    """Deterministic rows: hand-placed edge cases, then a seeded random population."""
    t = AS_OF_1
    s = timedelta(seconds=1)
    contacts = [
        # calendar month edge: as_of − 1mo = 2026-02-28 12:00 (the 31st clamps to February's end)
        dict(contact_id=1, email="a_x@firma.pl", city="Kraków", created_at=datetime(2026, 2, 28, 12), opt_in=True,
             birth_date=date(1996, 3, 31), tags=["vip", "b2b"], job_title="CEO", company_size=250, revenue=1000.5),
        dict(contact_id=2, email="b@firma.pl", city="Łódź", created_at=datetime(2026, 2, 28, 12) + s,
             birth_date=date(1996, 4, 1), tags=["vip"], job_title="CTO", company_size=10, revenue=1000.49),
        dict(contact_id=3, email=None, city=None, created_at=None, birth_date=None, tags=None, opt_in=None),
        dict(contact_id=4, email="ann%.pl", city="łódź", birth_date=date(2000, 2, 29), opt_in=False, tags=[],
             created_at=datetime(2026, 3, 31, 12), company_size=11, revenue=999999.99),
        dict(contact_id=5, email="A@FIRMA.PL", city="KRAKÓW", birth_date=date(1986, 3, 31), job_title="Owner",
             created_at=datetime(2026, 3, 31, 12) + s, tags=["vip", None]),
        dict(contact_id=6, email="c_x@gmail.com", city="Ełk", birth_date=date(1980, 1, 1), company_size=0),
        dict(contact_id=7, email="d@example.org", city="Warszawa", birth_date=date(2008, 3, 31),
             job_title="Co-Owner", company_size=5000, opt_in=True),
    ]
    events = [
        # 24h window edges around as_of 2026-03-31 12:00
        dict(contact_id=1, occurred_at=t - timedelta(hours=24), event_type="page_view", url="/"),
        dict(contact_id=2, occurred_at=t - timedelta(hours=24) + s, event_type="page_view", url="/pricing"),
        dict(contact_id=3, occurred_at=t, event_type="page_view", url="/tv/oled"),
        dict(contact_id=4, occurred_at=t + s, event_type="page_view", url="/tv/oled"),
        # calendar month edges for events
        dict(contact_id=5, occurred_at=datetime(2026, 2, 28, 12), event_type="page_view", url="/a%20b"),
        dict(contact_id=6, occurred_at=datetime(2026, 2, 28, 12) + s, event_type="page_view", url="/tv/qled/65"),
        # not_followed_by: cart, purchase 47h59m later (followed) / 48h later (followed) / 48h+1s (not)
        dict(contact_id=1, occurred_at=t - timedelta(days=5), event_type="add_to_cart"),
        dict(contact_id=1, occurred_at=t - timedelta(days=3) - s, event_type="purchase", value=95.0),
        dict(contact_id=2, occurred_at=t - timedelta(days=5), event_type="add_to_cart"),
        dict(contact_id=2, occurred_at=t - timedelta(days=3), event_type="purchase", value=10.25),
        dict(contact_id=6, occurred_at=t - timedelta(days=5), event_type="add_to_cart"),
        dict(contact_id=6, occurred_at=t - timedelta(days=3) + s, event_type="purchase", value=None),
        # fractional seconds: decay must use them (Spark's UNIX_TIMESTAMP would drop them)
        dict(contact_id=5, occurred_at=t - timedelta(days=1, microseconds=250_000), event_type="email_open",
             campaign="spring"),
        dict(contact_id=5, occurred_at=t - timedelta(days=40, seconds=0.5), event_type="email_open", campaign="winter"),
        dict(contact_id=4, occurred_at=t - timedelta(days=2, microseconds=1), event_type="page_view", url="/pricing"),
        # rows that never count
        dict(contact_id=None, occurred_at=t - timedelta(days=1), event_type="page_view", url="/"),
        dict(contact_id=7, occurred_at=None, event_type="page_view", url="/"),
        dict(contact_id=999, occurred_at=t - timedelta(days=1), event_type="page_view", url="/"),
        dict(contact_id=7, occurred_at=t + timedelta(days=400), event_type="unsubscribe"),
    ]
    orders = [
        dict(contact_id=1, ordered_at=t - timedelta(days=10), order_id="o1", amount=50.0, status="paid"),
        dict(contact_id=1, ordered_at=t - timedelta(days=20), order_id="o2", amount=None, status="paid"),
        dict(contact_id=1, ordered_at=t - timedelta(days=400), order_id="o3", amount=70.0, status="paid"),
        dict(contact_id=2, ordered_at=t - timedelta(days=10), order_id="o4", amount=50.0, status="cancelled"),
        dict(contact_id=4, ordered_at=datetime(2026, 2, 28, 12), order_id="o5", amount=0.5, status="paid"),
        dict(contact_id=6, ordered_at=datetime(2026, 2, 28, 12) + s, order_id="o6", amount=120.0, status="paid"),
        dict(contact_id=None, ordered_at=t - timedelta(days=1), order_id="o7", amount=1.0, status="paid"),
    ]
    rng = random.Random(20260331)
    for cid in range(10, 70):
        contacts.append(dict(
            contact_id=cid, email=rng.choice([None, f"u{cid}@firma.pl", f"u_{cid}@x.com", f"a{cid}@firma.pl"]),
            city=rng.choice(CITIES), job_title=rng.choice(TITLES), company_size=rng.choice([None, 1, 10, 11, 50, 250, 251]),
            revenue=rng.choice([None, 0.0, 1000.5, 1000.49, 1e6, 12345.678]), opt_in=rng.choice([None, True, False]),
            birth_date=rng.choice([None, date(1996, 3, 31), date(1996, 4, 1), date(1986, 4, 1), date(1990, 12, 31),
                                   date(2000, 2, 29), date(1979, 12, 31)]),
            created_at=rng.choice([None, datetime(2026, 2, 28, 12), t - timedelta(days=rng.randint(0, 400))]),
            tags=rng.choice(TAGS)))
        for _ in range(rng.randint(0, 30)):
            at = t - timedelta(seconds=rng.randint(-2 * 86400, 100 * 86400), microseconds=rng.choice([0, 0, 500_000]))
            kind = rng.choice(EVENT_TYPES)
            events.append(dict(contact_id=cid, occurred_at=at, event_type=kind,
                               url=rng.choice(URLS) if kind == "page_view" else None,
                               campaign=rng.choice([None, "spring", "winter", "sale"]) if kind == "email_open" else None,
                               value=rng.choice([None, 5.0, 19.99, 50.0, 90.0, 120.5]) if kind == "purchase" else None))
        for n in range(rng.choice([0, 0, 1, 1, 2, 3, 4])):
            orders.append(dict(contact_id=cid, ordered_at=t - timedelta(days=rng.choice([0, 1, 5, 10, 30, 200, 500]),
                                                                        hours=rng.randint(-30, 12)),
                               order_id=f"r{cid}-{n}", amount=rng.choice([None, 10.0, 25.5, 50.0, 100.0]),
                               status=rng.choice(["paid", "paid", "cancelled", None])))
    return {"contacts": contacts, "events": events, "orders": orders}


PUBLISHED = ("segment_membership", "contact_scores", "contact_lifecycle", "contact_rfm", "segment_membership_changes",
             "segment_membership_history", "segment_summary", "segment_catalog", "sync_crm", "sync_crm_changes")


def write_project(root: Path, sources: dict, definitions: dict, settings: dict | None = None) -> None:
    """A segc project in `root` (segments/ as YAML, the repository's macros/)."""
    import yaml

    (root / "segments").mkdir(parents=True, exist_ok=True)
    head = {"version": 1, "sources": sources}
    if settings:
        head["settings"] = settings
    (root / "segments" / "sources.yml").write_text(yaml.safe_dump(head, sort_keys=False, allow_unicode=True))
    (root / "segments" / "definitions.yml").write_text(
        yaml.safe_dump(definitions, sort_keys=False, allow_unicode=True))
    shutil.copytree(ROOT / "macros", root / "macros", dirs_exist_ok=True)


# -- pytest fixtures (import them into a test module to use them) ----------------------------------

try:
    import pytest
except ImportError:  # the `spark` helper process does not need pytest
    pytest = None

if pytest is not None:
    @pytest.fixture(scope="session")
    def postgres_server():
        """A PostgreSQL server for the whole session, or a skip (a failure in CI) saying why not."""
        reason = postgres_missing()
        if reason:
            unavailable(reason)
        try:
            server = PostgresServer()
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            unavailable(f"PostgreSQL did not start: {exc}")
        yield server
        server.stop()

    @pytest.fixture(scope="session")
    def spark_available():
        reason = spark_missing()
        if reason:
            unavailable(reason)
        return True


if __name__ == "__main__" and sys.argv[1:] == ["spark"]:
    sys.path.insert(0, str(ROOT))
    _spark_main()
