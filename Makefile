# Two commands for a fresh machine with Python 3.11:  make demo  |  make test
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup lint typecheck bench clean openapi

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/invigil demo

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) invigil-demo .pytest_cache

openapi: $(STAMP)
	$(BIN)/python -c "import json, tempfile, pathlib; from invigil.app import create_app; from invigil.config import Settings; \
	app = create_app(Settings(data_dir=pathlib.Path(tempfile.mkdtemp()))); \
	pathlib.Path('docs/openapi.json').write_text(json.dumps(app.openapi(), indent=2, sort_keys=True) + '\n')"
