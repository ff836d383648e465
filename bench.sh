#!/usr/bin/env bash
# The throughput benchmark (issue 8): closing documents (or, with --scenarios mix, a month-end mix of all flows) preloaded
# into Bridge's input queues, one Bridge process against the project's ActivePlatform sandbox, measured until every result
# event arrived; and in the same run a raw RabbitMQ relay (consume → publish with confirm → ack) as the floor. Prints a
# table and writes JSON (its path is printed).
#
#   ./bench.sh [--messages N] [--scenarios postgresql,sqlite,latency,mix] [--concurrency C] [--json PATH] [more: --help]
#   ./bench.sh --no-build ...          use what is built already
#   ./bench.sh --configuration Debug   build and run that configuration (default Release)
#
# Services come from BRIDGE_TEST_RABBITMQ / BRIDGE_TEST_POSTGRES when set; otherwise it starts private ones as test.sh does
# (scripts/test-services.sh), PostgreSQL with fsync and synchronous_commit on as in production, and stops them at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

configuration=Release
build=1
args=()
while (($# > 0)); do
    case $1 in
        --no-build) build=0 ;;
        --configuration) configuration=$2; shift ;;
        --help | -h)
            sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
            if [[ -f bench/Bridge.Benchmarks/bin/$configuration/net10.0/Bridge.Benchmarks.dll ]]; then
                dotnet "bench/Bridge.Benchmarks/bin/$configuration/net10.0/Bridge.Benchmarks.dll" --help
            fi
            exit 0 ;;
        *) args+=("$1") ;;
    esac
    shift
done

export DOTNET_NOLOGO=${DOTNET_NOLOGO:-1}
export DOTNET_CLI_TELEMETRY_OPTOUT=${DOTNET_CLI_TELEMETRY_OPTOUT:-1}
bench_bin=bench/Bridge.Benchmarks/bin/$configuration/net10.0
host_bin=src/Bridge.Host/bin/$configuration/net10.0

# A benchmark measures the durable path: every commit Bridge is told of is on disk (test-services.sh keeps both off by default).
export BT_PG_FSYNC=on
export BT_PG_SYNCHRONOUS_COMMIT=on
BT_STATE=$(mktemp -d /tmp/bridge-bench.XXXXXX)
chmod 711 "$BT_STATE"
# shellcheck source=scripts/test-services.sh
source scripts/test-services.sh
say() { printf 'bench.sh: %s\n' "$*" >&2; }

on_exit() {
    stop_services
    rm -rf "$BT_STATE"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need_rabbitmq=1
need_postgres=1
[[ -z ${BRIDGE_TEST_RABBITMQ:-} ]] || { need_rabbitmq=0; say "using RabbitMQ from BRIDGE_TEST_RABBITMQ"; }
[[ -z ${BRIDGE_TEST_POSTGRES:-} ]] || { need_postgres=0; say "using PostgreSQL from BRIDGE_TEST_POSTGRES"; }
missing=()
if ((need_rabbitmq)) && [[ ! -x $RABBITMQ_BIN/rabbitmq-server ]]; then missing+=(rabbitmq-server); fi
if ((need_postgres)) && ! postgres_bin >/dev/null; then missing+=(postgresql); fi
if ((${#missing[@]} > 0)); then
    install_packages "${missing[@]}" || { say "could not install ${missing[*]}"; exit 2; }
fi

if ((need_rabbitmq)); then launch_rabbitmq; fi
if ((need_postgres)); then
    start_postgres
    export BRIDGE_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
fi
if ((need_rabbitmq)); then
    await_rabbitmq
    export BRIDGE_TEST_RABBITMQ="amqp://guest:guest@127.0.0.1:$RMQ_PORT/"
fi

if ((build)); then
    say "building Bridge.Host and Bridge.Benchmarks ($configuration)"
    dotnet build src/Bridge.Host/Bridge.Host.csproj -c "$configuration" -v quiet -nologo >&2
    dotnet build bench/Bridge.Benchmarks/Bridge.Benchmarks.csproj -c "$configuration" -v quiet -nologo >&2
fi

export BRIDGE_BENCH_COMMAND="./bench.sh${args[*]:+ ${args[*]}}"
rc=0
dotnet "$bench_bin/Bridge.Benchmarks.dll" --bridge "$host_bin/bridge.dll" "${args[@]}" || rc=$?
exit "$rc"
