# The two commands of the README: `make demo` and `make test`. Both install what is missing.
DEBIAN_PACKAGES := g++ cmake make libgtest-dev libbenchmark-dev libcli11-dev libfmt-dev \
                   rapidjson-dev clang-format
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build demo test test-asan bench format clean

all: build

# Installs the Debian packages the build needs, once (apt-get update first: a fresh machine has
# no package lists). Skipped when everything is present.
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; fi

$(BUILD)/build.ninja $(BUILD)/Makefile: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./$(BUILD)/proxysim demo

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-asan

# The unit and scenario suites again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DPROXYSIM_SANITIZE=ON -DPROXYSIM_BENCH=OFF >/dev/null
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ctest --output-on-failure -j $(JOBS)

bench: build
	./$(BUILD)/proxysim_bench

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD)-asan
