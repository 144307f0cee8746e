# CniVeth — see README.md. Every target that touches the network does so inside namespaces it creates.
SHELL := /bin/bash
DOTNET ?= dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

PREFIX ?= /opt/cni
BINDIR ?= $(PREFIX)/bin
CONFDIR ?= /etc/cni/net.d
DESTDIR ?=
CONF ?= conf/10-cniveth.conflist

OUT := out
BIN := $(OUT)/cniveth
SRC := $(shell find src -name '*.cs' -o -name '*.csproj' -o -name '*.c')

.PHONY: all build faults-build deps test unit-test integration-test vm-test demo demo-cluster install install-conf bench soak clean

all: build

# Debian packages the tests, demo and benchmarks need (no-op when present).
deps:
	@bash .ci/deps.sh

build: $(BIN)

# $(call publish,DIR,EXTRA MSBUILD ARGS): NativeAOT publish to DIR/publish; any trim/AOT warning fails it,
# and so does glibc's link-time warning for an entry point that loads shared objects (answer it in
# Native/static_glibc.c).
define publish
	@mkdir -p $(1)
	$(DOTNET) publish src/CniVeth/CniVeth.csproj -c Release -r linux-x64 -o $(1)/publish -nologo -clp:NoSummary $(2) 2>&1 | tee $(1)/publish.log
	@if grep -E '(warning|error) (IL|CS)[0-9]+' $(1)/publish.log; then echo "publish produced warnings: failing the build" >&2; exit 1; fi
	@if grep -E 'in statically linked applications requires at runtime' $(1)/publish.log; then echo "static link warnings: failing the build" >&2; exit 1; fi
endef

$(BIN): $(SRC)
	$(call publish,$(OUT))
	@cp $(OUT)/publish/cniveth $(BIN)
	@ln -sf cniveth $(OUT)/host-local
	@ls -l $(BIN)

# deps first: the nftables kernel tests among the unit tests read the ruleset back with nft.
# A test that hangs is stopped and named after 10 minutes (the whole suite takes well under one).
unit-test: deps
	$(DOTNET) test tests/CniVeth.UnitTests/CniVeth.UnitTests.csproj -nologo -v q --logger "console;verbosity=minimal" \
	  --blame-hang-timeout 10min --blame-hang-dump-type none

# The fault injector (tests/faults) is an LD_PRELOAD library, and the shipped binary is static: the
# hostile suite's fault sweeps run a dynamically linked build of the same source (out/faults/cniveth;
# its own intermediate directory, so the two links never overwrite each other).
FAULTS_BIN := $(OUT)/faults/cniveth
faults-build: $(FAULTS_BIN)

$(FAULTS_BIN): $(SRC)
	$(call publish,$(OUT)/faults,-p:StaticExecutable=false -p:NativeIntermediateOutputPath=$(CURDIR)/src/CniVeth/obj/faults-native/)
	@cp $(OUT)/faults/publish/cniveth $(FAULTS_BIN)

integration-test: build faults-build deps
	bash tests/integration/run.sh

# The VM suites run last: they are the slowest, and the host's own results come first.
test: unit-test integration-test vm-test

# The kernel-facing suites again, in a qemu VM booted from Debian 12's stock kernel (tests/vm/run.sh):
# bridge VLAN filtering and nf_tables as kernels before 6.5 have them. Fails when qemu cannot run;
# VM_TESTS=skip skips it with a notice. VM_ACCEL=kvm where hardware virtualisation works.
VM_SUITES ?= 30-datapath 40-options 45-vlan-bridges 50-firewall
vm-test: build deps
	bash tests/vm/run.sh $(VM_SUITES)

demo: build deps
	bash tests/demo.sh

# three nodes (host-gw), node 1 through containerd's CRI: pods, cross-node source addresses, egress NAT
demo-cluster: build deps
	bash tests/cluster/demo.sh

install: build
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/cniveth
	ln -sf cniveth $(DESTDIR)$(BINDIR)/host-local

# CONF=conf/30-podman.conflist or just CONF=30-podman.conflist (see conf/README.md)
install-conf:
	@f='$(CONF)'; [ -f "$$f" ] || f="conf/$$f"; \
	[ -f "$$f" ] || { echo "install-conf: no such example: $(CONF) (see conf/README.md)" >&2; exit 1; }; \
	install -d $(DESTDIR)$(CONFDIR) && \
	install -m 0644 "$$f" "$(DESTDIR)$(CONFDIR)/$$(basename "$$f")" && \
	echo "installed $(DESTDIR)$(CONFDIR)/$$(basename "$$f")"

bench: build deps
	bash bench/run.sh

# Long runs (not in CI's default run): SOAK_CYCLES ADD/DEL cycles (default 5000), the mutation fuzzers
# with FUZZ_ITERATIONS (default 1000000), and the kill/churn suites with more steps.
soak: build deps
	FUZZ_ITERATIONS=$${FUZZ_ITERATIONS:-1000000} $(DOTNET) test tests/CniVeth.UnitTests/CniVeth.UnitTests.csproj -nologo -v q --filter "FullyQualifiedName~Fuzz" --logger "console;verbosity=normal"
	SOAK=1 KILL_STEPS=$${KILL_STEPS:-200} CHURN_ROUNDS=$${CHURN_ROUNDS:-20} bash tests/integration/run.sh tests/integration/90-soak.bats tests/integration/70-reliability.bats

clean:
	rm -rf $(OUT) src/*/bin src/*/obj tests/*/bin tests/*/obj
