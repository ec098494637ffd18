#!/usr/bin/env bash
# lcnet's one entry point.
#
#   ./build.sh            install what is missing, build the CLIs into bin/, run the main job
#                         (the paper's table and the x1.0 latency on this CPU)
#   ./build.sh test       install what is missing, then vet and test every package,
#                         with oneDNN and with -tags purego, and the race detector
#   ./build.sh deps       only install the system packages (oneDNN, libjpeg-turbo)
#   ./build.sh build      only build bin/lcnet and bin/lcnet-bench
#   ./build.sh bench      Go benchmarks of both backends
#   ./build.sh fuzz [S]   run every fuzz target for S seconds each (default 30)
set -euo pipefail
cd "$(dirname "$0")"
export PATH="/usr/local/go/bin:$PATH"

log() { printf '\n== %s\n' "$*" >&2; }

need_pkgs=(libdnnl-dev libturbojpeg0-dev pkg-config)

deps() {
	local missing=()
	for p in "${need_pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if ((${#missing[@]})); then
		log "installing ${missing[*]}"
		local sudo=""
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		$sudo apt-get update -q
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
	fi
	command -v go >/dev/null || { echo "build.sh: Go 1.26 or newer is needed (https://go.dev/dl); none is on PATH" >&2; exit 1; }
	command -v gcc >/dev/null || { echo "build.sh: gcc is needed for cgo: apt-get install gcc" >&2; exit 1; }
}

build() {
	log "building bin/lcnet and bin/lcnet-bench"
	mkdir -p bin
	go build -trimpath -o bin/ ./cmd/lcnet ./cmd/lcnet-bench
}

main_job() {
	log "the paper's table: params, MACs, FLOPs of the 8 scales"
	bin/lcnet-bench table
	log "the paper's table on this CPU: batch-1 latency of every scale, each backend, 1 thread"
	bin/lcnet-bench paper --backend all --threads 1
}

run_tests() {
	log "gofmt"
	local unformatted
	unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
	if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi
	log "go vet (cgo and purego)"
	go vet ./...
	go vet -tags purego ./...
	log "go test ./... (oneDNN + Go backends)"
	go test -count=1 ./...
	if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
		# the engine's AVX2 kernel bodies and oneDNN's AVX2 layouts (nChw8c),
		# as on a CPU without AVX-512 (AMD Zen 1-3, Intel client cores)
		log "go test ./dnn as on an AVX2-only CPU (DNNL_MAX_CPU_ISA=AVX2 LCNET_NO_AVX512=1)"
		DNNL_MAX_CPU_ISA=AVX2 LCNET_NO_AVX512=1 go test -count=1 ./dnn
	fi
	log "go test -tags purego ./..."
	go test -count=1 -tags purego ./...
	log "CGO_ENABLED=0 go build ./..."
	CGO_ENABLED=0 go build ./...
	log "go test -race (short)"
	go test -count=1 -race -short ./...
}

case "${1:-all}" in
all)   deps; build; main_job ;;
deps)  deps ;;
build) deps; build ;;
test)  deps; run_tests ;;
bench) deps; go test -run '^$' -bench . -benchmem ./... ;;
fuzz)
	deps
	secs="${2:-30}"
	# Run every target even when one fails (set -e would stop at the
	# first), then list the failures and fail if there were any.
	failed=()
	ran=0
	for pkg in $(go list ./...); do
		for f in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
			log "fuzz $pkg $f for ${secs}s"
			ran=$((ran + 1))
			if ! go test -run '^$' -fuzz "^$f\$" -fuzztime "${secs}s" "$pkg"; then
				failed+=("$pkg $f")
			fi
		done
	done
	if ((${#failed[@]})); then
		log "fuzz: ${#failed[@]} of $ran targets failed (inputs in each package's testdata/fuzz):"
		printf '   %s\n' "${failed[@]}" >&2
		exit 1
	fi
	log "fuzz: all $ran targets passed"
	;;
*) echo "usage: $0 [all|deps|build|test|bench|fuzz [seconds]]" >&2; exit 2 ;;
esac
