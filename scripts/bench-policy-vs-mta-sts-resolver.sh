#!/usr/bin/env bash
# `optls policy serve` and Debian's postfix-mta-sts-resolver (mta-sts-daemon) side by side, same machine, same
# world (scripts/policy-world.sh: BIND for the zone bench.test and an HTTPS policy host), same load
# (`optls bench socketmap`: persistent connections, one request in flight each, as Postfix asks), each service
# pinned to CPU 0 and the load on CPU 1. Everything runs in a private network and mount namespace
# (`unshare --net --mount`): the services see only its loopback and a resolv.conf naming the world's BIND.
#
# Phases, for each service in turn (queries/s, latency, and the service's CPU time while it ran):
#   hits       domains with an MTA-STS policy in enforce mode, asked for again and again (policy cached)
#   nopolicy   domains without an _mta-sts record, asked for again and again
#   misses     names never asked for before (each one needs DNS lookups)
#
# Usage: scripts/bench-policy-vs-mta-sts-resolver.sh [--duration 20s] [--connections 8] [--domains 200]
#                                                     [--cache sqlite|memory] [--out DIR]
# --cache: where both keep MTA-STS policies: sqlite (the default of both: Debian's /etc/mta-sts-daemon.yml and
# `optls policy serve`) or memory (mta-sts-daemon's "internal" cache).
# Needs root, postfix-mta-sts-resolver, bind9, openssl (scripts/install-peers.sh) and the optls jar (built on
# first use). Only loopback addresses inside the namespace are used.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration=20s
connections=8
domains=200
cache=sqlite
out=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --duration) duration=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --domains) domains=$2; shift 2 ;;
        --cache) cache=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-policy: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
out=${out:-/tmp/optls-policy-bench-$(date +%Y%m%d-%H%M%S)}
case $cache in
    sqlite | memory) ;;
    *) echo "bench-policy: --cache is sqlite or memory, not '$cache'" >&2; exit 2 ;;
esac

if [[ ${OPTLS_POLICY_BENCH_INSIDE:-} != 1 ]]; then
    [[ $(id -u) == 0 ]] || { echo "bench-policy: needs root (a private network namespace, ports 53/443 in it)" >&2; exit 1; }
    for tool in mta-sts-daemon named openssl unshare taskset; do
        command -v "$tool" >/dev/null || { echo "bench-policy: $tool is missing; run scripts/install-peers.sh" >&2; exit 1; }
    done
    "$here/optls" --version >/dev/null # builds the jar on first use, outside the namespace (Maven needs the network)
    mkdir -p "$out"
    exec env OPTLS_POLICY_BENCH_INSIDE=1 unshare --net --mount "$0" --duration "$duration" \
        --connections "$connections" --domains "$domains" --cache "$cache" --out "$out"
fi

ip link set lo up
world="$out/world"
"$here/scripts/policy-world.sh" start "$world" "$domains" >/dev/null
mount --bind "$world/resolv.conf" /etc/resolv.conf
jar="$here/optls-cli/target/optls.jar"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    "$here/scripts/policy-world.sh" stop "$world" || true
}
trap cleanup EXIT

if [[ $cache == sqlite ]]; then
    printf 'host: 127.0.0.1\nport: 8461\ncache:\n  type: sqlite\n  options:\n    filename: "%s"\n' \
        "$out/mta-sts-daemon-cache.db" >"$out/mta-sts-daemon.yml"
    optls_cache="sqlite:$out/optls-mta-sts.sqlite"
else
    printf 'host: 127.0.0.1\nport: 8461\ncache:\n  type: internal\n' >"$out/mta-sts-daemon.yml"
    optls_cache=memory
fi
rm -f "$out/mta-sts-daemon-cache.db" "$out/optls-mta-sts.sqlite"
SSL_CERT_FILE="$world/ca.pem" taskset -c 0 /usr/bin/python3 /usr/bin/mta-sts-daemon -c "$out/mta-sts-daemon.yml" \
    -v warn >"$out/mta-sts-daemon.log" 2>&1 &
pids+=($!)
resolver_pid=$!
taskset -c 0 java ${OPTLS_JAVA_OPTS:-} -jar "$jar" policy serve --listen 127.0.0.1:8462 --dns 127.0.0.1 \
    --dns-trust-ad --mta-sts-ca "$world/ca.pem" --mta-sts-cache "$optls_cache" >"$out/optls-policy.log" 2>&1 &
pids+=($!)
optls_pid=$!

for port in 8461 8462; do
    for _ in $(seq 100); do
        (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
        sleep 0.1
    done
done

seq -f "d%g.bench.test" 1 $((domains / 2)) >"$out/hits.keys"
seq -f "d%g.bench.test" $((domains * 3 / 4 + 1)) "$domains" >"$out/nopolicy.keys"
seq -f "u%g.bench.test" 1 500000 >"$out/misses-8461.keys"
seq -f "v%g.bench.test" 1 500000 >"$out/misses-8462.keys"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

summary="$out/summary.txt"
: >"$summary"
for phase in hits nopolicy misses; do
    for service in mta-sts-daemon:8461:$resolver_pid optls:8462:$optls_pid; do
        IFS=: read -r name port pid <<<"$service"
        keys="$out/$phase.keys"
        [[ $phase == misses ]] && keys="$out/misses-$port.keys"
        warm=10s
        [[ $phase == misses ]] && warm=0s
        echo "== $phase: $name" >&2
        if [[ $phase != misses ]]; then
            taskset -c 1 java -jar "$jar" bench socketmap "127.0.0.1:$port" --keys-file "$keys" \
                --connections "$connections" --duration "$warm" >/dev/null 2>&1
        fi
        before=$(cpu_ticks "$pid")
        taskset -c 1 java -jar "$jar" bench socketmap "127.0.0.1:$port" --keys-file "$keys" \
            --connections "$connections" --duration "$duration" --json >"$out/$phase-$name.json" \
            2>"$out/$phase-$name.progress"
        after=$(cpu_ticks "$pid")
        cpu=$(awk -v t=$((after - before)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
        /usr/bin/python3 - "$out/$phase-$name.json" "$phase" "$name" "$cpu" >>"$summary" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
phase, name, cpu = sys.argv[2], sys.argv[3], float(sys.argv[4])
per_cpu = r["queries"] / cpu if cpu > 0 else float("inf")
print(f"{phase:9} {name:15} {r['perSecond']:10.0f} q/s  {per_cpu:10.0f} q/CPU-s  "
      f"p50 {r['latencyMicros']['p50']/1000:7.3f} ms  p99 {r['latencyMicros']['p99']/1000:8.3f} ms  "
      f"cpu {cpu:6.2f} s  replies {r['replies']}  errors {sum(r['errors'].values())}")
PY
    done
done
cat "$summary"
echo "details in $out" >&2
