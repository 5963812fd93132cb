VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test install clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/segc demo

test: install
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) warehouse.duckdb dbt_project/target dbt_project/logs
