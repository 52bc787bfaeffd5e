# Round Table: `make run` to try it, `make test` to run the whole suite, `make dev` to work on it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The embedded default keeps its database, mail folder, broker folder, cache, static files and secret key
# under var/ (`make run VAR=/tmp/rt PORT=8001` runs a second copy beside the first).
VAR ?= var
PORT ?= 8000
EMBEDDED = VAR_DIR=$(abspath $(VAR)) SITE_URL=http://127.0.0.1:$(PORT)
# `make run` shows the product as people will meet it: debug mode off, so its own translated error pages
# and no stack traces, static files served by WhiteNoise as in production; but plain HTTP on this
# machine, so none of the HTTPS-only cookies and redirects of a production server.
PRODUCT = DEBUG=false SECRET_KEY="$$(cat $(VAR)/secret_key)" ALLOWED_HOSTS=127.0.0.1,localhost \
	SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false SECURE_HSTS_SECONDS=0

.PHONY: run dev test install install-dev migrate demo lint format typecheck messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-build.txt
	$(BIN)/pip install --quiet -r requirements-build.txt
	$(BIN)/pip install --quiet --no-build-isolation -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet --no-build-isolation -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(EMBEDDED) $(BIN)/python manage.py migrate --noinput

demo: migrate
	$(EMBEDDED) $(BIN)/python manage.py seed_demo

# Made once and kept: sessions and emailed links stay valid from one `make run` to the next.
$(VAR)/secret_key: | $(BIN)/python
	@mkdir -p $(VAR)
	@umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > $@

# Serves at http://127.0.0.1:$(PORT) with a Celery worker (and its beat) on a folder broker next to it,
# so emails really go through the background delivery path; both stop together on Ctrl-C.
define serve
	@echo "Emails are written to $(VAR)/mail/ and listed at http://127.0.0.1:$(PORT)/outbox/"
	@trap 'kill 0' INT TERM EXIT; \
	$(1) $(BIN)/celery -A roundtable worker --beat --pool=solo --loglevel=WARNING & \
	$(1) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)
endef

run: demo $(VAR)/secret_key
	@$(EMBEDDED) $(PRODUCT) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(call serve,$(EMBEDDED) $(PRODUCT))

# For developers: debug mode on (Django's technical error pages, static files straight from the sources).
dev: demo
	$(call serve,$(EMBEDDED) DEBUG=true)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every page under load against a bare signed-in page, on PostgreSQL and Redis (README, "Benchmark"):
# writes bench/RESULTS.md. BENCH_SMOKE=1 is CI's quick check (a tiny data set, a second a page, every
# page must answer 200). Needs wrk (apt-get install wrk); bench/run.py says what else is missing.
.PHONY: bench
BENCH_SECONDS ?=
BENCH_SMOKE ?=
bench: install-dev  # the scheduled jobs' part puts the clock at each hour of a day with time-machine
	BENCH_SMOKE="$(BENCH_SMOKE)" BENCH_SECONDS="$(BENCH_SECONDS)" $(BIN)/python bench/run.py

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The files and settings are in pyproject.toml ([tool.mypy]).
typecheck: install-dev
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# After changing user-facing strings: extract them, translate the new entries in
# locale/es/LC_MESSAGES/django.po, then run this again to compile. A test fails on any untranslated
# entry or a stale .mo; CI fails if the catalogue misses a string of the code.
messages: install-dev
	$(BIN)/python manage.py makemessages -l es --ignore=.venv --ignore=var --ignore=tests --no-obsolete --no-location
	$(BIN)/python manage.py compilemessages -l es --ignore=.venv

clean:
	rm -rf $(VAR) .pytest_cache
