#!/usr/bin/env bash
# Makes real delivery reports: installs real MTAs from Debian's packages, points each at loopback peers
# (bench/bounces/mta/peers.mjs) that refuse, defer, time out and run over quota, sends mail through them
# with short queue timers, and collects the failure reports and delay warnings they send back.
#
#   sudo bash bench/bounces/mta/make-dsns.sh [postfix] [exim] [opensmtpd] [sendmail]   (default: all four)
#
# Needs root (packages, users, the MTAs' own queues) and a machine where that is fine: it installs
# Postfix as the system MTA and unpacks Exim, OpenSMTPD and Sendmail beside it (Debian allows one
# mail-transport-agent package at a time, so the others run from their unpacked files with their own
# configuration). The MTAs are installed one after the other, then run side by side, each with
# its own peers on its own ports. Takes about seven minutes, most of it waiting for the queue
# lifetimes to run out.
#   WORK      scratch folder (default /tmp/mailroom-mta)
#   OUT       where the reports go, one folder per MTA (default $WORK/out)
#   LIFETIME  queue lifetime in minutes (default 4); delay warnings come after 1 minute
#
# The reports are copied by hand into test/fixtures/bounces/mta/<mta>/, where a unit test pins each.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
WORK="${WORK:-/tmp/mailroom-mta}"
OUT="${OUT:-$WORK/out}"
LIFETIME="${LIFETIME:-4}"
mtas=("$@")
[ ${#mtas[@]} -eq 0 ] && mtas=(postfix exim opensmtpd sendmail)
mkdir -p "$WORK" "$OUT"

ports() { # $1: the base port of one MTA's peers
  COLLECT=$1               # peers.mjs: the sender's mailbox
  NEXT_HOP=$(( $1 + 1 ))   # peers.mjs: answers by local part
  SILENT=$(( $1 + 2 ))     # peers.mjs: accepts TCP, never greets
  REFUSED=$(( $1 + 3 ))    # nothing listens here
}

# The recipients, one message each, and what the next hop does with them.
RECIPIENTS=(
  unknown-user@sink.test     # 550 5.1.1 at RCPT: failed at once
  full-mailbox@sink.test     # 552 5.2.2 at RCPT: failed at once
  blocked-sender@sink.test   # 554 5.7.1 at RCPT: failed at once
  later-please@sink.test     # 451 4.3.0 every time: warning, then given up
  quota-soon@sink.test       # 452 4.2.2 every time: warning, then given up
  someone@refused.test       # connection refused: warning, then given up
  someone@silent.test        # no greeting: timed out, warning, then given up
  over-quota@quota.test      # the MTA's own mailbox is over its quota
)

peers_pid=""
cleanup() { # $1: the MTA whose peers and daemon to stop
  [ -n "$peers_pid" ] && kill "$peers_pid" 2>/dev/null || true
  [ -f "$WORK/$1.stop" ] && bash "$WORK/$1.stop" 2>/dev/null || true
  rm -f "$WORK/$1.stop"
}

start_peers() { # $1: output folder
  OUT_DIR="$1" NEXT_HOP_PORT=$NEXT_HOP SILENT_PORT=$SILENT COLLECT_PORT=$COLLECT \
    node "$here/peers.mjs" >> "$1/../peers-$(basename "$1").log" 2>&1 &
  peers_pid=$!
  sleep 1
}
stop_peers() { kill "$peers_pid" 2>/dev/null || true; wait "$peers_pid" 2>/dev/null || true; peers_pid=""; }

message() { # $1 recipient, $2 MTA name
  printf 'From: Bench Sender <sender@sender.test>\nTo: <%s>\nSubject: %s test for %s\nMessage-ID: <%s.%s@sender.test>\nDate: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\nA test message for %s through %s.\n%s\n' \
    "$1" "$2" "$1" "$(date +%s%N)" "$2" "$(date -R)" "$1" "$2" "$(head -c 3000 /dev/zero | tr '\0' 'x' | fold -w 70)"
}

wait_until() { # $1 seconds, $2 command run every 15 s meanwhile (a queue run)
  local end=$(( $(date +%s) + $1 ))
  while [ "$(date +%s)" -lt "$end" ]; do eval "$2" >/dev/null 2>&1 || true; sleep 15; done
}

# ---------------------------------------------------------------------------------------------- Postfix
install_postfix() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix >/dev/null
}
run_postfix() {
  ports 2525
  local out="$OUT/postfix"; mkdir -p "$out"
  postfix stop >/dev/null 2>&1 || true
  postsuper -d ALL >/dev/null 2>&1 || true   # nothing left over from an earlier run
  local d="$WORK/postfix"; mkdir -p "$d/vmail"
  cp /etc/postfix/main.cf "$d/main.cf.orig" 2>/dev/null || true
  printf 'sink.test smtp:[127.0.0.1]:%s\nrefused.test smtp:[127.0.0.1]:%s\nsilent.test smtp:[127.0.0.1]:%s\nsender.test smtp:[127.0.0.1]:%s\n' \
    $NEXT_HOP $REFUSED $SILENT $COLLECT > /etc/postfix/transport
  printf 'over-quota@quota.test quota.test/over-quota\n' > /etc/postfix/vmailbox
  # Its mailbox is already at the limit, so the next message makes it overflow.
  mkdir -p "$d/vmail/quota.test"
  { echo 'From bench  Thu Jan  1 00:00:00 2026'; head -c 200000 /dev/zero | tr '\0' 'x' | fold -w 70; } > "$d/vmail/quota.test/over-quota"
  chown -R nobody:nogroup "$d/vmail"
  postconf -e \
    "myhostname = mta-postfix.test" "mydomain = mta-postfix.test" "myorigin = \$myhostname" "mydestination =" \
    "inet_interfaces = loopback-only" "inet_protocols = ipv4" "smtputf8_enable = no" "relayhost =" \
    "transport_maps = texthash:/etc/postfix/transport" "maillog_file_prefixes = /var, /dev/stdout, $d" "maillog_file = $d/postfix.log" \
    "virtual_mailbox_domains = quota.test" "virtual_mailbox_base = $d/vmail" \
    "virtual_mailbox_maps = texthash:/etc/postfix/vmailbox" "virtual_uid_maps = static:65534" "virtual_gid_maps = static:65534" \
    "virtual_mailbox_limit = 200000" "message_size_limit = 200000" \
    "delay_warning_time = 1m" "maximal_queue_lifetime = ${LIFETIME}m" "bounce_queue_lifetime = ${LIFETIME}m" \
    "queue_run_delay = 15s" "minimal_backoff_time = 15s" "maximal_backoff_time = 30s" \
    "smtp_connect_timeout = 5s" "smtp_helo_timeout = 5s" "notify_classes ="
  postconf -F '*/*/chroot = n'
  postconf -M# smtp/inet >/dev/null 2>&1 || true
  echo "postfix stop >/dev/null 2>&1" > "$WORK/postfix.stop"
  postfix check && postfix start
  start_peers "$out"
  for r in "${RECIPIENTS[@]}"; do message "$r" Postfix | sendmail -f sender@sender.test "$r"; done
  # Warnings after a minute, reports at the end of the queue lifetime (and a little longer).
  wait_until $(( LIFETIME * 60 + 90 )) "postqueue -f"
  postqueue -p | tail -1 || true
}

# ------------------------------------------------------------------------------------------------- Exim
# Unpacked from exim4-daemon-light (Postfix holds the mail-transport-agent slot) and run with its own
# configuration (-C) as root; it delivers as Debian-exim, which the package would have created.
debfile() { # $1 package: its unpacked files in $WORK/pkg
  mkdir -p "$WORK/deb" "$WORK/pkg"
  (cd "$WORK/deb" && ls "$1"_*.deb >/dev/null 2>&1 || apt-get download "$1" >/dev/null)
  dpkg -x "$(ls "$WORK/deb/$1"_*.deb | head -1)" "$WORK/pkg"
}
install_exim() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libidn12 libgnutls-dane0 libnsl2 libdb5.3 libpcre2-8-0 >/dev/null
  debfile exim4-base; debfile exim4-daemon-light
  id Debian-exim >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin Debian-exim
  # Exim runs itself again (with -C) to send its reports, by the path it was built with.
  if [ ! -e /usr/sbin/exim4 ] || [ -L /usr/sbin/exim4 ]; then ln -sfn "$WORK/pkg/usr/sbin/exim4" /usr/sbin/exim4; fi
}
run_exim() {
  ports 2535
  local out="$OUT/exim"; mkdir -p "$out"
  local d="$WORK/exim"; mkdir -p "$d/spool" "$d/log" "$d/mail"
  chown -R Debian-exim:Debian-exim "$d/spool" "$d/log" "$d/mail"
  # The over-quota mailbox already holds more than its quota.
  head -c 20000 /dev/zero | tr '\0' 'x' | fold -w 70 > "$d/mail/over-quota"; chown Debian-exim "$d/mail/over-quota"
  local conf="$d/exim.conf"
  cat > "$conf" <<CONF
primary_hostname = mta-exim.test
qualify_domain = mta-exim.test
exim_user = Debian-exim
exim_group = Debian-exim
spool_directory = $d/spool
log_file_path = $d/log/%slog
delay_warning = 1m
ignore_bounce_errors_after = 0s
timeout_frozen_after = 10m
dsn_advertise_hosts =

begin routers
sender:
  driver = manualroute
  domains = sender.test
  route_list = * 127.0.0.1
  transport = to_collector
  self = send
sink:
  driver = manualroute
  domains = sink.test
  route_list = * 127.0.0.1
  transport = to_next_hop
  self = send
refused:
  driver = manualroute
  domains = refused.test
  route_list = * 127.0.0.1
  transport = to_refused
  self = send
silent:
  driver = manualroute
  domains = silent.test
  route_list = * 127.0.0.1
  transport = to_silent
  self = send
quota:
  driver = accept
  domains = quota.test
  transport = mailbox

begin transports
to_collector:
  driver = smtp
  port = $COLLECT
  allow_localhost
to_next_hop:
  driver = smtp
  port = $NEXT_HOP
  allow_localhost
to_refused:
  driver = smtp
  port = $REFUSED
  allow_localhost
to_silent:
  driver = smtp
  port = $SILENT
  allow_localhost
  connect_timeout = 5s
  command_timeout = 5s
mailbox:
  driver = appendfile
  file = $d/mail/over-quota
  user = Debian-exim
  quota = 10K

begin retry
*  quota
*  *  F,${LIFETIME}m,15s
CONF
  local exim=("$WORK/pkg/usr/sbin/exim4" -C "$conf")
  start_peers "$out"
  for r in "${RECIPIENTS[@]}"; do message "$r" Exim | "${exim[@]}" -odq -f sender@sender.test "$r"; done
  "${exim[@]}" -qff >/dev/null 2>&1 || true
  wait_until $(( LIFETIME * 60 + 60 )) "${exim[*]} -qff"
  "${exim[@]}" -bpc || true
}

