#!/usr/bin/env bash
# Runs a command against throw-away Redis topologies on free loopback ports:
#   scripts/with-servers.sh COMMAND [ARGS...]
#
#   a Cluster of 3 masters + 3 replicas   LEASEQ_CLUSTER_URL   redis+cluster://127.0.0.1:P1,…,127.0.0.1:P6
#                                         LEASEQ_CLUSTER_PORTS "P1 P2 P3 P4 P5 P6"
#   a master, 2 replicas and 3 Sentinels  LEASEQ_SENTINEL_URL  redis+sentinel://127.0.0.1:S1,…,127.0.0.1:S3/leaseq
#     (master name "leaseq")              LEASEQ_SENTINEL_PORTS "S1 S2 S3", LEASEQ_SENTINEL_DATA_PORTS "M R1 R2"
#                                         (their directories: sentinel-master, sentinel-replica,
#                                         sentinel-replica2, in that order; two replicas, so that
#                                         after a failover the new master still has one and a
#                                         WAIT 1 is answered at once)
#   a TLS-only server (certificates made  LEASEQ_TLS_URL       rediss://app:s3cret@127.0.0.1:T#insecure
#     here by openssl) with an ACL user   LEASEQ_TLS_ADMIN_URL rediss://127.0.0.1:T#insecure (default user)
#     `app` allowed only keys `{app}*`    LEASEQ_TLS_PORT, LEASEQ_TLS_CA (the CA certificate's path)
#   and one plain server, as with-redis.sh: LEASEQ_REDIS_URL, LEASEQ_REDIS_PORT.
#
# Also LEASEQ_SERVERS_DIR (each server's directory: pid file, log, config). Every server is
# stopped by its pid when the command ends, however it ends.
set -euo pipefail

dir=$(mktemp -d "${TMPDIR:-/tmp}/leaseq-servers.XXXXXX")
stop() {
  local pidfile
  for pidfile in "$dir"/*/*.pid; do
    [[ -s $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  # Give them a moment to go, then remove their files.
  for pidfile in "$dir"/*/*.pid; do
    for _ in $(seq 40); do
      [[ -s $pidfile ]] && kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null || break
      sleep 0.05
    done
  done
  rm -rf "$dir" || true  # a late log write must not fail a run that passed
}
trap stop EXIT

