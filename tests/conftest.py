import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs a PostgreSQL server (started by .ci/postgres.sh) and "
                                       "dbt-postgres; skipped when absent, failed when absent in CI")
    config.addinivalue_line("markers", "spark: needs dbt-spark[session], pyspark and Java 17; skipped when "
                                       "absent, failed when absent in CI (deselect with -m 'not spark')")
