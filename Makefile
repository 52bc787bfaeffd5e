# Round Table: `make run` to try it, `make test` to run the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The embedded default keeps its database, mail folder, broker folder and cache under var/.
VAR := var

.PHONY: run test install install-dev migrate demo worker serve lint format messages clean

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
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

# Serves at http://127.0.0.1:8000 with a Celery worker (and its beat) on a folder broker next to it,
# so emails really go through the background delivery path; both stop together on Ctrl-C.
run: demo
	@mkdir -p $(VAR)
	@echo "Emails are written to $(VAR)/mail/ and listed at http://127.0.0.1:8000/outbox/"
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/celery -A roundtable worker --beat --pool=solo --loglevel=WARNING & \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

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
