#!/usr/bin/env bash
# Consistent hashing on the module path (lb_policy RING_HASH and MAGLEV,
# default hash_policy = module_path) over real origins:
#   - with 3 endpoints every module (list, @latest, and .info/.mod/.zip of
#     every version: the whole fixture, plus 400 synthetic modules that every
#     origin answers 404) is fetched from exactly one origin;
#   - with a 4th endpoint added (a second config; modgate restarted on a
#     fresh cache, so everything is fetched again) modules are still pinned
#     to one origin each, and 1/N of the 400 synthetic modules move: the
#     share must be within 1/4 +- 8 percentage points (17..33%) for both
#     RING_HASH and MAGLEV; the moved modules must go to the new endpoint:
#     all of them under RING_HASH (old endpoints keep their ring points), at
#     least 95% under MAGLEV (its disruption is near-minimal, not zero).
# The measured shares are printed in the PASS/FAIL lines.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
integ_init

NMOD="${RING_HASH_MODULES:-400}"
for o in A B C D; do start_named_origin "$o"; done

# The request paths: the fixture's modules (every artifact of every version)
# and NMOD synthetic ones (404 everywhere, never cached as a hit: each path
# is asked once per run).
paths="$WORK/paths"
{
  awk '!/^#/ && NF >= 2 { print $1, $2 }' "$FIXTURE/manifest.txt" | while read -r m v; do
    em="$(go_escape "$m")" ev="$(go_escape "$v")"
    for ext in info mod zip; do echo "/$em/@v/$ev.$ext"; done
  done
  awk '!/^#/ && NF >= 2 { print $1 }' "$FIXTURE/manifest.txt" | sort -u | while read -r m; do
    em="$(go_escape "$m")"
    echo "/$em/@v/list"
    echo "/$em/@latest"
  done
  for ((i = 1; i <= NMOD; i++)); do
    for s in @v/list @latest @v/v1.0.0.info @v/v1.0.0.mod @v/v1.0.0.zip; do echo "/example.com/hash/m$i/$s"; done
  done
} | sort -R >"$paths"
nfix="$(awk '!/^#/ && NF >= 2 { print $1 }' "$FIXTURE/manifest.txt" | sort -u | wc -l)"
log "$(wc -l <"$paths") request paths: $nfix fixture modules, $NMOD synthetic"

# write_cfg FILE POLICY ORIGIN...
write_cfg() {
  local f="$1" pol="$2" o; shift 2
  {
    echo "clusters:"
    echo "  - name: hashed"
    echo "    lb_policy: $pol"
    echo "    endpoints:"
    for o in "$@"; do echo "      - url: ${O_URL[$o]}"; done
    echo "routes:"
    echo "  - name: all"
    echo "    cluster: hashed"
  } >"$f"
}

