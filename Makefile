# dale — plain Makefile.  Targets: all test demo bench asan debug install python clean deps
#
# One library (libdale.a + libdale.so) is built from every src/**/*.c and linked
# into the CLI (build/dale), every test (tests/test_*.c -> build/tests/test_*),
# the examples (examples/*.c -> build/examples/*) and the benches.
# Dependencies come from Debian packages installed by scripts/install-deps.sh;
# `make test` and `make demo` run it first (it is idempotent and does nothing
# when everything is present).

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
OPT     ?= -O2
WARN    = -Wall -Wextra -Wshadow -Wconversion -Wdouble-promotion -Wstrict-prototypes \
          -Wmissing-prototypes -Wmissing-declarations -Wno-sign-conversion
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -fPIC -fvisibility=hidden $(WARN) \
             -Iinclude -Isrc -I/usr/include/x86_64-linux-gnu $(CFLAGS) $(EXTRA_CFLAGS) $(FILE_CFLAGS)
LDLIBS  = -lopenblas -llapacke -lzip -lz -lcjson -lsqlite3 -lm -lpthread
BLASDIR = $(firstword $(wildcard /usr/lib/x86_64-linux-gnu/openblas-pthread /usr/lib/$(shell uname -m)-linux-gnu/openblas-pthread))
LDFLAGS ?=
ALL_LDFLAGS = $(if $(BLASDIR),-L$(BLASDIR)) $(LDFLAGS) $(EXTRA_LDFLAGS)

