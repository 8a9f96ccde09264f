#!/usr/bin/env bash
# modgate vs nginx benchmark (see docs/benchmarks.md).
#
#   tools/bench/run.sh           full run: 3 repetitions, 8 s per load scenario,
#                                writes docs/benchmarks.md (~8 minutes)
#   tools/bench/run.sh --quick   smoke test: 1 repetition, 3 s per scenario,
#                                report in the work directory only
#   tools/bench/run.sh --memory  memory only (~3 minutes): 1 repetition of idle
#                                RSS, idle connections, the storm and the warm-up
#                                peak beside nginx, then the sidecar profile
#                                (sidecar_memory.py) on the test fixture origin
#                                (MODGATE_FIXTURE_ORIGIN, or ~/.cache/modgate-ci/
#                                fixture-origin) if it exists; report in the work
#                                directory only
#   --only A,B                   only these warm scenarios (info_h1, info_h2c,
#                                zip64k_h1, zip10m_h1, list_h1): a development
#                                A/B; no report is written
#   --worktree                   build modgate from the working tree as it is
#                                (default: from a snapshot of the committed HEAD,
#                                so results belong to one commit even while
#                                others have uncommitted edits in source/)
#
# Environment: BENCH_TMP (work dir, default /tmp/modgate-bench),
# BENCH_WORKERS (modgate --concurrency = nginx worker_processes, default 1:
# the servers get one core), BENCH_OUTPUT_BASE (default /tmp/ob-bench),
# BENCH_DOCS (markdown output; default docs/benchmarks.md for full runs).
# Needs: nginx, h2load (nghttp2-client), taskset, python3, bazel, 2+ cores.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TMP=${BENCH_TMP:-/tmp/modgate-bench}
OB=${BENCH_OUTPUT_BASE:-/tmp/ob-bench}
WORKERS=${BENCH_WORKERS:-1}

quick=0
memory=0
worktree=0
only=
while [ $# -gt 0 ]; do
  a=$1
  shift
  case "$a" in
    --only) only=${1:?--only needs a list}; shift ;;
    --quick) quick=1 ;;
    --memory) memory=1 ;;
    --worktree) worktree=1 ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done

for tool in nginx h2load taskset python3 bazel; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 1; }
done
if [ "$(nproc)" -lt 2 ]; then
  echo "run.sh: needs at least 2 cores (client on core 0, servers on core 1)" >&2
  exit 1
fi

# 10,000 idle connections need file descriptors on both ends.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 11000 ]; then
  echo "run.sh: ulimit -n is $(ulimit -n); the idle-connection test needs > 11000" >&2
  exit 1
fi

mkdir -p "$TMP"
if [ "$worktree" = 1 ]; then
  SRC=$REPO
  export BENCH_MODGATE_SOURCE="working tree of $REPO at $(git -C "$REPO" rev-parse --short HEAD), $(git -C "$REPO" status --porcelain -- source api | wc -l) uncommitted changes in source/ api/"
  OB=${BENCH_OUTPUT_BASE:-/tmp/ob-bench}-worktree
else
  # A fixed directory, so Bazel's cache stays valid from one run to the next.
  SRC=$TMP/src
  rm -rf "$SRC" && mkdir -p "$SRC"
  git -C "$REPO" archive HEAD | tar -x -C "$SRC"
  export BENCH_MODGATE_SOURCE="committed HEAD $(git -C "$REPO" rev-parse --short HEAD)"
fi
# --config=release (.bazelrc): the binary users deploy, optimized, stripped and
# linked with Debian's static archives.
echo "run.sh: building modgate from $BENCH_MODGATE_SOURCE (--config=release, output base $OB)" >&2
(cd "$SRC" && bazel --output_base="$OB" build --config=release --experimental_convenience_symlinks=ignore \
  //source/exe:modgate >&2)
BIN="$(cd "$SRC" && bazel --output_base="$OB" info --config=release bazel-bin 2>/dev/null)/source/exe/modgate"
[ -x "$BIN" ] || { echo "run.sh: no binary at $BIN" >&2; exit 1; }
# Run a copy, in case a rebuild happens while the benchmark runs.
cp -f "$BIN" "$TMP/modgate"

python3 "$HERE/gen_modules.py" "$TMP/data" >&2

if [ "$memory" = 1 ]; then
  taskset -c 0 python3 "$HERE/bench.py" --modgate "$TMP/modgate" --data "$TMP/data" \
    --workers "$WORKERS" --memory --reps 1 --workdir "$TMP/memory"
  fixture=${MODGATE_FIXTURE_ORIGIN:-$HOME/.cache/modgate-ci/fixture-origin}
  if [ -f "$fixture/manifest.txt" ]; then
    echo
    echo "sidecar profile (--concurrency 1, default config), fixture origin $fixture:"
    rm -rf "$TMP/sidecar" && mkdir -p "$TMP/sidecar"
    python3 "$HERE/sidecar_memory.py" --modgate "$TMP/modgate" --fixture "$fixture" \
      --workdir "$TMP/sidecar"
  else
    echo "run.sh: no fixture origin at $fixture: sidecar profile skipped" >&2
  fi
  exit 0
elif [ -n "$only" ]; then
  args=(--only "$only" --workdir "$TMP/only")
  [ "$quick" = 1 ] && args+=(--reps 1 --duration 3)
elif [ "$quick" = 1 ]; then
  args=(--reps 1 --duration 3 --workdir "$TMP/quick")
  [ -n "${BENCH_DOCS:-}" ] && args+=(--docs "$BENCH_DOCS")
else
  args=(--reps 3 --duration 8 --workdir "$TMP/full" --docs "${BENCH_DOCS:-$REPO/docs/benchmarks.md}")
fi
# The harness (and the load it generates) runs on core 0; it starts the servers on core 1.
exec taskset -c 0 python3 "$HERE/bench.py" --modgate "$TMP/modgate" --data "$TMP/data" \
  --workers "$WORKERS" "${args[@]}"
