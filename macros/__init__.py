"""segc's dbt macros (the .sql files beside this one), installed as compiler.macros."""
