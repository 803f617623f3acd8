# The README's two commands: `make course` and `make test`. Both build .venv when it is
# missing (or when pyproject.toml changed), so a fresh clone needs nothing but Python 3.11.

PYTHON  ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.musiclib-installed
PROFILE ?= fast
# Empty: each notebook uses its own default dataset (the synthetic styles; the composers in
# 05-07). DATASET=synthetic, DATASET=composers or DATASET=/a/folder runs every notebook on it.
DATASET ?=
SEED    ?= 0
# STUDENT=1: `make course` runs the student versions (build/student -> build/course-student)
# and `make site` builds their site (build/site-student). CHECK=1: `make site` then opens
# every page in headless Chromium (needs chromium and chromium-driver).
STUDENT ?=
CHECK   ?=
BUILD   := $(or $(MUSICLIB_BUILD_DIR),build)

# Quiet TensorFlow's start-up chatter (its C++ lines that ignore this are filtered off fd 2 by
# musiclib.tf_log; MUSICLIB_TF_LOG=all shows them); keep numbers reproducible across runs.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

.PHONY: course site test lab student venv clean help

help:
	@echo "make course   build .venv if needed, make the built-in datasets, run every notebook (PROFILE=$(PROFILE), DATASET=$(DATASET))"
	@echo "make site     build build/site/ (a book of the executed course) from what make course wrote; STUDENT=1: the student edition"
	@echo "make test     build .venv if needed, run the tests and execute the notebooks with nbmake"
	@echo "make lab      open JupyterLab on the course"
	@echo "make student OUT=DIR   write the student versions of the notebooks (solutions replaced) to DIR"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,docs]"
	@touch $(STAMP)

course: $(STAMP)
	MUSICLIB_PROFILE=$(PROFILE) MUSICLIB_SEED=$(SEED) $(BIN)/musiclib dataset synth
	MUSICLIB_PROFILE=$(PROFILE) MUSICLIB_SEED=$(SEED) $(BIN)/musiclib dataset composers --jobs 2
ifeq ($(STUDENT),)
	MUSICLIB_PROFILE=$(PROFILE) MUSICLIB_SEED=$(SEED) MUSICLIB_DATASET=$(DATASET) $(BIN)/musiclib course
else
	$(BIN)/musiclib course student --out $(BUILD)/student
	MUSICLIB_PROFILE=$(PROFILE) MUSICLIB_SEED=$(SEED) MUSICLIB_DATASET=$(DATASET) $(BIN)/musiclib course \
		--notebooks $(BUILD)/student --out $(BUILD)/course-student
endif

# The executed course as a website (musiclib/website.py): nothing is executed again. Open
# build/site/index.html (build/site-student/index.html with STUDENT=1).
site: $(STAMP)
	$(BIN)/python -m musiclib.website $(if $(STUDENT),--student) $(if $(CHECK),--check)

# nbmake executes the notebooks in the tiny profile; meanwhile tests/test_course_on_your_music.py
# runs the course in tiny on a labelled folder and on GTZAN-shaped data in a background process
# (the second core), and tests/test_site.py builds the course website from those runs' executed
# notebooks and checks it in headless Chromium. `make course` is where the fast profile runs.
test: $(STAMP)
	MUSICLIB_PROFILE=tiny $(BIN)/python -m pytest tests --nbmake notebooks --nbmake-timeout=900 --durations=15

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

student: $(STAMP)
	@test -n "$(OUT)" || { echo "make student OUT=DIR: say where the student notebooks go"; exit 2; }
	$(BIN)/musiclib course student --out "$(OUT)"

clean:
	rm -rf build .pytest_cache
