# Two commands matter: `make chat` and `make test`. Everything else is what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export TF_CPP_MIN_LOG_LEVEL := 3
export PATH := $(HOME)/.local/bin:$(PATH)

UV ?= uv
DEMO_HOME ?= $(HOME)/.local/share/assistant
DEMO_FR_HOME ?= $(HOME)/.local/share/assistant-fr
APT_PACKAGES := libportaudio2
# The voice tests record from a PulseAudio null sink (a virtual microphone) and make test speech with
# espeak-ng and sox.
TEST_APT_PACKAGES := pulseaudio libasound2-plugins espeak-ng sox
STAMP := .venv/.assistant-setup

.PHONY: help setup system uv env nlu-env chat chat-fr demo test test-fast lint bench clean-models

help:
	@echo "make chat     set everything up and open the chat REPL on the demo household (English)"
	@echo "make chat-fr  the same with the French demo household"
	@echo "make test     set everything up and run the whole test suite"
	@echo "make lint     ruff + mypy"
	@echo "make bench    benchmarks (bench/*.py)"

setup: system uv env nlu-env

# System libraries: installed only when missing (needs root or sudo).
system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

uv:
	@command -v $(UV) >/dev/null 2>&1 || { echo "Installing uv"; python3 -m pip install -q --user uv 2>/dev/null || python3 -m pip install -q uv; }

# The assistant's environment (Python 3.11), from uv.lock. Bytecode is compiled at install: it halves
# the CLI's start-up (and, in Rasa's environment, cuts TensorFlow's import from ~16 s to ~5 s).
env: uv
	@$(UV) sync --frozen --quiet --compile-bytecode

# Rasa's environment (Python 3.10), from nlu_service/uv.lock; uv finds or installs Python 3.10.
nlu-env: uv
	@cd nlu_service && { $(UV) sync --frozen --quiet --compile-bytecode 2>/dev/null || { $(UV) python install 3.10 && $(UV) sync --frozen --quiet --compile-bytecode; }; }

# Load the demo household into the default data directory, only if that household has no history yet.
demo: setup
	@ASSISTANT_HOME=$(DEMO_HOME) $(UV) run --frozen assistant history import --if-empty data/demo/history_en.csv
	@ASSISTANT_HOME=$(DEMO_FR_HOME) $(UV) run --frozen assistant history import --if-empty data/demo/history_fr.csv

chat: demo
	@ASSISTANT_HOME=$(DEMO_HOME) $(UV) run --frozen assistant chat

chat-fr: demo
	@ASSISTANT_HOME=$(DEMO_FR_HOME) $(UV) run --frozen assistant chat --lang fr

test: APT_PACKAGES += $(TEST_APT_PACKAGES)
test: setup
	@$(UV) run --frozen pytest

test-fast: APT_PACKAGES += $(TEST_APT_PACKAGES)
test-fast: setup
	@$(UV) run --frozen pytest -m "not slow"

lint: setup
	@$(UV) run --frozen ruff check assistant skills tests bench
	@$(UV) run --frozen mypy assistant

bench: APT_PACKAGES += $(TEST_APT_PACKAGES)
bench: setup
	@$(UV) run --frozen python bench/nlu.py
	@$(UV) run --frozen python bench/match.py
	@$(UV) run --frozen python bench/voice.py
	@$(UV) run --frozen python bench/orders.py
	@$(UV) run --frozen python bench/snips.py --train both

clean-models:
	rm -rf models/nlu/en models/nlu/fr models/nlu/run
