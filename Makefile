# The two commands of the README: `make demo` and `make test`. Both install what is missing.
DEBIAN_PACKAGES := g++ cmake make libgtest-dev libbenchmark-dev libcli11-dev libfmt-dev \
                   rapidjson-dev clang-format clang libclang-rt-14-dev rt-app trace-cmd
DEBIAN_PACKAGES += libtracecmd-dev libtraceevent-dev libtracefs-dev pkg-config
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build demo test test-asan test-tsan test-pgo bench format clean fidelity pgo

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
	$(MAKE) test-browser
	$(MAKE) test-asan
	$(MAKE) test-tsan
	$(MAKE) fuzz-smoke
	$(MAKE) test-pgo

# The unit and scenario suites again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DPROXYSIM_SANITIZE=ON -DPROXYSIM_BENCH=OFF >/dev/null
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest --output-on-failure -j $(JOBS)

# The code that runs on several threads (`compare --jobs`, `stress --jobs`: src/util/
# ordered_parallel.h) under ThreadSanitizer: its unit tests, and the CLI tests of --jobs, which
# run this build's proxysim. A data race fails the test that ran into it.
TSAN_TESTS := RunOrdered.*:ResolveJobs.*:Stress.Jobs*:CliJobs.*
test-tsan: deps
	cmake -S . -B $(BUILD)-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROXYSIM_TSAN=ON -DPROXYSIM_BENCH=OFF >/dev/null
	cmake --build $(BUILD)-tsan -j $(JOBS) --target proxysim proxysim_tests
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" ./$(BUILD)-tsan/proxysim_tests --gtest_filter='$(TSAN_TESTS)'

# libFuzzer targets (fuzz/*.cc) with clang, ASan and UBSan: the library sources compiled into
# $(FUZZ_BUILD)/obj (incremental, with header dependencies), one binary per target.
FUZZ_BUILD ?= build-fuzz
FUZZ_CXX ?= clang++
FUZZ_TIME ?= 15
FUZZ_CXXFLAGS := -std=c++20 -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all \
                 -Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter -Iinclude -Isrc
FUZZ_OBJ_SANITIZE := -fsanitize=fuzzer-no-link,address,undefined
FUZZ_CXXFLAGS += $(shell pkg-config --cflags libtracecmd 2>/dev/null)
FUZZ_LIBS := $(shell pkg-config --libs libtracecmd libtraceevent 2>/dev/null)
FUZZ_LIB_SRCS := $(filter-out src/cli/main.cc,$(sort $(shell find src -name '*.cc')))
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.cc=$(FUZZ_BUILD)/obj/%.o)
FUZZ_TARGETS := loader_fuzz stress_fuzz

.PHONY: fuzz-build fuzz-smoke

fuzz-build: deps
	@$(MAKE) --no-print-directory -j $(JOBS) $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/obj/%.o: %.cc
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) $(FUZZ_OBJ_SANITIZE) -MMD -MP -c $< -o $@

$(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/fuzz/%.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CXX) -fsanitize=fuzzer,address,undefined $^ -lfmt $(FUZZ_LIBS) -o $@

# RapidJSON 1.1.0 (Debian 12) adds an offset to a null pointer on every first push onto its
# internal stack (internal/stack.h:117; Tencent/rapidjson#1724, fixed upstream after 1.1.0 but
# never released): harmless in practice, but clang's UBSan stops at it on every parse. The two
# files that include RapidJSON are built without that one check (all of them: the linker keeps one
# copy of RapidJSON's inline functions, from any of these objects).
RAPIDJSON_USERS := $(shell grep -rl 'rapidjson/' src --include='*.cc')
$(RAPIDJSON_USERS:%.cc=$(FUZZ_BUILD)/obj/%.o): FUZZ_OBJ_SANITIZE += -fno-sanitize=pointer-overflow
-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/obj/fuzz/%.d)

