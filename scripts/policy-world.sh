#!/usr/bin/env bash
# A throwaway mail-policy world on loopback, for benchmarks and manual tests of `optls policy serve` next to
# other MTA-STS resolvers (which resolve through /etc/resolv.conf and fetch policies from port 443):
# Run it inside a network and mount namespace of your own (`unshare --net --mount`, then `ip link set lo up`):
# it takes ports 53 and 443 on 127.0.0.1 there and never touches the host's.
#   - BIND 9 authoritative for the zone `bench.test.` on 127.0.0.1:53 with N domains d1..dN:
#       d1..d(N/2)      MTA-STS enforce   (_mta-sts TXT + policy "mx: mx.dK.bench.test")
#       next quarter    MTA-STS testing
#       the rest        no MTA-STS record
#     every domain has an MX; names not in the zone are NXDOMAIN;
#   - an HTTPS server on 127.0.0.1:443 (Python's http.server with ssl) serving each domain's policy at
#     https://mta-sts.dK.bench.test/.well-known/mta-sts.txt with a certificate from a throwaway CA;
#   - a resolv.conf naming 127.0.0.1, to bind-mount over /etc/resolv.conf in that mount namespace, so that
#     the host's resolver configuration is never touched.
#
# Usage: scripts/policy-world.sh start DIR [N]   (prints the environment to source: WORLD_CA, WORLD_RESOLV...)
#        scripts/policy-world.sh stop DIR
# Needs root (ports 53 and 443), bind9, openssl, python3. Only loopback addresses are used.
set -euo pipefail

cmd=${1:?usage: policy-world.sh start|stop DIR [N]}
dir=${2:?usage: policy-world.sh start|stop DIR [N]}
n=${3:-200}
dns_ip=${WORLD_DNS_IP:-127.0.0.1}
https_ip=${WORLD_HTTPS_IP:-127.0.0.1}
py=/usr/bin/python3

stop() {
    for pidfile in "$dir"/named.pid "$dir"/https.pid; do
        if [[ -f $pidfile ]]; then
            kill "$(cat "$pidfile")" 2>/dev/null || true
            rm -f "$pidfile"
        fi
    done
}

if [[ $cmd == stop ]]; then
    stop
    exit 0
fi
[[ $cmd == start ]] || { echo "policy-world.sh: unknown command '$cmd' (start or stop)" >&2; exit 2; }
for tool in named openssl "$py"; do
    command -v "$tool" >/dev/null || { echo "policy-world.sh: $tool is missing (scripts/install-peers.sh installs it)" >&2; exit 1; }
done
mkdir -p "$dir"
stop

# Certificates: a CA and one server certificate naming every mta-sts host.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=optls policy world CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
{
    echo "subjectAltName=@names"
    echo "[names]"
    for ((k = 1; k <= n; k++)); do echo "DNS.$k=mta-sts.d$k.bench.test"; done
} >"$dir/san.cnf"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=mta-sts.d1.bench.test" \
    -keyout "$dir/https.key" -out "$dir/https.csr" 2>/dev/null
openssl x509 -req -in "$dir/https.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
    -extfile "$dir/san.cnf" -out "$dir/https.pem" 2>/dev/null

# The zone.
{
    echo '$TTL 300'
    echo '@ IN SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300'
    echo '@ IN NS ns.bench.test.'
    echo "ns IN A $dns_ip"
    for ((k = 1; k <= n; k++)); do
        echo "d$k IN MX 10 mx.d$k.bench.test."
        echo "mx.d$k IN A 127.0.0.1"
        if ((k <= n * 3 / 4)); then
            echo "_mta-sts.d$k IN TXT \"v=STSv1; id=2026113001;\""
            echo "mta-sts.d$k IN A $https_ip"
        fi
    done
} >"$dir/bench.test.zone"
cat >"$dir/named.conf" <<CONF
controls { };
options {
    directory "$dir";
    listen-on port 53 { $dns_ip; };
    listen-on-v6 { none; };
    recursion no;
    pid-file none;
    dnssec-validation no;
};
zone "bench.test." { type primary; file "$dir/bench.test.zone"; };
CONF
named -g -c "$dir/named.conf" >"$dir/named.log" 2>&1 &
echo $! >"$dir/named.pid"

# The policies and the HTTPS server.
cat >"$dir/https.py" <<PY
import http.server, ssl, sys
N = $n
class Policy(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        k = host[len("mta-sts.d"):-len(".bench.test")] if host.startswith("mta-sts.d") and host.endswith(".bench.test") else ""
        if self.path != "/.well-known/mta-sts.txt" or not k.isdigit() or not 1 <= int(k) <= N * 3 // 4:
            self.send_error(404)
            return
        mode = "enforce" if int(k) <= N // 2 else "testing"
        body = f"version: STSv1\r\nmode: {mode}\r\nmx: mx.d{k}.bench.test\r\nmax_age: 86400\r\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("$https_ip", 443), Policy)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("$dir/https.pem", "$dir/https.key")
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
"$py" "$dir/https.py" >"$dir/https.log" 2>&1 &
echo $! >"$dir/https.pid"
echo "nameserver $dns_ip" >"$dir/resolv.conf"

for _ in $(seq 50); do
    answer=$(dig +short +time=1 +tries=1 -p 53 @"$dns_ip" TXT _mta-sts.d1.bench.test 2>/dev/null || true)
    if [[ $answer == *STSv1* ]] \
        && (echo >/dev/tcp/$https_ip/443) 2>/dev/null; then
        echo "WORLD_DIR=$dir WORLD_CA=$dir/ca.pem WORLD_RESOLV=$dir/resolv.conf WORLD_DNS=$dns_ip WORLD_DOMAINS=$n"
        exit 0
    fi
    sleep 0.2
done
echo "policy-world.sh: the DNS or HTTPS server did not come up; see $dir/named.log and $dir/https.log" >&2
stop
exit 1
