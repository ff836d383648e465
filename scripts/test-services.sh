# shellcheck shell=bash
# Private RabbitMQ and PostgreSQL for the test suite; sourced by test.sh, which owns the state dir
# ($BT_STATE) and calls stop_services from its EXIT trap.
#
# Everything a private instance owns (data, logs, pid files, its Erlang cookie, its epmd) lives under
# $BT_STATE and listens on loopback ports picked here, so a system RabbitMQ/PostgreSQL already running
# on the default ports (apt starts one on install) neither collides with the suite nor is relied on.

say() { printf 'test.sh: %s\n' "$*" >&2; }

# The Debian packages put the servers here; a fresh CI machine gets them from apt.
RABBITMQ_BIN=/usr/lib/rabbitmq/bin

postgres_bin() {
    local dir
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    [[ -n $dir && -x $dir/initdb ]] && printf '%s\n' "$dir"
}

# Ports are drawn below the kernel's ephemeral range (32768+) so an outgoing connection elsewhere on
# the machine cannot grab one between the check and the bind; 25672 is the default node's dist port.
BT_PICKED_PORTS=" "
pick_free_port() {
    local var=$1 port _
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 12000))
        [[ $port == 25672 || $BT_PICKED_PORTS == *" $port "* ]] && continue
        if command -v ss >/dev/null 2>&1; then
            [[ -z $(ss -Htan "sport = :$port" 2>/dev/null) ]] || continue
        fi
        # A refused connect means nothing listens there on loopback.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            BT_PICKED_PORTS+="$port "
            printf -v "$var" '%s' "$port"
            return 0
        fi
    done
    say "no free TCP port found in 20000-31999"
    return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Servers refuse to run as root (initdb) or drop to their own user (Debian's rabbitmq wrapper), so as
# root each runs as its package's system user; anyone else runs them as themselves.
as_user() {
    local user=$1; shift
    if ((EUID != 0)); then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$user" -- "$@"
    else
        su -s /bin/bash "$user" -c "$(printf '%q ' "$@")"
    fi
}

give_to() {
    local user=$1 dir=$2
    mkdir -p "$dir"
    if ((EUID == 0)); then chown "$user:" "$dir"; fi
}

# Installs whatever is missing in one apt transaction; returns non-zero when it cannot.
install_packages() {
    (($# > 0)) || return 0
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || return 1
        sudo=(sudo -n)
    fi
    command -v apt-get >/dev/null 2>&1 || return 1
    say "installing $* with apt-get (log: kept only on failure)"
    local log=$BT_STATE/apt.log started=$SECONDS
    if "${sudo[@]}" apt-get update >"$log" 2>&1 &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1; then
        say "installed $* in $((SECONDS - started))s"
        return 0
    fi
    tail -n 20 "$log" >&2
    return 1
}

# ---------------------------------------------------------------- RabbitMQ

BT_RABBITMQ_STARTED=0

rabbitmq_env() {
    local dir=$BT_STATE/rabbitmq
    # One HOME for the node and every rabbitmqctl call: they authenticate with the .erlang.cookie in it,
    # which the node creates on first start.
    RMQ_ENV=(
        HOME="$dir/home"
        RABBITMQ_NODENAME="$RMQ_NODE"
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
        RABBITMQ_NODE_PORT="$RMQ_PORT"
        RABBITMQ_DIST_PORT="$RMQ_DIST_PORT"
        # A private epmd, so nothing of ours outlives the run and the default node's epmd is not needed.
        ERL_EPMD_PORT="$RMQ_EPMD_PORT"
        ERL_EPMD_ADDRESS=127.0.0.1
        # rabbitmqctl's own node would otherwise compete for 35672-35682 with every other CLI call.
        RABBITMQ_CTL_DIST_PORT_MIN=0
        RABBITMQ_CTL_DIST_PORT_MAX=0
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
        RABBITMQ_MNESIA_BASE="$dir/mnesia"
        RABBITMQ_LOG_BASE="$dir/log"
        RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
        RABBITMQ_PID_FILE="$dir/rabbitmq.pid"
        # Keep /etc/rabbitmq (which may configure the system node) out of the private one.
        RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
        RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
        RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
    )
}

rabbitmq_as_node_user() {
    (cd "$BT_STATE/rabbitmq" && as_user rabbitmq env "${RMQ_ENV[@]}" "$@")
}

# Starts the node in the background and returns at once; await_rabbitmq waits for it. Not -detached:
# a background job's exit tells us at once that boot failed, and its output (where Erlang reports
# failures that happen before RabbitMQ's own logging starts) lands in startup.log.
launch_rabbitmq() {
    local dir=$BT_STATE/rabbitmq
    pick_free_port RMQ_PORT
    pick_free_port RMQ_DIST_PORT
    pick_free_port RMQ_EPMD_PORT
    RMQ_NODE="bt$$@localhost"
    rabbitmq_env

    give_to rabbitmq "$dir"
    as_user rabbitmq mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
    # shellcheck disable=SC2016 # expanded by the inner sh
    as_user rabbitmq sh -c 'echo "[]." >"$1/enabled_plugins"; : >"$1/rabbitmq-env.conf"; : >"$1/rabbitmq.conf"' sh "$dir"

    say "starting private RabbitMQ on port $RMQ_PORT (node $RMQ_NODE, dist $RMQ_DIST_PORT, epmd $RMQ_EPMD_PORT)"
    RMQ_STARTED_AT=$SECONDS
    BT_RABBITMQ_STARTED=1
    rabbitmq_as_node_user "$RABBITMQ_BIN/rabbitmq-server" </dev/null >"$dir/startup.log" 2>&1 &
    RMQ_LAUNCHER=$!
}

rabbitmq_running() { kill -0 "$RMQ_LAUNCHER" 2>/dev/null; }

rabbitmq_failed() {
    say "private RabbitMQ did not start: $1"
    local f
    for f in "$BT_STATE/rabbitmq/startup.log" "$BT_STATE/rabbitmq/log/$RMQ_NODE.log"; do
        if [[ -s $f ]]; then say "--- tail of $f"; tail -n 40 "$f" >&2; fi
    done
}

# How long a service may take to start or stop before the run gives up. Generous: an Erlang node booting on two cores
# that a test run keeps busy has been seen to need more than a minute, and waiting longer costs nothing when it is fast.
BT_SERVICE_TIMEOUT=${BT_SERVICE_TIMEOUT:-240}

await_rabbitmq() {
    local deadline=$((SECONDS + BT_SERVICE_TIMEOUT))
    until port_open "$RMQ_PORT"; do
        if ! rabbitmq_running; then rabbitmq_failed "the node exited"; return 1; fi
        if ((SECONDS >= deadline)); then rabbitmq_failed "port $RMQ_PORT not open after ${BT_SERVICE_TIMEOUT}s"; return 1; fi
        sleep 0.5
    done
    # The AMQP listener opens late in boot; await_startup confirms boot completed.
    if ! rabbitmq_as_node_user "$RABBITMQ_BIN/rabbitmqctl" -n "$RMQ_NODE" -q await_startup --timeout "$BT_SERVICE_TIMEOUT" \
        >"$BT_STATE/rabbitmq/rabbitmqctl.log" 2>&1; then
        cat "$BT_STATE/rabbitmq/rabbitmqctl.log" >&2
        rabbitmq_failed "rabbitmqctl await_startup failed"; return 1
    fi
    say "RabbitMQ up in $((SECONDS - RMQ_STARTED_AT))s"
}

stop_rabbitmq() {
    ((BT_RABBITMQ_STARTED)) || return 0
    BT_RABBITMQ_STARTED=0
    local dir=$BT_STATE/rabbitmq pid=
    if [[ -s $dir/rabbitmq.pid ]]; then pid=$(tr -dc '0-9' <"$dir/rabbitmq.pid"); fi
    if rabbitmq_running; then
        # Given the pid file, "stop" returns only once the node's OS process has exited.
        local args=(-n "$RMQ_NODE" -q stop)
        if [[ -n $pid ]]; then args+=("$dir/rabbitmq.pid"); fi
        rabbitmq_as_node_user timeout "$BT_SERVICE_TIMEOUT" "$RABBITMQ_BIN/rabbitmqctl" "${args[@]}" >>"$dir/rabbitmqctl.log" 2>&1 || true
        local deadline=$((SECONDS + 10))
        while rabbitmq_running && ((SECONDS < deadline)); do sleep 0.2; done
        if rabbitmq_running && [[ -n $pid ]]; then
            say "rabbitmqctl stop did not stop RabbitMQ; killing it (pid $pid)"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$RMQ_LAUNCHER" 2>/dev/null || true
    local epmd
    epmd=$(command -v epmd 2>/dev/null || find /usr/lib/erlang -path '*/bin/epmd' 2>/dev/null | head -n 1 || true)
    if [[ -n $epmd ]]; then ERL_EPMD_PORT=$RMQ_EPMD_PORT "$epmd" -kill >/dev/null 2>&1 || true; fi
    say "stopped private RabbitMQ"
}

# ---------------------------------------------------------------- PostgreSQL

BT_POSTGRES_STARTED=0

start_postgres() {
    local dir=$BT_STATE/postgres bin started=$SECONDS
    bin=$(postgres_bin) || { say "PostgreSQL server binaries not found under /usr/lib/postgresql"; return 1; }
    PG_BIN=$bin
    pick_free_port PG_PORT
    give_to postgres "$dir"

    say "starting private PostgreSQL $(basename "$(dirname "$bin")") on port $PG_PORT"
    if ! (cd "$dir" && as_user postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync) >"$dir/initdb.log" 2>&1; then
        say "initdb failed:"; tail -n 20 "$dir/initdb.log" >&2
        return 1
    fi
    # Throwaway cluster: durability is worth nothing here and costs seconds per test run. fsync stays off everywhere
    # (only the server process is ever killed, never the machine, and what it wrote survives in the OS cache), but a run
    # that stops PostgreSQL "immediate" while Bridge works (chaos.sh) needs synchronous_commit on: with it off, a commit
    # already acknowledged to Bridge can vanish with the server, an outcome no production database allows.
    # bench.sh sets BT_PG_FSYNC=on (fsync and full_page_writes) to measure the durable path as production runs it.
    # shellcheck disable=SC2016 # expanded by the inner sh
    as_user postgres sh -c 'cat >>"$1/data/postgresql.conf"' sh "$dir" <<EOF

# --- private test cluster (test.sh)
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
fsync = ${BT_PG_FSYNC:-off}
synchronous_commit = ${BT_PG_SYNCHRONOUS_COMMIT:-off}
full_page_writes = ${BT_PG_FSYNC:-off}
wal_level = minimal
max_wal_senders = 0
checkpoint_timeout = 30min
EOF
    BT_POSTGRES_STARTED=1
    if ! (cd "$dir" && as_user postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t "$BT_SERVICE_TIMEOUT" start) >"$dir/pg_ctl.log" 2>&1; then
        say "private PostgreSQL did not start:"
        tail -n 40 "$dir/pg_ctl.log" "$dir/postgres.log" >&2 2>/dev/null || true
        return 1
    fi
    say "PostgreSQL up in $((SECONDS - started))s"
}

stop_postgres() {
    ((BT_POSTGRES_STARTED)) || return 0
    BT_POSTGRES_STARTED=0
    local dir=$BT_STATE/postgres
    if [[ -f $dir/data/postmaster.pid ]]; then
        (cd "$dir" && as_user postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t "$BT_SERVICE_TIMEOUT" stop) >>"$dir/pg_ctl.log" 2>&1 ||
            say "pg_ctl stop failed (see $dir/postgres.log)"
    fi
    say "stopped private PostgreSQL"
}

stop_services() {
    stop_rabbitmq || true
    stop_postgres || true
}