# Runs each target for FUZZ_TIME seconds from its seed corpus, copied afresh to
# $(FUZZ_BUILD)/smoke-NAME, with a fixed libFuzzer seed so that `make test` is repeatable
# (fuzz/corpus/ is never written). A crash, leak, sanitizer report, timeout or invariant
# violation fails it; the reproducer lands in $(FUZZ_BUILD)/artifacts/. It also creates
# $(FUZZ_BUILD)/corpus-NAME, the corpus of longer runs, which keeps what they find.
fuzz-smoke: fuzz-build
	@for t in loader stress; do \
	  rm -rf $(FUZZ_BUILD)/smoke-$$t && mkdir -p $(FUZZ_BUILD)/smoke-$$t \
	    $(FUZZ_BUILD)/corpus-$$t $(FUZZ_BUILD)/artifacts && \
	  cp fuzz/corpus/$$t/* $(FUZZ_BUILD)/smoke-$$t/ && \
	  cp -n fuzz/corpus/$$t/* $(FUZZ_BUILD)/corpus-$$t/ && \
	  echo "fuzz $$t: $(FUZZ_TIME) s" && \
	  if ./$(FUZZ_BUILD)/$${t}_fuzz -seed=1 -max_total_time=$(FUZZ_TIME) -rss_limit_mb=2048 \
	       -timeout=10 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- $(FUZZ_BUILD)/smoke-$$t \
	       >$(FUZZ_BUILD)/$$t-smoke.log 2>&1; then \
	    grep -E '^#[0-9]+[[:space:]]+DONE|^Done ' $(FUZZ_BUILD)/$$t-smoke.log; \
	  else \
	    tail -n 60 $(FUZZ_BUILD)/$$t-smoke.log; \
	    echo "fuzz $$t FAILED: log $(FUZZ_BUILD)/$$t-smoke.log, reproducer in $(FUZZ_BUILD)/artifacts/"; \
	    exit 1; fi; \
	done

# docs/fidelity.md: every examples/fidelity/ workload on this kernel against proxysim (root).
fidelity: build
	tools/fidelity.sh $(BUILD)

# --html end to end in headless Chromium (tests/browser/): Debian's chromium, and node/npm only
# when there is none (a node installed otherwise, with its own npm, is kept); playwright-core at
# the version pinned in package-lock.json drives /usr/bin/chromium (no browser is downloaded).
.PHONY: test-browser
test-browser: build
	@missing=""; dpkg -s chromium >/dev/null 2>&1 || missing="chromium"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; fi
	cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	cd tests/browser && PROXYSIM=$(CURDIR)/$(BUILD)/proxysim node --test report.test.js

bench: build
	./$(BUILD)/proxysim_bench

# A faster proxysim for long campaigns, $(PGO_BUILD)/proxysim: built instrumented, trained on
# tools/pgo-train.sh's runs, then rebuilt with profile-guided optimisation (README
# "Performance"). Its results are the ones of $(BUILD)/proxysim (`make test-pgo` checks that).
PGO_BUILD ?= build-pgo
pgo: deps
	cmake -S . -B $(PGO_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROXYSIM_PGO=generate >/dev/null
	cmake --build $(PGO_BUILD) -j $(JOBS) --target proxysim proxysim_genwork
	find $(PGO_BUILD) -name '*.gcda' -delete
	tools/pgo-train.sh $(PGO_BUILD)
	cmake -S . -B $(PGO_BUILD) -DPROXYSIM_PGO=use >/dev/null
	cmake --build $(PGO_BUILD) -j $(JOBS) --target proxysim proxysim_genwork

# The PGO build against the plain one: every output of tools/same-output.sh's corpus identical.
test-pgo: build pgo
	tools/same-output.sh $(BUILD)/proxysim $(PGO_BUILD)/proxysim $(BUILD)/proxysim_genwork

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan $(FUZZ_BUILD) $(PGO_BUILD)
