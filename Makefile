# fxseg_ros: the two commands of the README, and the other stacks CI runs the suite on.
#   make test         set up .venv (python3.11, the package with its extras, ROS 2 Kilted from
#                     PyPI wheels when no ROS 2 installation is sourced) and, where a Python 3.6
#                     interpreter exists, .venv-py36 (the TX2 runtime path); run the whole suite
#   make demo         the main job on the embedded default (ONNX Runtime on the CPU)
#   make test-jazzy   the whole suite on ROS 2 Jazzy (.venv-jazzy: python3.12, ros-jazzy-* wheels,
#                     no torch: the training and export tests skip)
#   make test-launch  the suite with launch_testing's pytest plugin, and launch_test on every
#                     launch test (.venv-launch with the ros2 launch tools of LAUNCH_TOOLS)
#   make test-launch-jazzy  launch_test on every launch test and the tests that need the launch
#                     tools, on ROS 2 Jazzy (.venv-launch-jazzy)
PYTHON ?= python3.11
# The first interpreter of version $(1) that runs: python$(1) on PATH (a pyenv shim may be there
# without that version selected), then pyenv's installed versions.
find_python = $(shell for p in "$$(command -v python$(1))" $(HOME)/.pyenv/versions/$(1).*/bin/python$(1); \
	do [ -x "$$p" ] && "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(1))))' \
	2>/dev/null && { echo "$$p"; break; }; done)
comma := ,
VENV ?= .venv
PY := $(VENV)/bin/python
ROS_WHEELS := ros-rclpy ros-sensor-msgs ros-std-msgs ros-diagnostic-msgs ros-rmw-fastrtps-cpp \
	ros-lifecycle-msgs
# torch is pinned to the CPU build this machine class ships; any torch >= 2.0 works for training.
TORCH ?= torch==2.13.0
EXTRAS := runtime,tools,train,test
DEMO_DIR ?= out/demo

# ROS 2 Jazzy from PyPI (Python 3.12). On Python 3.12, torch==2.13.0 resolves to a 5.3 GB CUDA
# build: the train extra stays out and the model tests skip with the reason.
JAZZY_PYTHON ?= $(call find_python,3.12)
JAZZY_VENV ?= .venv-jazzy
JAZZY_WHEELS := ros-jazzy-rclpy ros-jazzy-sensor-msgs ros-jazzy-std-msgs \
	ros-jazzy-diagnostic-msgs ros-jazzy-rmw-fastrtps-cpp ros-jazzy-lifecycle-msgs

# The TX2's Python (JetPack 4.6: Ubuntu 18.04, Python 3.6): the runtime path's unit tests run
# there (test/test_python36.py); the versions are the last releases with Python 3.6 wheels.
PY36 ?= $(call find_python,3.6)
PY36_VENV ?= .venv-py36
PY36_PACKAGES := numpy==1.19.5 opencv-python-headless==4.5.5.64 pyyaml==6.0.1 onnx==1.11.0 \
	onnxruntime==1.10.0 pytest==7.0.1

# The ros2 launch tools (test tools only): ../shared/ros2-launch-tools beside the repository.
LAUNCH_TOOLS ?= ../shared/ros2-launch-tools
LAUNCH_VENV ?= .venv-launch
LAUNCH_VENV_JAZZY ?= .venv-launch-jazzy
# install.sh installs the tools' dependencies with the Kilted names of the ros-* wheels; on Jazzy
# the same tool wheels (pure Python) go in without dependencies, beside these.
LAUNCH_DEPS_JAZZY := 'pytest>=7,<8' 'pytest-rerunfailures<14' osrf-pycommon lark argcomplete \
	packaging psutil catkin_pkg empy importlib_resources netifaces pyyaml \
	ros-jazzy-ament-index-python ros-jazzy-rcl-interfaces ros-jazzy-builtin-interfaces

.PHONY: test demo venv bench clean py36 test-jazzy test-launch test-launch-jazzy

venv: $(VENV)/.installed

$(VENV)/.installed: setup.py package.xml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q '$(TORCH)'
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	@if [ -z "$${ROS_DISTRO:-}" ]; then \
	  echo 'No ROS 2 installation sourced: installing the ROS 2 client from PyPI wheels'; \
	  $(PY) -m pip install -q $(ROS_WHEELS); \
	else echo "Using the sourced ROS 2 $$ROS_DISTRO"; fi
	touch $@

py36:
	@if [ -n "$(PY36)" ]; then $(MAKE) --no-print-directory $(PY36_VENV)/.installed; \
	else echo 'No Python 3.6 interpreter (python3.6 on PATH or pyenv 3.6.x): the Python 3.6' \
	  'runtime tests skip'; fi

$(PY36_VENV)/.installed:
	test -x $(PY36_VENV)/bin/python || (cd / && $(PY36) -m venv $(abspath $(PY36_VENV)))
	@# pip 21.3 reads setup.cfg of the current folder as a distutils config: run it elsewhere
	cd $(PY36_VENV) && bin/python -m pip install -q 'pip==21.3.1'
	cd $(PY36_VENV) && bin/python -m pip install -q --only-binary :all: $(PY36_PACKAGES)
	touch $@

test: venv py36
	$(PY) -m pytest -q

$(JAZZY_VENV)/.installed: setup.py package.xml
	@test -n "$(JAZZY_PYTHON)" || { echo 'test-jazzy needs Python 3.12 (python3.12 on PATH' \
	  'or pyenv 3.12.x)'; exit 2; }
	test -x $(JAZZY_VENV)/bin/python || $(JAZZY_PYTHON) -m venv $(JAZZY_VENV)
	$(JAZZY_VENV)/bin/python -m pip install -q --upgrade pip
	$(JAZZY_VENV)/bin/python -m pip install -q -e '.[runtime,tools,test]' $(JAZZY_WHEELS)
	touch $@

test-jazzy: $(JAZZY_VENV)/.installed py36
	$(JAZZY_VENV)/bin/python -m pytest -q

$(LAUNCH_VENV)/.installed: setup.py package.xml
	@test -f '$(LAUNCH_TOOLS)/install.sh' || { echo 'no ros2 launch tools at $(LAUNCH_TOOLS)' \
	  '(set LAUNCH_TOOLS=DIR)'; exit 2; }
	test -x $(LAUNCH_VENV)/bin/python || $(PYTHON) -m venv $(LAUNCH_VENV)
	$(LAUNCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(LAUNCH_VENV)/bin/python -m pip install -q -e '.[runtime,tools,test]' $(ROS_WHEELS)
	bash '$(LAUNCH_TOOLS)/install.sh' $(LAUNCH_VENV)
	touch $@

test-launch: $(LAUNCH_VENV)/.installed py36
	LAUNCH_VENV=$(LAUNCH_VENV) bash .ci/launch_tests

$(LAUNCH_VENV_JAZZY)/.installed: setup.py package.xml
	@test -f '$(LAUNCH_TOOLS)/install.sh' || { echo 'no ros2 launch tools at $(LAUNCH_TOOLS)' \
	  '(set LAUNCH_TOOLS=DIR)'; exit 2; }
	@test -n "$(JAZZY_PYTHON)" || { echo 'test-launch-jazzy needs Python 3.12 (python3.12 on' \
	  'PATH or pyenv 3.12.x)'; exit 2; }
	test -x $(LAUNCH_VENV_JAZZY)/bin/python || $(JAZZY_PYTHON) -m venv $(LAUNCH_VENV_JAZZY)
	$(LAUNCH_VENV_JAZZY)/bin/python -m pip install -q --upgrade pip
	$(LAUNCH_VENV_JAZZY)/bin/python -m pip install -q -e '.[runtime,tools,test]' $(JAZZY_WHEELS) \
	  $(LAUNCH_DEPS_JAZZY)
	$(LAUNCH_VENV_JAZZY)/bin/python -m pip install -q --no-deps --no-index \
	  '$(LAUNCH_TOOLS)'/wheels/*.whl
	$(LAUNCH_VENV_JAZZY)/bin/python -c 'import launch, launch_ros, launch_testing, ros2cli'
	touch $@

test-launch-jazzy: $(LAUNCH_VENV_JAZZY)/.installed
	LAUNCH_VENV=$(LAUNCH_VENV_JAZZY) LAUNCH_SCOPE=launch bash .ci/launch_tests

demo: venv
	$(VENV)/bin/fxseg demo --out $(DEMO_DIR)

bench: venv
	$(VENV)/bin/fxseg bench

clean:
	rm -rf $(VENV) $(JAZZY_VENV) $(PY36_VENV) $(LAUNCH_VENV) $(LAUNCH_VENV_JAZZY) out .pytest_cache
