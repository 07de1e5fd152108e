# The quick start: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Emailed links follow the address the quick start serves on (make run PORT=8123).
SITE_URL ?= http://$(HOST):$(PORT)
export SITE_URL

.PHONY: install install-test run serve test test-postgres test-sqlite lint format chromium pgbouncer pg-auto-failover screens bench

# What the application needs to run (make run, make serve): no test tool.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

# The test tools (the "test" extra: pytest, Playwright, ruff, mypy, ...), for make test, lint, format,
# screens and bench.
$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

install-test: install $(VENV)/.installed-test

# The outbox worker sends the emails and webhooks in the background; scripts/supervise.py starts it again if
# it dies, and the trap stops both when the server exits.
WORKER = $(BIN)/python scripts/supervise.py -- $(BIN)/python manage.py run_worker
# The quick start makes its own secret key under var/ and leaves two-factor authentication optional for
# administrators (production requires it: REQUIRE_2FA_FOR_ADMINS, see README).
QUICK_START_ENV = SECRET_KEY="$${SECRET_KEY:-$$(cat var/secret_key)}" REQUIRE_2FA_FOR_ADMINS=$${REQUIRE_2FA_FOR_ADMINS:-false} \
	AUDIT_SIGNING_KEY="$${AUDIT_SIGNING_KEY:-$$(cat var/audit_signing_key)}"

var/secret_key:
	mkdir -p var
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	chmod 600 $@

# The audit log's Ed25519 signing key (base64 of 32 random bytes; docs/audit.md).
var/audit_signing_key:
	mkdir -p var
	$(PYTHON) -c "import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())" > $@
	chmod 600 $@

# The demo logins come last, once the server listens (seed_demo --logins-when-up); the e-mails the seed
# sends are kept under var/mail/, not printed.
run: install var/secret_key var/audit_signing_key
	@echo "Emailed links point to $(SITE_URL)"
	mkdir -p var/mail
	export $(QUICK_START_ENV); \
	$(BIN)/python manage.py migrate --noinput && \
	$(BIN)/python manage.py seed_demo --no-logins && \
	{ $(WORKER) & worker=$$!; \
	  $(BIN)/python manage.py seed_demo --logins-when-up $(HOST):$(PORT) & logins=$$!; \
	  trap 'kill $$worker $$logins 2>/dev/null' EXIT INT TERM; $(BIN)/python manage.py runserver $(HOST):$(PORT); }

# Production serving on this machine: migrations, static files collected under hashed names (served by
# WhiteNoise with far-future caching), gunicorn with 2 × cores + 1 workers of pooled connections, and the
# worker beside it. Set SECRET_KEY, DATABASE_URL, SITE_URL, ALLOWED_HOSTS (see README, Deploying).
ACCESS_LOG_FORMAT = {"time": "%(t)s", "remote": "%(h)s", "request": "%(r)s", "status": %(s)s, "bytes": %(B)s, "duration_us": %(D)s, "request_id": "%({x-request-id}o)s"}
WEB_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 + 1 )))
serve: install
	export STATIC_MANIFEST=true; \
	$(BIN)/python manage.py migrate --noinput && \
	$(BIN)/python manage.py collectstatic --noinput -v0 && \
	{ $(WORKER) & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/gunicorn config.wsgi --workers $(WEB_WORKERS) --bind $(HOST):$(PORT) --access-logfile - \
	    --access-logformat '$(ACCESS_LOG_FORMAT)' \
	    --forwarded-allow-ips "$${TRUSTED_PROXIES:-127.0.0.1}" --graceful-timeout 30 --timeout 60; }

# Debian's Chromium drives the browser tests (Playwright never downloads a browser of its own).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Debian's PgBouncer for the transaction-mode test (medbook/core/tests/test_pgbouncer_postgres.py starts its own).
pgbouncer:
	@command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq pgbouncer >/dev/null; }

# Debian's pg_auto_failover for the failover test (medbook/core/tests/test_failover_postgres.py starts its own
# monitor, primary and secondary). The extension follows the machine's PostgreSQL major version.
pg-auto-failover:
	@command -v pg_autoctl >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  major=$$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    postgresql-$${major:-15}-auto-failover pg-auto-failover-cli >/dev/null; }

# ruff, the import ladder (import-linter, [tool.importlinter] in pyproject.toml) and mypy with django-stubs.
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# With DATABASE_URL set the suite runs on that PostgreSQL first, then on SQLite; without it, on SQLite alone.
# On each engine: the suite in TEST_WORKERS pytest-xdist workers, each with a test database of its own
# (test_<name>_gw0, var/test.sqlite3_gw0, ...; --dist loadgroup keeps an xdist_group on one worker), then the
# tests marked serial alone (pytest's 5, none selected, is no failure there). The first failure stops it.
TEST_WORKERS ?= 2
SUITE = $(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup -m "not serial" || exit $$?; \
	$(BIN)/pytest -m serial; status=$$?; [ $$status -eq 5 ] || [ $$status -eq 0 ] || exit $$status
test: install-test chromium pgbouncer pg-auto-failover lint
	@if [ -n "$$DATABASE_URL" ]; then \
	  echo "=== test suite on PostgreSQL ($$DATABASE_URL)"; \
	  $(SUITE); \
	fi
	@echo "=== test suite on SQLite"
	unset DATABASE_URL; $(SUITE)

# Screenshots of Book to partner and the reception calendar (1366 px and 375 px) from the demo data.
screens: install-test chromium
	$(BIN)/python scripts/screens.py

# The benchmarks of issue 13 (bench/run.py): the generated database (bench/generate.py) at BENCH_SCALE, made
# again only when it does not hold that scale yet (or BENCH_REGENERATE=1), then every measure against the
# production server; the table is printed and written to bench/results/<scale>-<date>.md.
BENCH_SCALE ?= small
BENCH_DATABASE ?= medbook_bench
bench: install-test
	@if [ -n "$(BENCH_REGENERATE)" ] || ! $(BIN)/python bench/run.py --database $(BENCH_DATABASE) --has-scale $(BENCH_SCALE); then \
	  $(BIN)/python bench/generate.py --scale $(BENCH_SCALE) --database $(BENCH_DATABASE) && \
	  $(BIN)/python bench/run.py --database $(BENCH_DATABASE) --mark-scale $(BENCH_SCALE); \
	fi
	$(BIN)/python bench/run.py --scale $(BENCH_SCALE) --database $(BENCH_DATABASE)
