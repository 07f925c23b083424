# fxseg_ros: the two commands of the README.
#   make test   set up .venv (python3.11, the package, its test extras, ROS 2 from PyPI when no ROS 2
#               installation is sourced) and run the whole suite
#   make demo   the main job on the embedded default (ONNX Runtime on the CPU)
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
ROS_WHEELS := ros-rclpy ros-sensor-msgs ros-std-msgs ros-diagnostic-msgs ros-rmw-fastrtps-cpp
# torch is pinned to the CPU build this machine class ships; any torch >= 1.10 works for training.
TORCH ?= torch==2.13.0
DEMO_DIR ?= out/demo

.PHONY: test demo venv bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: setup.py package.xml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q '$(TORCH)'
	$(PY) -m pip install -q -e '.[train,test]'
	@if [ -z "$${ROS_DISTRO:-}" ]; then \
	  echo 'No ROS 2 installation sourced: installing the ROS 2 client from PyPI wheels'; \
	  $(PY) -m pip install -q $(ROS_WHEELS); \
	else echo "Using the sourced ROS 2 $$ROS_DISTRO"; fi
	touch $@

test: venv
	$(PY) -m pytest -q

demo: venv
	$(VENV)/bin/fxseg demo --out $(DEMO_DIR)

bench: venv
	$(VENV)/bin/fxseg bench

clean:
	rm -rf $(VENV) out .pytest_cache