# N free ports between 20000 and 45535 whose +10000 (a Cluster node's bus port) is free too.
free_ports() {
  python3 - "$1" <<'EOF'
import random, socket, sys
socks, ports = [], []
while len(ports) < int(sys.argv[1]):
    port = random.randint(20000, 45535)
    if port in ports:
        continue
    try:
        for p in (port, port + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
    except OSError:
        continue
    ports.append(port)
print(" ".join(map(str, ports)))
EOF
}
read -r -a ports <<<"$(free_ports 14)"
cluster_ports=("${ports[@]:0:6}")
master_port=${ports[6]} replica_port=${ports[7]} replica2_port=${ports[13]}
sentinel_ports=("${ports[@]:8:3}")
tls_port=${ports[11]} plain_port=${ports[12]}

# redis-server NAME PORT [ARGS...]: a daemon in $dir/NAME.
serve() {
  local name=$1 port=$2
  shift 2
  mkdir -p "$dir/$name"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/$name/redis.pid" --logfile "$dir/$name/redis.log" --dir "$dir/$name" \
    --repl-diskless-sync-delay 0 "$@" >/dev/null
}
wait_for() { # wait_for DESCRIPTION COMMAND...: up to 20 s
  local what=$1
  shift
  for _ in $(seq 400); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "with-servers: timed out waiting for $what; logs in $dir" >&2
  tail -n 20 "$dir"/*/redis.log >&2 || true
  return 1
}
info_has() { redis-cli -p "$1" info "$2" 2>/dev/null | tr -d '\r' | grep -q "^$3\$"; }

# --- one plain server
serve plain "$plain_port"

# --- Cluster: 3 masters + 3 replicas
for port in "${cluster_ports[@]}"; do
  serve "cluster-$port" "$port" --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 1000 --cluster-replica-validity-factor 0
done

# --- Sentinel: a master, its two replicas, three Sentinels
serve sentinel-master "$master_port"
serve sentinel-replica "$replica_port" --replicaof 127.0.0.1 "$master_port"
serve sentinel-replica2 "$replica2_port" --replicaof 127.0.0.1 "$master_port"
# down-after 2000 ms, not 1000: a Sentinel pings every second at most, and a promotion kills every
# normal client (the Sentinels' own links too), so with 1000 a single ping lost that way marked the
# new master down and made a second failover of a master that was alive (losing acknowledged writes).
for port in "${sentinel_ports[@]}"; do
  mkdir -p "$dir/sentinel-$port"
  cat >"$dir/sentinel-$port/sentinel.conf" <<EOF
port $port
bind 127.0.0.1
daemonize yes
pidfile $dir/sentinel-$port/redis.pid
logfile $dir/sentinel-$port/redis.log
dir $dir/sentinel-$port
sentinel monitor leaseq 127.0.0.1 $master_port 2
sentinel down-after-milliseconds leaseq 2000
sentinel failover-timeout leaseq 4000
sentinel parallel-syncs leaseq 1
EOF
done

# --- TLS server with an ACL user
mkdir -p "$dir/tls-$tls_port"
(
  cd "$dir/tls-$tls_port"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=leaseq-test-ca \
    -keyout ca.key -out ca.crt 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext.cnf
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile ext.cnf -out server.crt 2>/dev/null
)
tls_dir=$dir/tls-$tls_port
serve "tls-$tls_port" 0 --tls-port "$tls_port" --tls-cert-file "$tls_dir/server.crt" \
  --tls-key-file "$tls_dir/server.key" --tls-ca-cert-file "$tls_dir/ca.crt" --tls-auth-clients no
tls_cli() { redis-cli --tls --cacert "$tls_dir/ca.crt" -p "$tls_port" "$@"; }

# --- wait for them all
wait_for "the plain server" redis-cli -p "$plain_port" ping
for port in "${cluster_ports[@]}"; do wait_for "cluster node $port" redis-cli -p "$port" ping; done
cluster_nodes=()
for port in "${cluster_ports[@]}"; do cluster_nodes+=("127.0.0.1:$port"); done
redis-cli --cluster create "${cluster_nodes[@]}" --cluster-replicas 1 --cluster-yes >"$dir/cluster-create.log" 2>&1 || {
  cat "$dir/cluster-create.log" >&2
  exit 1
}
for port in "${sentinel_ports[@]}"; do
  redis-server "$dir/sentinel-$port/sentinel.conf" --sentinel >/dev/null
done
wait_for "the TLS server" tls_cli ping
tls_cli ACL SETUSER app on '>s3cret' '~{app}*' '&*' +@all >/dev/null

cluster_ok() {
  local port
  for port in "${cluster_ports[@]}"; do
    redis-cli -p "$port" cluster info 2>/dev/null | tr -d '\r' | grep -q '^cluster_state:ok$' || return 1
  done
}
wait_for "cluster_state:ok on every node" cluster_ok
replicas_up() { # every replica's link to its master is up
  local port role
  for port in "${cluster_ports[@]}"; do
    role=$(redis-cli -p "$port" info replication | tr -d '\r' | grep '^role:')
    if [[ $role == role:slave ]]; then info_has "$port" replication master_link_status:up || return 1; fi
  done
}
wait_for "the cluster replicas' links" replicas_up
wait_for "the Sentinel replica's link" info_has "$replica_port" replication master_link_status:up
wait_for "the second Sentinel replica's link" info_has "$replica2_port" replication master_link_status:up
sentinels_know() { # each Sentinel sees the master, the two replicas and the two other Sentinels
  local port
  for port in "${sentinel_ports[@]}"; do
    redis-cli -p "$port" sentinel master leaseq 2>/dev/null | tr -d '\r' |
      awk 'p=="num-slaves"&&$0!="2"{bad=1} p=="num-other-sentinels"&&$0!="2"{bad=1} {p=$0} END{exit bad}' || return 1
    redis-cli -p "$port" sentinel master leaseq 2>/dev/null | grep -q num-other-sentinels || return 1
  done
}
wait_for "the Sentinels to find each other" sentinels_know

sentinel_hosts=()
for port in "${sentinel_ports[@]}"; do sentinel_hosts+=("127.0.0.1:$port"); done
export LEASEQ_SERVERS_DIR=$dir
export LEASEQ_REDIS_PORT=$plain_port
export LEASEQ_REDIS_URL="redis://127.0.0.1:$plain_port"
export LEASEQ_CLUSTER_PORTS="${cluster_ports[*]}"
export LEASEQ_CLUSTER_URL="redis+cluster://$(IFS=,; echo "${cluster_nodes[*]}")"
export LEASEQ_SENTINEL_PORTS="${sentinel_ports[*]}"
export LEASEQ_SENTINEL_DATA_PORTS="$master_port $replica_port $replica2_port"
export LEASEQ_SENTINEL_URL="redis+sentinel://$(IFS=,; echo "${sentinel_hosts[*]}")/leaseq"
export LEASEQ_TLS_PORT=$tls_port
export LEASEQ_TLS_CA=$tls_dir/ca.crt
export LEASEQ_TLS_URL="rediss://app:s3cret@127.0.0.1:$tls_port#insecure"
export LEASEQ_TLS_ADMIN_URL="rediss://127.0.0.1:$tls_port#insecure"
"$@"
