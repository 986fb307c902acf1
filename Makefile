# Every target sets itself up: a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FIXTURE_CAPTURE := 2024-11-19T12:00:00Z
DEV := DJANGO_DEBUG=1

.PHONY: run test test-postgres bench bench-million serve check-deploy clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(DEV) $(BIN)/python manage.py migrate --no-input
	$(DEV) $(BIN)/python manage.py import_dump fixtures/dumps/*.txt --captured-at $(FIXTURE_CAPTURE)
	$(DEV) $(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(BIN)/pytest -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# A million-comment import, streamed: peak memory and rate (about 10 minutes).
bench-million: $(STAMP)
	$(BIN)/python benchmarks/run.py --sizes "" --listing-sizes "" --import-comments 1000000 --import-rounds 1 --no-reimport

serve: $(STAMP)
	$(BIN)/python manage.py collectstatic --no-input
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/gunicorn forum.wsgi --bind $${BIND:-127.0.0.1:8000} --workers $${WORKERS:-2} \
		--worker-class gthread --threads $${THREADS:-4} --access-logfile -

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm
