#!/usr/bin/env bash
# THE test command: installs what is missing (Debian 12, apt only), builds the
# module fixture origin once, runs every Bazel test, checks the binary is not
# linked against OpenSSL 3, and prints the count of test cases as its last
# line: "N passed, N failed". Exits non-zero on any failure.
#
#   tools/ci/test.sh           # bazel test //...
#   tools/ci/test.sh --asan    # bazel test --config=asan //...
#   tools/ci/test.sh --fuzz [SECONDS]   # only fuzzing: every //test/fuzz target built with
#                              # clang + libFuzzer + ASan/UBSan (own output base), each run
#                              # SECONDS (default 60) from its corpus; a crash fails the
#                              # run and its input is kept under $MODGATE_CI_CACHE/fuzz/
#   tools/ci/test.sh -- //test/integration/...   # other targets / extra bazel flags
#
# Environment (optional):
#   MODGATE_FIXTURES_DIR    make-origin.sh's directory (default: ../shared/fixtures beside the
#                           checkout, or beside the one a local clone was made from)
#   MODGATE_FIXTURE_ORIGIN  a fixture origin already built (skips make-origin.sh)
#   MODGATE_CI_CACHE        where to keep the built origin (default ~/.cache/modgate-ci)
#   BAZEL                   bazel command (default bazel)
#   BAZEL_STARTUP_OPTS      e.g. "--output_base=/tmp/ob" (word-split)
#   BAZEL_TEST_FLAGS        extra flags for bazel test (word-split)
#   MODGATE_CI_SKIP_APT=1   do not check/install apt packages
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
REPO="$(pwd)"
say() { printf '==> %s\n' "$*"; }
die() { printf 'ci: %s\n' "$*" >&2; echo "0 passed, 1 failed"; exit 1; }

ASAN=0
FUZZ=0
FUZZ_SECONDS=60
TARGETS=()
while (($#)); do
  case "$1" in
    --asan) ASAN=1; shift ;;
    --fuzz)
      FUZZ=1; shift
      if [[ "${1:-}" =~ ^[0-9]+$ ]]; then FUZZ_SECONDS="$1"; shift; fi ;;
    --) shift; TARGETS=("$@"); break ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (try --help)" ;;
  esac
done
((${#TARGETS[@]})) || TARGETS=(//...)

start_time=$SECONDS

# ---- packages --------------------------------------------------------------
PACKAGES=(bazel-bootstrap libevent-dev libnghttp2-dev nghttp2-client android-libboringssl-dev
  libprotobuf-dev protobuf-compiler libabsl-dev prometheus-cpp-dev libgtest-dev libgmock-dev
  libyaml-cpp-dev libhttp-parser-dev libminizip-dev libxxhash-dev pkgconf g++ ca-certificates
  openssl golang-go curl python3 python3-h2 python3-grpcio nginx)
# --fuzz builds with clang and links its libFuzzer runtime.
((FUZZ)) && PACKAGES+=(clang libclang-rt-14-dev)

if [[ "${MODGATE_CI_SKIP_APT:-0}" != 1 ]]; then
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    SUDO=()
    if [[ "$(id -u)" != 0 ]]; then
      command -v sudo >/dev/null || die "not root and no sudo: cannot install ${missing[*]}"
      SUDO=(sudo)
    fi
    APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
    say "installing ${missing[*]}"
    if ! "${APT[@]}" install -y --no-install-recommends "${missing[@]}"; then
      say "install failed; apt-get update and retry"
      "${APT[@]}" update || die "apt-get update failed"
      "${APT[@]}" install -y --no-install-recommends "${missing[@]}" || die "apt-get install failed"
    fi
  fi
fi
for t in bazel go python3 curl nghttp h2load; do
  command -v "$t" >/dev/null || die "$t not found after installing packages"
done

# ---- fixture origin (once) -------------------------------------------------
if [[ -n "${MODGATE_FIXTURE_ORIGIN:-}" ]]; then
  ORIGIN="$(cd "$MODGATE_FIXTURE_ORIGIN" 2>/dev/null && pwd)" || die "MODGATE_FIXTURE_ORIGIN=$MODGATE_FIXTURE_ORIGIN is not a directory"
else
  FIXTURES="${MODGATE_FIXTURES_DIR:-$REPO/../shared/fixtures}"
  if [[ -z "${MODGATE_FIXTURES_DIR:-}" && ! -x "$FIXTURES/make-origin.sh" ]]; then
    # A throwaway clone (git clone . "$(mktemp -d)"): the fixtures sit
    # beside the checkout it was cloned from.
    upstream="$(git -C "$REPO" config --get remote.origin.url 2>/dev/null || true)"
    [[ -d "$upstream" && -x "$upstream/../shared/fixtures/make-origin.sh" ]] &&
      FIXTURES="$upstream/../shared/fixtures"
  fi
  [[ -x "$FIXTURES/make-origin.sh" ]] ||
    die "no $FIXTURES/make-origin.sh: set MODGATE_FIXTURES_DIR (or MODGATE_FIXTURE_ORIGIN)"
  FIXTURES="$(cd "$FIXTURES" && pwd)"
  CACHE="${MODGATE_CI_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/modgate-ci}"
  mkdir -p "$CACHE" || die "cannot create $CACHE"
  # Rebuilt when the generator, corpus or Debian package set changes.
  key="$( (cat "$FIXTURES/make-origin.sh" "$FIXTURES/corpus.txt" "$FIXTURES"/gen/*.go 2>/dev/null
    dpkg-query -W 2>/dev/null | grep -E '^golang-' ) | sha256sum | cut -c1-16)"
  ORIGIN="$CACHE/fixture-origin"
  if [[ -f "$ORIGIN/sumdb.env" && "$(cat "$ORIGIN/.ci-key" 2>/dev/null)" == "$key" ]]; then
    say "fixture origin: reusing $ORIGIN"
  else
    say "fixture origin: building $ORIGIN"
    rm -rf "$ORIGIN"
    "$FIXTURES/make-origin.sh" "$ORIGIN" || die "make-origin.sh failed"
    echo "$key" >"$ORIGIN/.ci-key"
  fi
fi
[[ -f "$ORIGIN/sumdb.env" && -f "$ORIGIN/manifest.txt" ]] || die "$ORIGIN is not a fixture origin"

# ---- fuzz mode -------------------------------------------------------------
if ((FUZZ)); then
  # shellcheck disable=SC2206
  STARTUP=(${BAZEL_STARTUP_OPTS:-})
  CACHE_DIR="${MODGATE_CI_CACHE:-$HOME/.cache/modgate-ci}"
  # clang is another C++ toolchain: its own output base, so the gcc build
  # of the normal suite is not thrown away.
  FUZZ_BAZEL=("${BAZEL:-bazel}" --output_base="$CACHE_DIR/bazel-fuzz" "${STARTUP[@]}")
  mapfile -t fuzzers < <("${FUZZ_BAZEL[@]}" query 'attr(tags, manual, kind(cc_binary, //test/fuzz:*))' 2>/dev/null)
  ((${#fuzzers[@]})) || die "no fuzz targets found under //test/fuzz"
  say "building ${#fuzzers[@]} fuzzers with clang"
  "${FUZZ_BAZEL[@]}" build --config=fuzz "${fuzzers[@]}" || die "the fuzzers did not build"
  bin="$("${FUZZ_BAZEL[@]}" info --config=fuzz bazel-bin 2>/dev/null)"
  passed=0 failed=0
  for target in "${fuzzers[@]}"; do
    name="${target##*:}" test_name="${name%_fuzzer}"
    work="$CACHE_DIR/fuzz/$test_name"
    rm -rf "$work"; mkdir -p "$work/corpus" "$work/artifacts"
    cp -a "$REPO/test/fuzz/corpus/$test_name/." "$work/corpus/"
    say "fuzzing $test_name for ${FUZZ_SECONDS}s"
    if "$bin/test/fuzz/$name" -max_total_time="$FUZZ_SECONDS" -timeout=25 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1; then
      passed=$((passed + 1)); echo "PASS: fuzz $test_name ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$') runs)"
    else
      failed=$((failed + 1)); echo "FAIL: fuzz $test_name: crash input(s) in $work/artifacts/ (log $work/log)"
      grep -E 'ERROR|SUMMARY' "$work/log" | head -5 | sed 's/^/    /'
    fi
  done
  "${FUZZ_BAZEL[@]}" shutdown >/dev/null 2>&1
  say "fuzzing done in $((SECONDS - start_time))s"
  echo "$passed passed, $failed failed"
  ((failed == 0)) || exit 1
  exit 0
fi

# ---- bazel test ------------------------------------------------------------
# shellcheck disable=SC2206
STARTUP=(${BAZEL_STARTUP_OPTS:-})
# shellcheck disable=SC2206
EXTRA=(${BAZEL_TEST_FLAGS:-})
BAZEL_CMD=("${BAZEL:-bazel}" "${STARTUP[@]}")
INFO_FLAGS=()
((ASAN)) && EXTRA=(--config=asan "${EXTRA[@]}") && INFO_FLAGS=(--config=asan)
CHECKS=() # extra cases for count_results: --extra-pass/--extra-fail NAME

BEP="$(mktemp "${TMPDIR:-/tmp}/modgate-bep.XXXXXX.json")"
trap 'rm -f "$BEP"' EXIT
say "bazel test ${EXTRA[*]} ${TARGETS[*]}"
"${BAZEL_CMD[@]}" test --keep_going --test_output=errors \
  --test_env=MODGATE_FIXTURE_ORIGIN="$ORIGIN" \
  --build_event_json_file="$BEP" \
  "${EXTRA[@]}" -- "${TARGETS[@]}"
bazel_rc=$?
# 0 all passed, 3 some tests failed, 4 no tests: all else means not everything ran.
status=0
case $bazel_rc in
  0 | 3) ;;
  4) say "bazel found no test targets" ;;
  *) say "bazel test exited with $bazel_rc (build failure or interrupted)"; status=1
     CHECKS+=(--extra-fail "bazel test exited with $bazel_rc (build failure or interrupted)") ;;
esac

# ---- no OpenSSL 3 in the binary -------------------------------------------
BIN_DIR="$("${BAZEL_CMD[@]}" info "${INFO_FLAGS[@]}" bazel-bin 2>/dev/null)"
BIN="$BIN_DIR/source/exe/modgate"
if ((status != 0)); then
  say "ldd check skipped: the build did not complete"
elif [[ -x "$BIN" ]]; then
  if ldd "$BIN" 2>/dev/null | grep -E 'lib(ssl|crypto)\.so\.3'; then
    say "$BIN is linked against OpenSSL 3 (BoringSSL and OpenSSL must never share a process)"
    CHECKS+=(--extra-fail "ldd modgate: linked against OpenSSL 3")
  else
    say "ldd: $BIN has no libssl.so.3/libcrypto.so.3"
    CHECKS+=(--extra-pass "ldd modgate: no libssl.so.3/libcrypto.so.3")
  fi
else
  say "$BIN was not built"
  CHECKS+=(--extra-fail "ldd modgate: $BIN was not built")
fi

# ---- count -----------------------------------------------------------------
TESTLOGS="$("${BAZEL_CMD[@]}" info "${INFO_FLAGS[@]}" bazel-testlogs 2>/dev/null)"
say "test results (took $((SECONDS - start_time))s)"
python3 tools/ci/count_results.py --bep "$BEP" "${CHECKS[@]}" "$TESTLOGS"
count_rc=$?
((status == 0)) && status=$count_rc
exit "$status"
