# zhongtai: two commands on a fresh machine.
#   make demo   build the environment if missing, then run the platform on the embedded default
#   make test   build the environment if missing, then run the whole test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.8
DEMO_APPLICANTS ?= 30000

export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: venv servers demo test lint bench bench-any-day bench-world airflow lock clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

# Real servers for the tests that need one (the Redis online store), as Debian packages.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
servers:
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "installing redis-server (apt-get)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
			redis-server >/dev/null; }

demo: $(STAMP)
	$(BIN)/zhongtai demo --applicants $(DEMO_APPLICANTS)

test: $(STAMP) servers
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests dags bench feature_repo
	$(BIN)/ruff format --check src tests dags bench feature_repo
	$(BIN)/mypy

# 1,000,000 applicants for the pipeline figures; 50,000 materialised for online and
# decision latency.
BENCH_DIR ?= var/bench
bench: $(STAMP) servers
	$(BIN)/python -m bench.landing
	$(BIN)/python -m bench.adversarial
	$(BIN)/python -m bench.warehouse --data-dir $(BENCH_DIR)/1m
	$(BIN)/python -m bench.graph_lift --data-dir $(BENCH_DIR)/1m
	ZHONGTAI_DATA_DIR=$(BENCH_DIR)/1m ZHONGTAI_ENV=test \
		$(BIN)/zhongtai features build --no-materialize
	$(BIN)/python -m bench.training_set --data-dir $(BENCH_DIR)/1m
	$(BIN)/python -m bench.german_credit --data-dir $(BENCH_DIR)/1m
	ZHONGTAI_DATA_DIR=$(BENCH_DIR)/50k ZHONGTAI_ENV=test $(MAKE) bench-world APPLICANTS=50000
	$(BIN)/python -m bench.online_latency --data-dir $(BENCH_DIR)/50k
	$(BIN)/python -m bench.decision_latency --data-dir $(BENCH_DIR)/50k

# make test and make demo with the clock shifted (Debian's faketime), as users on other days.
ANY_DAY_OFFSETS ?= 0 103 211 317
bench-any-day: $(STAMP) servers
	@command -v faketime >/dev/null 2>&1 || { \
		echo "installing faketime (apt-get)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
			faketime >/dev/null; }
	$(BIN)/python -m bench.any_day $(foreach d,$(ANY_DAY_OFFSETS),--offset $(d)) \
		--what demo --what test

bench-world:
	$(BIN)/zhongtai generate --applicants $(APPLICANTS)
	$(BIN)/zhongtai land
	$(BIN)/zhongtai warehouse build
	$(BIN)/zhongtai features build --no-materialize

# The Airflow UI on http://localhost:8080 (credentials are printed at start-up). DAGs start
# paused: unpause them in the UI or with `zhongtai airflow dags unpause DAG_ID`.
airflow: $(STAMP)
	$(BIN)/zhongtai airflow standalone

# Re-resolve the pinned lock after editing pyproject.toml.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--no-header --no-annotate -o requirements.lock

clean:
	rm -rf var