LIB_SRC  = $(sort $(wildcard src/*/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_SRC  = $(sort $(wildcard cli/*.c))
CLI_OBJ  = $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_SRC = $(sort $(wildcard tests/test_*.c))
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_SCRIPTS = $(sort $(wildcard tests/test_*.sh))
EXAMPLE_SRC = $(sort $(wildcard examples/*.c))
EXAMPLE_BIN = $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)
HDRS     = $(wildcard include/dale/*.h) $(wildcard src/*.h) $(wildcard src/*/*.h) $(wildcard tests/*.h)

.PHONY: all test demo bench asan debug install clean deps fuzz python FORCE
# keep object files of tests (make would delete them as intermediates)
.SECONDARY:

all: $(BUILD)/libdale.a $(BUILD)/libdale.so $(BUILD)/dale $(TEST_BIN) $(EXAMPLE_BIN)

# image.c compiles the third-party stb headers, whose JPEG code left-shifts
# negative ints and lets its integer IDCT wrap on hostile input (UB that
# UBSan reports; memory safety is still checked by ASan); only that file is
# exempt from those two checks.
$(BUILD)/src/core/image.o: FILE_CFLAGS = -fno-sanitize=shift,signed-integer-overflow

# The update's elementwise passes (clip scaling, the SGD step) run over
# every weight each update; at -O2 GCC's cheapest cost model leaves them
# scalar.  Vectorising an elementwise loop computes the same value per
# element (no sum is reordered), so the bits do not change.
VECT_FLAGS := $(shell $(CC) -fvect-cost-model=dynamic -E -x c /dev/null >/dev/null 2>&1 && echo -fvect-cost-model=dynamic)
$(BUILD)/src/train/update.o: FILE_CFLAGS = $(VECT_FLAGS)
$(BUILD)/src/model/mask.o: FILE_CFLAGS = $(VECT_FLAGS)

# The commit the library is built from, recorded by every run (dale --version,
# config.json, result.json): "-dirty" appended when tracked files differ from
# it, "unknown" outside a git checkout.  The stamp file changes only when
# that text does, so only status.o is rebuilt then.
GIT_COMMIT := $(shell test -e .git && git rev-parse --short HEAD 2>/dev/null || echo unknown)
ifneq ($(GIT_COMMIT),unknown)
GIT_COMMIT := $(GIT_COMMIT)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
endif
$(BUILD)/git-commit: FORCE
	@mkdir -p $(dir $@)
	@echo '$(GIT_COMMIT)' | cmp -s - $@ || echo '$(GIT_COMMIT)' > $@
$(BUILD)/src/core/status.o: FILE_CFLAGS = -DDALE_GIT_COMMIT='"$(GIT_COMMIT)"'
$(BUILD)/src/core/status.o: $(BUILD)/git-commit
FORCE:

# MPI for `dale sweep --mpi` (docs/cluster.md): built in when mpicc is found,
# `make MPI=1` insists on it, `make MPI=0` leaves it out.  Only the CLI's
# cli/mpi.c sees mpi.h and only the dale executable links the MPI library;
# libdale, the tests and the examples stay MPI-free.  The compile and link
# flags come from the wrapper (Open MPI's --showme, MPICH's -compile_info /
# -link_info without the compiler's name).  A stamp file rebuilds mpi.o and
# dale when the choice changes.
MPICC   ?= mpicc
MPI     ?= $(if $(shell command -v $(MPICC) 2>/dev/null),1,0)
ifeq ($(MPI),1)
MPI_CFLAGS := $(shell $(MPICC) --showme:compile 2>/dev/null || $(MPICC) -compile_info 2>/dev/null | cut -d' ' -f2- | tr ' ' '\n' | grep -E '^-(I|D)' | tr '\n' ' ')
MPI_LIBS   := $(shell $(MPICC) --showme:link 2>/dev/null || $(MPICC) -link_info 2>/dev/null | cut -d' ' -f2- | tr ' ' '\n' | grep -E '^-(L|l|Wl)' | tr '\n' ' ')
ifeq ($(strip $(MPI_LIBS)),)
$(error MPI=1 but $(MPICC) gives no link flags: install openmpi-bin libopenmpi-dev, or build with MPI=0)
endif
# -isystem: mpi.h is not held to dale's warnings
MPI_CFLAGS := -DDALE_MPI $(patsubst -I%,-isystem %,$(MPI_CFLAGS))
endif
$(BUILD)/mpi-config: FORCE
	@mkdir -p $(dir $@)
	@echo '$(MPI) $(MPI_CFLAGS) $(MPI_LIBS)' | cmp -s - $@ || echo '$(MPI) $(MPI_CFLAGS) $(MPI_LIBS)' > $@
$(BUILD)/cli/mpi.o: FILE_CFLAGS = $(MPI_CFLAGS)
$(BUILD)/cli/mpi.o: $(BUILD)/mpi-config

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libdale.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libdale.so: $(LIB_OBJ)
	$(CC) -shared -o $@ $^ $(ALL_LDFLAGS) $(LDLIBS)

$(BUILD)/dale: $(CLI_OBJ) $(BUILD)/libdale.a $(BUILD)/mpi-config
	$(CC) -o $@ $(CLI_OBJ) $(BUILD)/libdale.a $(ALL_LDFLAGS) $(LDLIBS) $(MPI_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libdale.a
	$(CC) -o $@ $< $(BUILD)/libdale.a $(ALL_LDFLAGS) $(LDLIBS)

# The programs of docs/library.md and docs/losses.md, built against the
# public headers only (no -Isrc) and run by tests/test_examples.sh.
$(BUILD)/examples/%: examples/%.c $(BUILD)/libdale.a $(wildcard include/dale/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) -Iinclude $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $< $(BUILD)/libdale.a $(ALL_LDFLAGS) $(EXTRA_LDFLAGS) $(LDLIBS)

deps:
	@bash scripts/install-deps.sh

# The whole suite: every C test executable, then the CLI shell tests.
# Each prints PASS/FAIL lines; the runner prints "N passed, N failed" and
# exits non-zero when anything failed.
test: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/run-tests.sh $(BUILD) $(TEST_BIN) $(TEST_SCRIPTS)

demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/dale
	@bash scripts/demo.sh $(BUILD)/dale

bench: deps
	@$(MAKE) --no-print-directory all
	@bash bench/run.sh $(BUILD)

# Address + undefined-behaviour sanitizers over the whole suite (separate build dir).
asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" all
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  bash scripts/run-tests.sh build-asan $(TEST_BIN:$(BUILD)/%=build-asan/%) $(TEST_SCRIPTS)

debug:
	@$(MAKE) --no-print-directory BUILD=build-debug OPT="-O0" all

# libFuzzer harnesses fuzz/fuzz_*.c against a clang build of the library with
# fuzzer instrumentation and ASan+UBSan (build-fuzz/); each target runs for
# FUZZ_SECONDS (default 60), one after the other (scripts/fuzz.sh).
FUZZ_SECONDS ?= 60
fuzz: deps
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
	  build-fuzz/libdale.a build-fuzz/cli/matio.o
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh build-fuzz

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/dale
	install -m 755 $(BUILD)/dale $(DESTDIR)$(PREFIX)/bin/dale
	install -m 644 $(BUILD)/libdale.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libdale.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/dale/*.h $(DESTDIR)$(PREFIX)/include/dale/

# The Python package (python/dale, pure Python over libdale.so): copy this
# build's library and CLI into it, so `pip install --no-build-isolation
# ./python` installs a package that carries them (docs/python.md).
python: $(BUILD)/libdale.so $(BUILD)/dale
	cp $(BUILD)/libdale.so $(BUILD)/dale python/dale/

clean:
	rm -rf build build-asan build-debug build-fuzz python/dale/libdale.so python/dale/dale
