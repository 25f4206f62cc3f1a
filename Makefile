# Two commands on a fresh machine: `make demo` and `make test`. Both set up .venv from uv.lock.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: demo test browser ui bench docs setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check "uv>=0.5,<1"
	$(PYTHON) -m uv sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/crm demo

test: $(STAMP) browser
	$(VENV)/bin/python -m pytest

# The browser tests drive Debian's chromium (Playwright's own browser download is not reachable):
# installed when missing, as root or with password-less sudo; otherwise those tests are skipped.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
		sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else echo "chromium is missing and cannot be installed here: the browser tests will be skipped"; fi

# The Dagster UI for ./crm_home on http://127.0.0.1:3000; Ctrl-C stops it and every process it
# started (dagster_defs/ui.py).
ui: $(STAMP)
	$(VENV)/bin/python -m dagster_defs.ui --home $(CURDIR)/crm_home --host 127.0.0.1 --port 3000

bench: $(STAMP)
	$(PYTHON) -m uv sync --frozen --compile-bytecode --group bench --python $(PYTHON)
	$(VENV)/bin/python bench/run_all.py

docs: $(STAMP)
	$(VENV)/bin/python -m crm_pipeline.cli.docs

clean:
	rm -rf crm_home