# -------------------------------------------------------------------------------------------- OpenSMTPD
# Unpacked from the opensmtpd package and run in the foreground with its own configuration. It has
# no mailbox quota of its own, so over-quota comes only from the next hop (552 5.2.2, 452 4.2.2).
install_opensmtpd() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libevent-2.1-7 libssl3 >/dev/null
  debfile opensmtpd
  for u in opensmtpd opensmtpq; do
    id "$u" >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /var/lib/opensmtpd/empty --shell /usr/sbin/nologin "$u"
  done
  mkdir -p /var/lib/opensmtpd/empty /var/spool/smtpd && chmod 711 /var/spool/smtpd
}
run_opensmtpd() {
  ports 2545
  local out="$OUT/opensmtpd"; mkdir -p "$out"
  local d="$WORK/opensmtpd"; mkdir -p "$d"
  rm -rf /var/spool/smtpd/*   # nothing left over from an earlier run
  local conf="$d/smtpd.conf"
  cat > "$conf" <<CONF
smtp max-message-size 200000
queue ttl ${LIFETIME}m
bounce warn-interval 1m
listen on 127.0.0.1 port 2588 hostname mta-opensmtpd.test
action "next_hop" relay host smtp://127.0.0.1:$NEXT_HOP
action "refused" relay host smtp://127.0.0.1:$REFUSED
action "silent" relay host smtp://127.0.0.1:$SILENT
action "sender" relay host smtp://127.0.0.1:$COLLECT
match from any for domain "sink.test" action "next_hop"
match from any for domain "refused.test" action "refused"
match from any for domain "silent.test" action "silent"
match from any for domain "sender.test" action "sender"
match from any for domain "mta-opensmtpd.test" action "sender"
CONF
  chmod 644 "$conf"
  "$WORK/pkg/usr/sbin/smtpd" -f "$conf" -d > "$d/smtpd.log" 2>&1 &
  local pid=$!
  echo "kill $pid" > "$WORK/opensmtpd.stop"
  sleep 2
  start_peers "$out"
  for r in "${RECIPIENTS[@]}"; do
    [ "${r#*@}" = quota.test ] && continue
    message "$r" OpenSMTPD | python3 -c '
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", 2588)
s.sendmail("sender@sender.test", [sys.argv[1]], sys.stdin.read())
s.quit()' "$r"
  done
  wait_until $(( LIFETIME * 60 + 90 )) "$WORK/pkg/usr/sbin/smtpctl schedule all"
}

# --------------------------------------------------------------------------------------------- Sendmail
# Unpacked from sendmail-bin, its configuration built from sendmail-cf's m4 macros, run as a daemon that
# takes mail on a loopback port and runs its queue every 15 s. One mailer per peer port, and a
# mailertable that sends each test domain to its mailer. Sendmail looks up the canonical name of the
# machine before it reads its configuration: /etc/mail/service.switch (created only if missing) keeps
# that lookup to /etc/hosts, and the daemon still waits a minute over a name without a domain.
# Its files live outside /tmp, whose world-writable directory it would not trust.
SM_DIR="${SM_DIR:-/var/lib/mailroom-mta-sendmail}"
install_sendmail() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends m4 liblockfile1 libwrap0 libldap-2.5-0 libsasl2-2 libdb5.3 libssl3 libnsl2 >/dev/null
  debfile sendmail-base; debfile sendmail-cf; debfile sendmail-bin
  mkdir -p /etc/mail
  [ -e /etc/mail/service.switch ] || printf 'hosts files\naliases files\n' > /etc/mail/service.switch
}
run_sendmail() {
  ports 2555
  local out="$OUT/sendmail"; mkdir -p "$out"
  local d="$SM_DIR" sm="$WORK/pkg/usr/libexec/sendmail"
  rm -rf "$d"; mkdir -p "$d/queue"; chmod 755 "$d"; chmod 700 "$d/queue"
  printf 'hosts files\naliases files\n' > "$d/service.switch"
  printf 'sink.test\tnexthop:[127.0.0.1]\nrefused.test\trefusedhop:[127.0.0.1]\nsilent.test\tsilenthop:[127.0.0.1]\nsender.test\tcollector:[127.0.0.1]\n' > "$d/mailertable"
  local mailer='P=[IPC], F=mDFMuXa, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\r\n, L=990, T=DNS/RFC822/SMTP'
  cat > "$d/sendmail.mc" <<MC
divert(-1)
include(\`$WORK/pkg/usr/share/sendmail/cf/m4/cf.m4')
divert(0)dnl
VERSIONID(\`mailroom bench')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mta-sendmail.test')dnl
define(\`QUEUE_DIR', \`$d/queue')dnl
define(\`STATUS_FILE', \`$d/statistics')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confSERVICE_SWITCH_FILE', \`$d/service.switch')dnl
define(\`confTO_QUEUEWARN', \`1m')dnl
define(\`confTO_QUEUERETURN', \`${LIFETIME}m')dnl
define(\`confTO_CONNECT', \`5s')dnl
define(\`confTO_ICONNECT', \`5s')dnl
define(\`confTO_INITIAL', \`5s')dnl
define(\`confMIN_QUEUE_AGE', \`0')dnl
define(\`confDELIVERY_MODE', \`queueonly')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`mailertable', \`hash $d/mailertable')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
MAILER_DEFINITIONS
Mnexthop, $mailer, A=TCP \$h $NEXT_HOP
Mrefusedhop, $mailer, A=TCP \$h $REFUSED
Msilenthop, $mailer, A=TCP \$h $SILENT
Mcollector, $mailer, A=TCP \$h $COLLECT
MC
  m4 "$d/sendmail.mc" > "$d/sendmail.cf"
  "$sm/makemap" -C "$d/sendmail.cf" hash "$d/mailertable" < "$d/mailertable"
  start_peers "$out"
  "$sm/sendmail" -C "$d/sendmail.cf" -bd -q15s -ODaemonPortOptions=Port=2559,Addr=127.0.0.1,Name=MTA
  echo "kill \$(head -1 '$d/sendmail.pid') 2>/dev/null" > "$WORK/sendmail.stop"
  # The daemon listens once it has waited over the machine's name.
  for _ in $(seq 1 60); do python3 -c 'import socket; socket.create_connection(("127.0.0.1", 2559), 1)' 2>/dev/null && break; sleep 3; done
  for r in "${RECIPIENTS[@]}"; do
    [ "${r#*@}" = quota.test ] && continue
    message "$r" Sendmail | python3 -c '
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", 2559)
s.sendmail("sender@sender.test", [sys.argv[1]], sys.stdin.read())
s.quit()' "$r"
  done
  wait_until $(( LIFETIME * 60 + 90 )) true
}

apt-get update -qq >/dev/null
for m in "${mtas[@]}"; do "install_$m"; done
for m in "${mtas[@]}"; do
  ( trap 'cleanup '"$m" EXIT; "run_$m" ) > "$WORK/$m.log" 2>&1 &
done
wait
echo "reports in $OUT:"
find "$OUT" -name '*.eml' | sort
