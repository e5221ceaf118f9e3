# `make demo`: install into .venv, then convert digits, train lenet and evaluate it.
# `make test`: install into .venv, then lint and run the test suite.
# `make test-slow`: the tests `make test` leaves out (marked slow: killed cluster tasks, the
# gs:// run across processes, two recipes and two converters' end-to-end runs).
# `make check-wheels` (part of `make test`): every pin has Linux x86_64 wheels on PyPI for each
# Python version pyproject.toml's requires-python admits (tools/check_wheels.py).
# `make test-browser`: TensorBoard's Images and HParams dashboards in headless Chromium, with
# screenshots into docs/; installs Debian's chromium and chromium-driver (as root) if missing.
# `GPU=1` (e.g. `make install GPU=1`) also installs TensorFlow's CUDA libraries for NVIDIA GPUs.

VENV ?= .venv
PYTHON := $(VENV)/bin/python
GPU ?=
INSTALLED := $(VENV)/.installed$(if $(GPU),-gpu)
DATA_DIR ?= data/digits
TRAIN_DIR ?= runs/lenet_digits

.PHONY: install demo test test-slow lint check-wheels test-browser

$(INSTALLED): requirements.txt requirements-dev.txt requirements-gpu.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt $(if $(GPU),-r requirements-gpu.txt)
	$(PYTHON) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(INSTALLED)

install: $(INSTALLED)

demo: install
	$(PYTHON) download_and_convert_data.py --dataset_name=digits --dataset_dir=$(DATA_DIR)
	$(PYTHON) train_image_classifier.py --flagfile=configs/lenet_digits.flags \
	    --dataset_dir=$(DATA_DIR) --train_dir=$(TRAIN_DIR)
	$(PYTHON) eval_image_classifier.py --dataset_name=digits --dataset_split_name=validation \
	    --model_name=lenet --dataset_dir=$(DATA_DIR) --checkpoint_path=$(TRAIN_DIR) \
	    --eval_dir=$(TRAIN_DIR)/eval

lint: install
	$(PYTHON) -m ruff check .

check-wheels: install
	$(PYTHON) tools/check_wheels.py

test: lint check-wheels
	$(PYTHON) -m pytest -n 2 --dist loadfile --no-loadscope-reorder

test-slow: install
	$(PYTHON) -m pytest -m slow

test-browser: install
	test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || { apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; }
	$(PYTHON) -m pytest -m browser
