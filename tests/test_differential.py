"""Differential test: random data and random definitions, warehouse result == reference evaluator."""

from __future__ import annotations

import duckdb
from hypothesis import HealthCheck, given, settings

from harness import assert_same, compile_project, direct_membership, load_tables, warehouse_result
from reference import evaluate
from strategies import AS_OF, SCHEMA, SOURCES, datasets, projects, shared_filter_projects

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def assert_plan_matches_reference(project, data):
    compiled = compile_project(project, SOURCES)
    with duckdb.connect() as con:
        load_tables(con, SOURCES, data)
        assert_same(evaluate(project, SCHEMA, data, AS_OF), warehouse_result(con, compiled, AS_OF))


@SETTINGS
@given(project=projects(), data=datasets())
def test_shared_plan_matches_reference(project, data):
    assert_plan_matches_reference(project, data)


@SETTINGS
@given(project=shared_filter_projects(), data=datasets())
def test_one_filter_in_many_windows_matches_reference(project, data):
    assert_plan_matches_reference(project, data)


@SETTINGS
@given(project=projects(), data=datasets())
def test_direct_translation_matches_reference(project, data):
    """The rule tests inside dbt are only as good as the direct translation they recompute with."""
    compiled = compile_project(project, SOURCES)
    with duckdb.connect() as con:
        load_tables(con, SOURCES, data)
        assert direct_membership(con, compiled, AS_OF) == evaluate(project, SCHEMA, data, AS_OF).membership
