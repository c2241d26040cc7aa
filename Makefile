# Two commands for a fresh machine with Python 3.11:  make demo  |  make test
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The browser tests drive Debian's chromium through Playwright; Playwright never downloads a browser.
CHROMIUM := /usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: demo test setup lint typecheck bench clean openapi x11-tools

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet --no-deps -r requirements.lock  # complete lock; --no-deps keeps mediapipe's jax and silero-vad's torch out
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Debian's chromium, installed once when missing (sudo -n only when not root, so CI never waits on a
# prompt). Where apt-get cannot help, say so: the browser tests then skip loudly, except in CI.
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "!! $(CHROMIUM) is missing and there is no apt-get:" \
	  "install Chromium yourself; browser tests will be skipped (and fail in CI)"; exit 0; }; \
	sudo=$$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ); log=$$(mktemp); \
	echo "Installing Debian's chromium for the browser tests (log: $$log)"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$sudo apt-get install -y -qq --no-install-recommends chromium >$$log 2>&1 || \
	{ $$sudo apt-get update -qq >>$$log 2>&1 && \
	  $$sudo apt-get install -y -qq --no-install-recommends chromium >>$$log 2>&1; } || \
	{ tail -n 20 $$log; echo "!! could not install chromium; browser tests will be skipped (and fail in CI)"; \
	  [ -z "$$CI" ] || [ "$$CI" = false ] || exit 1; }

# Xvfb, xdotool, xprop and xrandr for the agent's real-source tests (a virtual screen with windows,
# focus and a second monitor) and PortAudio for its microphone (sounddevice's Linux wheels lack it),
# installed the same way when any is missing; without them those tests skip loudly (and fail in CI).
X11_PACKAGES := xvfb xdotool x11-utils x11-xserver-utils libportaudio2
x11-tools:
	@command -v Xvfb >/dev/null && command -v xdotool >/dev/null && command -v xprop >/dev/null && \
	  command -v xrandr >/dev/null && ldconfig -p | grep -q libportaudio.so.2 && exit 0; \
	command -v apt-get >/dev/null || { echo "!! Xvfb, xdotool, xprop or xrandr is missing and there is no apt-get:" \
	  "install $(X11_PACKAGES) yourself; real-source tests will be skipped (and fail in CI)"; exit 0; }; \
	sudo=$$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ); log=$$(mktemp); \
	echo "Installing Debian's $(X11_PACKAGES) for the agent tests (log: $$log)"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$sudo apt-get install -y -qq --no-install-recommends $(X11_PACKAGES) >$$log 2>&1 || \
	{ $$sudo apt-get update -qq >>$$log 2>&1 && \
	  $$sudo apt-get install -y -qq --no-install-recommends $(X11_PACKAGES) >>$$log 2>&1; } || \
	{ tail -n 20 $$log; echo "!! could not install $(X11_PACKAGES); real-source tests will be skipped (and fail in CI)"; \
	  [ -z "$$CI" ] || [ "$$CI" = false ] || exit 1; }

setup: $(STAMP) $(CHROMIUM) x11-tools

demo: $(STAMP)
	$(BIN)/invigil demo

test: $(STAMP) $(CHROMIUM) x11-tools
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 3 --dist loadfile

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
