"""segc: marketing segments as YAML, compiled by sqlglot into a dbt project."""

__version__ = "0.1.0"
