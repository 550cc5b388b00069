#!/usr/bin/env bash
# The optls gateway against stunnel, side by side on this machine (issue 4, "Performance").
#
# Both terminate STARTTLS for SMTP in front of the same plaintext backend (scripts/bench/smtp-backend.py,
# a small asyncio SMTP responder), with the same ECDSA P-256 certificate, each pinned to CPU 0 with
# taskset; the load generator (optls bench, BoringSSL client engines) and the backend run on CPU 1.
# Figures: full TLS 1.3 sessions (one full handshake each) per server CPU-second, STARTTLS session latency
# at 8 concurrent sessions, bulk MB per server CPU-second, RSS growth per idle upgraded connection; every
# figure also as the ratio gateway/stunnel from the same run. A third server, scripts/bench/BareResponder.java
# (Netty and BoringSSL set up as in the gateway, answering the same SMTP dialogue itself, no backend), is
# measured in the same rounds for sessions and bulk: the ceiling of what Netty and BoringSSL allow here, so that
# gateway/bare shows what the gateway's backend connection, relay and checks cost on top. Server CPU time is
# utime+stime of the server process from /proc/PID/stat, before and after each phase. Only 127.0.0.1 is used.
#
# usage: scripts/bench-gateway-vs-stunnel.sh [--duration SECONDS] [--rounds N] [--idle N] [--bulk SIZE] [--out DIR]
#   --duration  seconds of each sessions phase (default 15; the latency phases take half of it)
#   --rounds    rounds of the throughput phases (default 3): each round measures the gateway, then stunnel,
#               for sessions and for bulk; the summary reports the median of the per-round ratios, since
#               this VM's speed drifts by up to 2x over minutes
#   --warmup    seconds of warm-up sessions before measuring each server (default 45: the JIT compiles the
#               gateway first; a shorter warm-up counts the compiler's CPU time in the figures)
#   --idle      idle upgraded connections (default 3000; every one costs the server two file descriptors,
#               so N is capped to (ulimit -n - 200) / 2: 9900 with this machine's hard limit of 20000)
#   --bulk      payload of the bulk phase (default 200MB)
#   --groups    key-exchange groups the load generator offers (default X25519: the group stunnel's OpenSSL 3.0
#               picks, so that both servers do the same handshake; "default" offers BoringSSL's list, where the
#               gateway picks the hybrid X25519MLKEM768, which stunnel cannot)
#   --out       keep the raw reports and logs there (default: a temporary directory, printed at the end)
# The default run takes about 9 minutes. It is never run by the test suite.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration=15
rounds=3
warmup=45
groups=X25519
idle=3000
bulk=200MB
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --idle) idle="$2"; shift 2 ;;
    --bulk) bulk="$2"; shift 2 ;;
    --groups) groups="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$(nproc)" -lt 2 ]; then
  echo "needs 2 CPUs (server on CPU 0, load on CPU 1); this machine has $(nproc)" >&2
  exit 2
fi
if ! command -v stunnel4 >/dev/null; then
  echo "installing stunnel4 (Debian package)..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q stunnel4 >&2
fi
for tool in taskset python3 openssl java; do
  command -v "$tool" >/dev/null || { echo "missing $tool: install it first" >&2; exit 2; }
done

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fdmax=$(( ($(ulimit -n) - 200) / 2 ))
if [ "$idle" -gt "$fdmax" ]; then
  echo "note: --idle $idle needs $((2 * idle + 200)) file descriptors in the server; ulimit -n is $(ulimit -n):" \
       "using $fdmax connections (raise the hard limit, e.g. 'ulimit -Hn 65536' as root, for more)" >&2
  idle=$fdmax
fi

"$here/optls" --version >/dev/null   # builds optls-cli/target/optls.jar when needed
jar="$here/optls-cli/target/optls.jar"

work="${out:-$(mktemp -d /tmp/optls-vs-stunnel.XXXXXX)}"
mkdir -p "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# One certificate for both: ECDSA P-256, for localhost and 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
backend_port=$(free_port); gateway_port=$(free_port); stunnel_port=$(free_port); bare_port=$(free_port)

taskset -c 1 python3 "$here/scripts/bench/smtp-backend.py" "$backend_port" >"$work/backend.log" 2>&1 &
pids+=($!)

