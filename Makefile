# sockkit: thin wrapper over CMake/CTest.
#   make run   install what is missing, build, start `sk serve` on loopback
#   make test  install, build, run every test: the plain build, then an
#              AddressSanitizer+UBSan build (clang) that also runs the fuzzers,
#              then the threaded models under ThreadSanitizer
BUILD      ?= build
SAN_BUILD  ?= build-sanitize
TSAN_BUILD ?= build-tsan
# What ThreadSanitizer runs: the unit tests and the model suite for the
# models that share memory between threads.
TSAN_TESTS  ?= ^unit\.|^integration\.test_(models|chat)$$
TSAN_MODELS ?= thread,pool,epoll,reactors,uring
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build run test test-plain test-sanitize test-tsan clean

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) >/dev/null

run: build
	$(BUILD)/sk serve

test: test-plain test-sanitize test-tsan

test-plain: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-sanitize: deps
	@CC=clang cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSK_SANITIZE=ON -DSK_FUZZ=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS) >/dev/null
	ctest --test-dir $(SAN_BUILD) --output-on-failure -j $(JOBS)

test-tsan: deps
	@CC=clang cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSK_TSAN=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) >/dev/null
	SK_TEST_MODELS=$(TSAN_MODELS) TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)'

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(TSAN_BUILD)
