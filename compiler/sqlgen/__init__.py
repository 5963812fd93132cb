"""IR -> sqlglot expressions. The only place SQL is built.

Generated trees name the evaluation instant, dbt sources and dbt models with placeholders
(`AS_OF`, `source_table`, `ref_table`); `relations.render_dbt` binds them for dbt (Jinja),
`relations.render_plain` for a plain query against the declared relations.
"""