# hash_run LABEL POLICY ORIGIN...: a fresh modgate over these origins, every
# path once; writes $WORK/map.LABEL ("module origin[,origin...]" per module)
# and checks one origin per module.
hash_run() {
  local label="$1" pol="$2" o; shift 2
  local -A before=()
  for o in A B C D; do before[$o]="$(wc -l <"${O_LOG[$o]}")"; done
  write_cfg "$WORK/$label.yaml" "$pol" "$@"
  start_modgate -c "$WORK/$label.yaml" --cache-dir "$WORK/cache-$label"
  run_paths "$paths" 8 "$WORK/$label.out"
  local total bad5
  total="$(wc -l <"$paths")"
  bad5="$(awk '$2 !~ /^(200|404)$/' "$WORK/$label.out" | head -5 | tr '\n' ';')"
  if [[ -z "$bad5" && "$(json_field "$RUN_JSON" requests)" == "$total" ]]; then
    pass "$label: all $total requests answered 200 (fixture) or 404 (synthetic): $(json_field "$RUN_JSON" status)"
  else fail "$label: all $total requests answered 200 or 404" "summary $RUN_JSON; e.g. $bad5"; fi
  stop_modgate
  # module -> origins that served it, from the new part of each log.
  for o in A B C D; do
    tail -n "+$((before[$o] + 1))" "${O_LOG[$o]}" | awk -v o="$o" '{
      p = substr($2, 2); i = index(p, "/@v/"); j = index(p, "/@latest")
      m = i ? substr(p, 1, i - 1) : (j ? substr(p, 1, j - 1) : p)
      print m, o }'
  done | sort -u | awk '{ if ($1 in a) a[$1] = a[$1] "," $2; else a[$1] = $2 } END { for (m in a) print m, a[m] }' |
    sort >"$WORK/map.$label"
  local nmods multi
  nmods="$(wc -l <"$WORK/map.$label")"
  multi="$(awk '$2 ~ /,/' "$WORK/map.$label")"
  if [[ -z "$multi" && "$nmods" == "$((nfix + NMOD))" ]]; then
    pass "$label: each of the $nmods modules went to exactly one origin ($(awk '{ n[$2]++ } END { for (o in n) printf "%s:%d ", o, n[o] }' "$WORK/map.$label"))"
  else
    fail "$label: each module went to exactly one origin" "$nmods modules seen (want $((nfix + NMOD))); split: $(head -5 <<<"$multi" | tr '\n' ';')"
  fi
}

# movement LABEL MIN MAX NEW MIN_TO_NEW_PERCENT: compare map.LABEL-3 and
# map.LABEL-4 over the synthetic modules.
movement() {
  local label="$1" min="$2" max="$3" new="$4" min_to_new="$5"
  local res moved to_new share
  res="$(join <(grep '^example.com/hash/' "$WORK/map.$label-3") <(grep '^example.com/hash/' "$WORK/map.$label-4") |
    awk -v new="$new" '{ n++; if ($2 != $3) { moved++; if ($3 == new) to_new++ } } END { print n + 0, moved + 0, to_new + 0 }')"
  read -r n moved to_new <<<"$res"
  share="$(awk -v m="$moved" -v n="$n" 'BEGIN { printf "%.1f", n ? 100 * m / n : 0 }')"
  log "$label: $moved of $n modules moved ($share%), $to_new of them to the new endpoint $new"
  if [[ "$n" == "$NMOD" ]] && awk -v s="$share" -v lo="$min" -v hi="$max" 'BEGIN { exit !(s >= lo && s <= hi) }'; then
    pass "$label: adding a 4th endpoint moved $moved of $n modules ($share%, want $min..$max%; $to_new of them to the new endpoint)"
  else
    fail "$label: adding a 4th endpoint moves $min..$max% of the modules" "$moved of $n moved ($share%)"
  fi
  # Ring hash: the old endpoints keep their ring points (the lightest gets
  # minimum_ring_size, whatever the endpoint count), so a module can only
  # move to the new endpoint. Maglev keeps disruption close to minimal but
  # does not promise zero: adding a backend changes the table's fill order,
  # and the Maglev paper (and Envoy) shift a few percent of entries between
  # old backends too (observed here: 0-2 of ~100 moved modules).
  if ((moved > 0 && to_new * 100 >= moved * min_to_new)); then
    pass "$label: $to_new of $moved moved modules went to the new endpoint (want >= $min_to_new%)"
  else
    fail "$label: moved modules go to the new endpoint (>= $min_to_new%)" "$to_new of $moved moved modules went to $new; others moved between old endpoints: $(join <(grep '^example.com/hash/' "$WORK/map.$label-3") <(grep '^example.com/hash/' "$WORK/map.$label-4") | awk -v new="$new" '$2 != $3 && $3 != new' | head -5 | tr '\n' ';')"
  fi
}

# 1/N for N = 4 endpoints after the change, +- 8 percentage points.
hash_run ring-3 RING_HASH A B C
hash_run ring-4 RING_HASH A B C D
movement ring 17 33 D 100
hash_run maglev-3 MAGLEV A B C
hash_run maglev-4 MAGLEV A B C D
movement maglev 17 33 D 95
finish