cat >"$work/gateway.toml" <<TOML
[[route]]
name = "smtp"
protocol = "smtp"
listen = "127.0.0.1:$gateway_port"
listen-tls = "starttls"
connect = "127.0.0.1:$backend_port"
certificate = "cert.pem"
key = "key.pem"
hostname = "localhost"
engine = "boringssl"
# the load generator is one client address: the per-client default (1000) would refuse the idle phase
max-connections = 20000
max-connections-per-client = 20000
TOML
gateway_opts="-Xms256m -Xmx256m -XX:+UseSerialGC"
# shellcheck disable=SC2086
taskset -c 0 java $gateway_opts -jar "$jar" gateway --config "$work/gateway.toml" >"$work/gateway.log" 2>&1 &
gateway_pid=$!
pids+=($gateway_pid)

cat >"$work/stunnel.conf" <<CONF
foreground = yes
pid =
syslog = no
output = $work/stunnel.log
debug = 3
[smtp]
accept = 127.0.0.1:$stunnel_port
connect = 127.0.0.1:$backend_port
protocol = smtp
cert = $work/cert.pem
key = $work/key.pem
sslVersionMin = TLSv1.2
CONF
taskset -c 0 stunnel4 "$work/stunnel.conf" >"$work/stunnel.out" 2>&1 &
stunnel_pid=$!
pids+=($stunnel_pid)

