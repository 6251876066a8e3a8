# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test fuzz lint fmt migrate demo worker feed-worker beat clean messages prod-check \
	bench-preview

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo

# Serve on http://127.0.0.1:8000 with demo data (the embedded PostgreSQL in var/postgres/ and
# eager Celery unless DATABASE_URL / REDIS_URL are set).
run: demo
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

# On DATABASE_URL when set, else the embedded PostgreSQL (dutyfree/embedded_db.py); in
# TEST_WORKERS processes (pytest-xdist; 0: in this one), each with its own test database and
# Redis database. Work-stealing: a worker that runs dry takes tests queued for the other, so
# the slow tests at the end do not all wait on one.
TEST_WORKERS ?= 2
test: install
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# Contract fuzzing only: Schemathesis over every operation of /api/schema/ (tests/fuzz), with
# more examples per operation than `make test` runs (25). FUZZ_SEED=random explores beyond the
# fixed seed; the summary prints the seed to replay a failure with.
FUZZ_EXAMPLES ?= 200
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SUMMARY=1 $(PY) -m pytest tests/fuzz -q $(PYTEST_ARGS)

# The production recipe's front door, for real (needs nginx and openssl): gunicorn behind nginx
# on loopback ports with production settings — the proxy tests (tests/test_proxy.py), then a
# longer run of slow clients with and without nginx, recorded in bench/results/slow_clients.json.
prod-check: install
	REQUIRE_SERVICES=1 $(PY) -m pytest tests/test_proxy.py -q -s $(PYTEST_ARGS)
	$(PY) bench/slow_clients.py

# A policy preview of 1,000,000 recorded sale lines (90 days, 150,000 shoppers) in a database of
# its own on BENCH_SERVER (default 127.0.0.1:5432), seeded once and kept (dutyfree_bench_preview):
# seconds, lines/s and RSS, in bench/results/policy_preview.json. BENCH_ARGS: e.g. --reseed.
bench-preview: install
	$(PY) bench/preview_bench.py $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

fmt: install
	$(VENV)/bin/ruff check --fix .

# Extract and compile the zh-hans catalogue (needs GNU gettext); the .po and .mo are committed.
messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=staticfiles --ignore=bench --ignore=tests
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

worker: install
	$(VENV)/bin/celery -A dutyfree worker --loglevel=info

# The event feed's deliveries (queue "feed"): threads, so that receivers that hang to their 10 s
# timeout hold threads, not the worker above.
FEED_THREADS ?= 16
feed-worker: install
	$(VENV)/bin/celery -A dutyfree worker -Q feed --pool threads --concurrency $(FEED_THREADS) -n feed@%h --loglevel=info

beat: install
	$(VENV)/bin/celery -A dutyfree beat --loglevel=info

clean:
	rm -rf $(VENV) staticfiles
