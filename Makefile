# One command to set up and serve, one to test. Everything installs into .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test setup browser lint

serve: $(STAMP)  ## set up, build the index of the shipped corpus if missing, serve on FAQ_HOST:FAQ_PORT
	$(BIN)/faq serve

test: $(STAMP) browser  ## the full test suite (what CI runs)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU build of torch first (pinned; an unpinned torch pulls GBs of CUDA), then the project.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[use,st,dev,milvus,ray]'
	touch $(STAMP)

browser:  ## Debian's chromium for the browser tests (skipped by the tests when absent)
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) || \
		echo "chromium not installed: browser tests will be skipped"; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