wait_port() {
  for _ in $(seq 1 100); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),1).close()" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "nothing listens on 127.0.0.1:$1; see $work/*.log" >&2
  exit 1
}
# shellcheck disable=SC2086
taskset -c 0 java $gateway_opts -cp "$jar" "$here/scripts/bench/BareResponder.java" "$bare_port" "$work/cert.pem" \
  "$work/key.pem" >"$work/bare.log" 2>&1 &
bare_pid=$!
pids+=($bare_pid)

wait_port "$backend_port"; wait_port "$gateway_port"; wait_port "$stunnel_port"; wait_port "$bare_port"

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime, in clock ticks, all threads
jit() {   # the part of it spent by the JVM's JIT compiler threads (0 for stunnel)
  local t=0 d
  for d in /proc/"$1"/task/*; do
    case "$(cat "$d/comm" 2>/dev/null)" in
      C1\ CompilerThre*|C2\ CompilerThre*) t=$(( t + $(sed 's/^.*) //' "$d/stat" | awk '{print $12 + $13}') )) ;;
    esac
  done
  echo "$t"
}
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }   # KiB
group_opts=()
if [ "$groups" != default ]; then group_opts=(--groups "$groups"); fi
bench() { taskset -c 1 java -jar "$jar" bench "$@" --level encrypt --engine boringssl "${group_opts[@]}" --json 2>>"$work/bench-progress.log"; }
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))" "$1" "$2"; }

steal() { awk '/^cpu /{print $9}' /proc/stat; }   # ticks the hypervisor gave to others, all CPUs

warm() {   # name port seconds: not measured (the gateway's JIT compiles its session and relay paths)
  echo "== warm-up of $1" >&2
  bench sessions "smtp://127.0.0.1:$2" --concurrency 16 --duration "$3s" >/dev/null
  bench bulk "smtp://127.0.0.1:$2" --size "$bulk" >/dev/null
}

sessions_round() {   # name pid port round: full-handshake sessions per server CPU-second
  local name=$1 pid=$2 port=$3 r=$4 c0 c1 j0 j1 s0 s1
  c0=$(cpu "$pid"); j0=$(jit "$pid"); s0=$(steal)
  bench sessions "smtp://127.0.0.1:$port" --concurrency 32 --duration "${duration}s" >"$work/$name-sessions-$r.json"
  c1=$(cpu "$pid"); j1=$(jit "$pid"); s1=$(steal)
  echo "$(( c1 - c0 )) $(( j1 - j0 )) $(( s1 - s0 ))" >"$work/$name-sessions-$r.cpu"
}

bulk_round() {   # name pid port round: bulk MB per server CPU-second
  local name=$1 pid=$2 port=$3 r=$4 c0 c1 j0 j1 s0 s1
  c0=$(cpu "$pid"); j0=$(jit "$pid"); s0=$(steal)
  bench bulk "smtp://127.0.0.1:$port" --size "$bulk" >"$work/$name-bulk-$r.json"
  c1=$(cpu "$pid"); j1=$(jit "$pid"); s1=$(steal)
  echo "$(( c1 - c0 )) $(( j1 - j0 )) $(( s1 - s0 ))" >"$work/$name-bulk-$r.cpu"
}

latency() {   # name port
  local uri="smtp://127.0.0.1:$2"
  # The generator warms up its own JIT first (--warmup), so that its compiler does not run on CPU 1 during
  # the measurement.
  bench sessions "$uri" --concurrency 8 --warmup 10s --duration "$(( (duration + 1) / 2 ))s" >"$work/$1-latency.json"
  bench sessions "$uri" --concurrency 1 --warmup 10s --duration "$(( (duration + 1) / 2 ))s" >"$work/$1-latency1.json"
}

idle_memory() {   # name pid port: RSS before, then N upgraded connections held (each with its backend), RSS again
  local name=$1 pid=$2 port=$3 r0 r1 idle_pid
  r0=$(rss "$pid")
  : >"$work/$name-idle.err"
  taskset -c 1 java -jar "$jar" bench idle "smtp://127.0.0.1:$port" --level encrypt --engine boringssl \
    "${group_opts[@]}" --json --connections "$idle" --parallel 64 --hold 600s >"$work/$name-idle.json" \
    2>"$work/$name-idle.err" &
  idle_pid=$!
  for _ in $(seq 1 600); do grep -q "holding" "$work/$name-idle.err" && break; sleep 0.5; done
  sleep 3
  r1=$(rss "$pid")
  grep -o "holding [0-9]* upgraded connections ([0-9]* failed)" "$work/$name-idle.err" >"$work/$name-idle.held" || true
  echo "$r0 $r1" >"$work/$name-idle.rss"
  kill "$idle_pid" 2>/dev/null || true
  wait "$idle_pid" 2>/dev/null || true
  sleep 2
}

# This VM's speed drifts by 2x over minutes: the throughput phases alternate the two servers in rounds, and
# the summary gives the median of the per-round ratios (each from two phases a few seconds apart).
warm gateway "$gateway_port" "$warmup"
warm stunnel "$stunnel_port" 5
warm bare "$bare_port" "$warmup"
for r in $(seq 1 "$rounds"); do
  echo "== round $r of $rounds: sessions and bulk, gateway, stunnel, bare responder" >&2
  sessions_round gateway "$gateway_pid" "$gateway_port" "$r"
  sessions_round stunnel "$stunnel_pid" "$stunnel_port" "$r"
  sessions_round bare "$bare_pid" "$bare_port" "$r"
  bulk_round gateway "$gateway_pid" "$gateway_port" "$r"
  bulk_round stunnel "$stunnel_pid" "$stunnel_port" "$r"
  bulk_round bare "$bare_pid" "$bare_port" "$r"
done
echo "== latency and idle memory" >&2
latency gateway "$gateway_port"
latency stunnel "$stunnel_port"
idle_memory gateway "$gateway_pid" "$gateway_port"
idle_memory stunnel "$stunnel_pid" "$stunnel_port"

python3 - "$work" "$ticks" "$rounds" <<'PY'
import json, re, statistics, sys
work, ticks, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(name, phase): return json.load(open(f"{work}/{name}-{phase}.json"))
def cpu(name, phase):   # server CPU-s, of which JIT, steal (all CPUs) in seconds
    return [int(x) / ticks for x in open(f"{work}/{name}-{phase}.cpu").read().split()]
def per_round(name):
    out = []
    for r in range(1, rounds + 1):
        s, b = load(name, f"sessions-{r}"), load(name, f"bulk-{r}")
        sc, sj, ss = cpu(name, f"sessions-{r}")
        bc, bj, bs = cpu(name, f"bulk-{r}")
        out.append({"sessions": s["completed"], "session errors": sum(s["errors"].values()),
                    "sessions/s": s["perSecond"], "server CPU s": sc, "JIT CPU s": sj, "steal s": ss,
                    "handshakes per CPU-s": s["completed"] / max(sc, 1e-9),
                    "bulk MB/s": b["megabytesPerSecond"], "bulk server CPU s": bc, "bulk JIT CPU s": bj,
                    "bulk steal s": bs, "bulk MB per CPU-s": b["bytes"] / 1e6 / max(bc, 1e-9)})
    return out
rows, rounds_of = {}, {}
for name in ("gateway", "stunnel"):
    rs = rounds_of[name] = per_round(name)
    l, l1 = load(name, "latency"), load(name, "latency1")
    held_line = open(f"{work}/{name}-idle.held").read()
    m = re.search(r"holding (\d+) upgraded connections \((\d+) failed\)", held_line)
    held = int(m.group(1)) if m else 0
    r0, r1 = map(int, open(f"{work}/{name}-idle.rss").read().split())
    med = lambda k: statistics.median(x[k] for x in rs)
    rows[name] = {
        "sessions (all rounds)": sum(x["sessions"] for x in rs),
        "session errors": sum(x["session errors"] for x in rs),
        "handshakes per CPU-s (median)": med("handshakes per CPU-s"),
        "p50 ms @8": l["latencyMicros"]["p50"] / 1000, "p99 ms @8": l["latencyMicros"]["p99"] / 1000,
        "p50 ms @1": l1["latencyMicros"]["p50"] / 1000, "p99 ms @1": l1["latencyMicros"]["p99"] / 1000,
        "sessions/s @8": l["perSecond"],
        "bulk MB per CPU-s (median)": med("bulk MB per CPU-s"),
        "idle held": held, "RSS before KiB": r0, "RSS after KiB": r1,
        "KiB per idle conn": (r1 - r0) / held if held else float("nan"),
    }
g, t = rows["gateway"], rows["stunnel"]
rounds_of["bare"] = per_round("bare")
print("hs: full-handshake sessions per server CPU-s; MB: bulk MB per server CPU-s; gw/st, gw/bare, bare/st: ratios")
print(f"{'round':6} {'gw hs':>7} {'st hs':>7} {'bare hs':>7} {'gw/st':>6} {'gw/bare':>7} {'bare/st':>7}"
      f" {'gw MB':>7} {'st MB':>7} {'bare MB':>7} {'gw/st':>6} {'gw/bare':>7} {'bare/st':>7} {'gw JIT s':>8} {'steal s':>7}")
ratios_hs, ratios_bulk, bare_hs, bare_bulk = [], [], [], []
for r, (a, b, c) in enumerate(zip(rounds_of["gateway"], rounds_of["stunnel"], rounds_of["bare"]), 1):
    ah, bh, ch = (x["handshakes per CPU-s"] for x in (a, b, c))
    am, bm, cm = (x["bulk MB per CPU-s"] for x in (a, b, c))
    ratios_hs.append(ah / bh); ratios_bulk.append(am / bm); bare_hs.append(ch / bh); bare_bulk.append(cm / bm)
    steal = sum(x["steal s"] + x["bulk steal s"] for x in (a, b, c))
    print(f"{r:<6} {ah:7.0f} {bh:7.0f} {ch:7.0f} {ah / bh:6.2f} {ah / ch:7.2f} {ch / bh:7.2f}"
          f" {am:7.0f} {bm:7.0f} {cm:7.0f} {am / bm:6.2f} {am / cm:7.2f} {cm / bm:7.2f}"
          f" {a['JIT CPU s'] + a['bulk JIT CPU s']:8.2f} {steal:7.2f}")
print(f"bare responder/stunnel, median of rounds: handshakes {statistics.median(bare_hs):.2f},"
      f" bulk {statistics.median(bare_bulk):.2f}")
print()
print(f"{'figure':32} {'gateway':>12} {'stunnel':>12} {'gateway/stunnel':>16}")
for k in g:
    ratio = g[k] / t[k] if isinstance(t[k], (int, float)) and t[k] else float("nan")
    if k == "handshakes per CPU-s (median)": ratio = statistics.median(ratios_hs)
    if k == "bulk MB per CPU-s (median)": ratio = statistics.median(ratios_bulk)
    print(f"{k:32} {g[k]:12.2f} {t[k]:12.2f} {ratio:16.2f}")
print("(the two median rows: the ratio is the median of the per-round ratios)")
json.dump({"rows": rows, "rounds": rounds_of, "handshake ratios": ratios_hs, "bulk ratios": ratios_bulk,
           "bare/stunnel handshake ratios": bare_hs, "bare/stunnel bulk ratios": bare_bulk},
          open(f"{work}/summary.json", "w"), indent=1)
PY
echo "raw reports, logs and summary.json: $work" >&2
