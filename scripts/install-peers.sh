#!/bin/sh
# Installs the Debian daemons and clients that optls-interop's tests start on loopback high ports.
# Idempotent and quiet: prints one line per action, does nothing when everything is already there.
# The package scripts must never start a daemon on the standard ports (25, 143, 110...): a
# policy-rc.d that exits 101 forbids it; the tests start private instances themselves.
set -eu

PACKAGES="postfix dovecot-imapd dovecot-pop3d swaks openssl curl python3 ca-certificates procps util-linux"
PACKAGES="$PACKAGES dovecot-managesieved dovecot-sieve sieve-connect"
PACKAGES="$PACKAGES postgresql postgresql-client"
PACKAGES="$PACKAGES slapd ldap-utils"
PACKAGES="$PACKAGES mariadb-server mariadb-client"
PACKAGES="$PACKAGES inn2"
PACKAGES="$PACKAGES inspircd"
PACKAGES="$PACKAGES gnutls-bin"
PACKAGES="$PACKAGES prosody"
PACKAGES="$PACKAGES vsftpd lftp libhiredis0.14 libmemcached11 libmemcachedutil2 libpcre2-posix3"
PACKAGES="$PACKAGES fetchmail"
PACKAGES="$PACKAGES bind9 bind9-utils"
PACKAGES="$PACKAGES haproxy"
PACKAGES="$PACKAGES redis-server"
PACKAGES="$PACKAGES python3-dkim"
PACKAGES="$PACKAGES postfix-mta-sts-resolver"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

say() { echo "install-peers: $*"; }

if [ ! -x /usr/sbin/policy-rc.d ] || ! grep -q "exit 101" /usr/sbin/policy-rc.d 2>/dev/null; then
    say "installing /usr/sbin/policy-rc.d (exit 101) so packages start no daemons"
    printf '#!/bin/sh\n# installed by optls scripts/install-peers.sh: no daemon starts from package scripts\nexit 101\n' \
        | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
fi

# vsftpd and proftpd-core conflict (both provide ftp-server), so ProFTPD (proftpd-core + proftpd-mod-crypto
# for mod_tls) is unpacked, not installed, under /opt/optls-peers/proftpd; its libraries come with PACKAGES.
PROFTPD_ROOT=/opt/optls-peers/proftpd
if [ ! -x "$PROFTPD_ROOT/usr/sbin/proftpd" ] || [ ! -f "$PROFTPD_ROOT/usr/lib/proftpd/mod_tls.so" ]; then
    say "unpacking proftpd-core and proftpd-mod-crypto into $PROFTPD_ROOT (they conflict with vsftpd)"
    debs=$(mktemp -d)
    chmod 777 "$debs"
    if ! (cd "$debs" && apt-get download -qq proftpd-core proftpd-mod-crypto >/dev/null 2>&1); then
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        (cd "$debs" && apt-get download -qq proftpd-core proftpd-mod-crypto >/dev/null 2>&1)
    fi
    $SUDO mkdir -p "$PROFTPD_ROOT"
    for deb in "$debs"/*.deb; do
        $SUDO dpkg-deb -x "$deb" "$PROFTPD_ROOT"
    done
    rm -rf "$debs"
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    say "all peers already installed:$(echo " $PACKAGES")"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive

case "$missing" in
    *" postfix"*)
        say "preseeding postfix/main_mailer_type = No configuration"
        echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
        ;;
esac
case "$missing" in
    *" slapd"*)
        # The tests run private slapd instances; the package's own database is never used.
        say "preseeding slapd/no_configuration = true"
        echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
        ;;
esac

# apt-get update only when the package lists are missing or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
    say "apt-get update (package lists missing or older than a day)"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
fi

apt_install() {
    # With recommends, as on the machines where the interop tests were written.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing >/dev/null
}
# inn2's postinst runs newaliases when /etc/aliases lacks a usenet alias; Postfix without main.cf (the
# preseeded "No configuration") makes that fail. The alias it would add is harmless: add it first.
case "$missing" in
    *" inn2"*)
        if [ -f /etc/aliases ] && ! grep -q '^usenet:' /etc/aliases; then
            say "adding 'usenet: root' to /etc/aliases for inn2's postinst"
            echo "usenet: root" | $SUDO tee -a /etc/aliases >/dev/null
        fi
        ;;
esac

# inn2's postinst needs a domain for innconfval; on a host whose name has none (e.g. "vm") it fails after
# unpacking. Give INN's inn.conf a domain and finish the configuration.
fix_inn2() {
    if [ -f /etc/news/inn.conf ] && ! grep -q '^domain:[[:space:]]*[^[:space:]]' /etc/news/inn.conf; then
        say "inn2: setting 'domain: localdomain' in /etc/news/inn.conf (host name has no domain)"
        $SUDO sed -i 's/^#*[[:space:]]*domain:.*$/domain:                      localdomain/' /etc/news/inn.conf
        grep -q '^domain:' /etc/news/inn.conf || echo "domain: localdomain" | $SUDO tee -a /etc/news/inn.conf >/dev/null
    fi
    $SUDO env DEBIAN_FRONTEND=noninteractive dpkg --configure -a >/dev/null
}

say "apt-get install$missing"
if ! apt_install; then
    case "$missing" in
        *" inn2"*)
            if fix_inn2 && apt_install; then
                say "done after fixing inn2's configuration"
                missing=""
            fi
            ;;
    esac
    if [ -n "$missing" ]; then
        say "install failed; apt-get update and retry once"
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        apt_install || { fix_inn2 && apt_install; }
    fi
fi

say "done: postfix $(postconf -dh mail_version 2>/dev/null || echo '?'), dovecot $(dovecot --version 2>/dev/null || echo '?')"
