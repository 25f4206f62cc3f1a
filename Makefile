# Two commands on a fresh machine: `make demo` and `make test`. Both set up .venv from uv.lock.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: demo test ui bench docs setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check "uv>=0.5,<1"
	$(PYTHON) -m uv sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/crm demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest

ui: $(STAMP)
	mkdir -p crm_home/dagster
	DAGSTER_HOME=$(CURDIR)/crm_home/dagster CRM_HOME=$(CURDIR)/crm_home \
		$(VENV)/bin/dagster dev -m dagster_defs.definitions -h 127.0.0.1 -p 3000

bench: $(STAMP)
	$(PYTHON) -m uv sync --frozen --compile-bytecode --group bench --python $(PYTHON)
	$(VENV)/bin/python bench/run_all.py

docs: $(STAMP)
	$(VENV)/bin/python -m crm_pipeline.cli.docs

clean:
	rm -rf crm_home
