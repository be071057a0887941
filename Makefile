# netjes — thin wrapper around meson/ninja. The two commands of the quick
# start are `make run` and `make test`; both install what they need first.

RELEASE		?= build/release
FUZZ_SECONDS	?= 60
ARGS		?=

.PHONY: all deps build run test fuzz bench clean

all: build

deps:
	@scripts/deps.sh

build:
	@scripts/deps.sh run
	@[ -f $(RELEASE)/build.ninja ] || \
	    meson setup $(RELEASE) --buildtype=debugoptimized
	@ninja -C $(RELEASE)

# The mail server in the foreground on its embedded default (or ARGS).
run: build
	@scripts/account.sh
	./$(RELEASE)/src/netjes serve $(ARGS)

# Every test: unit (ASan+UBSan), a short fuzz pass, interop and e2e.
test:
	@scripts/deps.sh test
	@scripts/account.sh
	@/usr/bin/python3 tests/run_all.py

# Each fuzz target for FUZZ_SECONDS on its seed corpus.
fuzz:
	@scripts/deps.sh test
	@/usr/bin/python3 tests/run_all.py --only fuzz --fuzz-seconds $(FUZZ_SECONDS)

bench: build
	@scripts/deps.sh bench
	@bench/run.sh

clean:
	rm -rf build
