import sys
from pathlib import Path

FIRST = ("test_engines.py", "test_timezone.py")  # the Spark modules: minutes each, started first

sys.path.insert(0, str(Path(__file__).parent))


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs a PostgreSQL server (started by .ci/postgres.sh) and "
                                       "dbt-postgres; skipped when absent, failed when absent in CI")
    config.addinivalue_line("markers", "spark: needs dbt-spark[session], pyspark and Java 17; skipped when "
                                       "absent, failed when absent in CI (deselect with -m 'not spark')")


def pytest_collection_modifyitems(items):
    """Start the slowest modules first, so that parallel workers (pytest-xdist) finish together."""
    items.sort(key=lambda item: item.path.name not in FIRST)
