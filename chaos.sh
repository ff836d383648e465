#!/usr/bin/env bash
# The seeded chaos suite (issue 7 §3): two Bridge processes on one private RabbitMQ and one private PostgreSQL (or one
# shared SQLite file), against the ActivePlatform sandbox, fed a seeded stream of ERP messages across every flow while
# faults, SIGKILLs and broker/database restarts happen; then every invariant is checked. Ends with one summary line and
# exits non-zero on any violation (each printed with its history).
#
#   ./chaos.sh [--seed N] [--messages M] [--kills K] [--storage postgresql|sqlite] [more: ./chaos.sh --help]
#   ./chaos.sh --no-build ...          use what is built already (the xUnit smoke test does)
#   ./chaos.sh --configuration Debug   build and run that configuration (default Release)
#
# It always starts its own RabbitMQ and PostgreSQL (as test.sh does, with scripts/test-services.sh), because it restarts
# them during the run (through scripts/chaos-services.sh), and stops them at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

configuration=Release
build=1
storage=postgresql
plan_only=0
args=()
while (($# > 0)); do
    case $1 in
        --no-build) build=0 ;;
        --help | -h) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        --configuration) configuration=$2; shift ;;
        --storage) storage=$2; args+=("$1" "$2"); shift ;;
        --print-plan) plan_only=1; args+=("$1") ;;
        *) args+=("$1") ;;
    esac
    shift
done

export DOTNET_NOLOGO=${DOTNET_NOLOGO:-1}
export DOTNET_CLI_TELEMETRY_OPTOUT=${DOTNET_CLI_TELEMETRY_OPTOUT:-1}
build_chaos() {
    ((build)) || return 0
    printf 'chaos.sh: building Bridge.Host and Bridge.Chaos (%s)\n' "$configuration" >&2
    dotnet build src/Bridge.Host/Bridge.Host.csproj -c "$configuration" -v quiet -nologo >&2
    dotnet build tests/Bridge.Chaos/Bridge.Chaos.csproj -c "$configuration" -v quiet -nologo >&2
}

# BRIDGE_CHAOS_BIN / BRIDGE_CHAOS_HOST_BIN: run copies of the builds (a long run while the tree is rebuilt).
chaos_bin=${BRIDGE_CHAOS_BIN:-tests/Bridge.Chaos/bin/$configuration/net10.0}
host_bin=${BRIDGE_CHAOS_HOST_BIN:-src/Bridge.Host/bin/$configuration/net10.0}

# The stream alone needs no services.
if ((plan_only)); then
    build_chaos
    exec dotnet "$chaos_bin/Bridge.Chaos.dll" "${args[@]}"
fi

# PostgreSQL is stopped "immediate" during the run: every commit Bridge was told of must survive that (test-services.sh).
export BT_PG_SYNCHRONOUS_COMMIT=on
BT_STATE=$(mktemp -d "${TMPDIR:-/tmp}/bridge-chaos-services.XXXXXX")
chmod 755 "$BT_STATE"
# shellcheck source=scripts/test-services.sh
source scripts/test-services.sh
say() { printf 'chaos.sh: %s\n' "$*" >&2; }

# RabbitMQ is restarted during the run by scripts/chaos-services.sh, so the launcher job started here may be gone at the
# end: the node counts as running while the pid in its pid file lives.
rabbitmq_running() {
    local pidfile=$BT_STATE/rabbitmq/rabbitmq.pid pid=
    kill -0 "$RMQ_LAUNCHER" 2>/dev/null && return 0
    [[ -s $pidfile ]] && pid=$(tr -dc '0-9' <"$pidfile")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

on_exit() {
    stop_services
    rm -rf "$BT_STATE"
}
trap on_exit EXIT

need_postgres=0
[[ ${storage,,} == sqlite ]] || need_postgres=1
missing=()
[[ -x $RABBITMQ_BIN/rabbitmq-server ]] || missing+=(rabbitmq-server)
if ((need_postgres)) && ! postgres_bin >/dev/null; then missing+=(postgresql); fi
if ((${#missing[@]} > 0)); then
    install_packages "${missing[@]}" || { say "could not install ${missing[*]}"; exit 2; }
fi

launch_rabbitmq
if ((need_postgres)); then
    start_postgres
    export BRIDGE_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
else
    unset BRIDGE_TEST_POSTGRES
fi
await_rabbitmq
export BRIDGE_TEST_RABBITMQ="amqp://guest:guest@127.0.0.1:$RMQ_PORT/"

# What scripts/chaos-services.sh needs to restart exactly these services.
export BRIDGE_CHAOS_SERVICES=$PWD/scripts/chaos-services.sh
export BT_STATE RMQ_NODE RMQ_PORT RMQ_DIST_PORT RMQ_EPMD_PORT
export PG_BIN=${PG_BIN:-} PG_PORT=${PG_PORT:-}

build_chaos
rc=0
dotnet "$chaos_bin/Bridge.Chaos.dll" --bridge "$host_bin/bridge.dll" "${args[@]}" || rc=$?
exit "$rc"
