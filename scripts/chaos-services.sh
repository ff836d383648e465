#!/usr/bin/env bash
# Restarts the private RabbitMQ or PostgreSQL that chaos.sh started; the chaos program calls it (BRIDGE_CHAOS_SERVICES)
# with the state chaos.sh exported (BT_STATE, RMQ_NODE, RMQ_PORT, RMQ_DIST_PORT, RMQ_EPMD_PORT, PG_BIN).
#
#   chaos-services.sh restart-rabbitmq            restart RabbitMQ inside its node (stop_app, start_app): every connection
#                                                 drops, queues and persistent messages are recovered from disk
#   chaos-services.sh restart-rabbitmq-node       stop the whole node and boot it again on the same ports (slower)
#   chaos-services.sh restart-postgres SECONDS    stop PostgreSQL in immediate mode (like a crash), wait, start it again
set -euo pipefail
: "${BT_STATE:?set by chaos.sh}"
# shellcheck source=scripts/test-services.sh
source "$(dirname "${BASH_SOURCE[0]}")/test-services.sh"
say() { printf 'chaos-services: %s\n' "$*" >&2; }

case ${1:-} in
    restart-rabbitmq)
        : "${RMQ_NODE:?}" "${RMQ_PORT:?}" "${RMQ_DIST_PORT:?}" "${RMQ_EPMD_PORT:?}"
        rabbitmq_env
        dir=$BT_STATE/rabbitmq
        rabbitmq_as_node_user timeout "${BT_SERVICE_TIMEOUT:-240}" "$RABBITMQ_BIN/rabbitmqctl" -n "$RMQ_NODE" -q stop_app >>"$dir/rabbitmqctl.log" 2>&1
        rabbitmq_as_node_user timeout "${BT_SERVICE_TIMEOUT:-240}" "$RABBITMQ_BIN/rabbitmqctl" -n "$RMQ_NODE" -q start_app >>"$dir/rabbitmqctl.log" 2>&1
        say "RabbitMQ back"
        ;;
    restart-rabbitmq-node)
        : "${RMQ_NODE:?}" "${RMQ_PORT:?}" "${RMQ_DIST_PORT:?}" "${RMQ_EPMD_PORT:?}"
        rabbitmq_env
        dir=$BT_STATE/rabbitmq
        # Given the pid file, "stop" returns once the node's OS process has exited.
        rabbitmq_as_node_user timeout "${BT_SERVICE_TIMEOUT:-240}" "$RABBITMQ_BIN/rabbitmqctl" -n "$RMQ_NODE" -q stop "$dir/rabbitmq.pid" >>"$dir/rabbitmqctl.log" 2>&1
        rabbitmq_as_node_user "$RABBITMQ_BIN/rabbitmq-server" </dev/null >>"$dir/startup.log" 2>&1 &
        RMQ_LAUNCHER=$!
        RMQ_STARTED_AT=$SECONDS
        await_rabbitmq
        ;;
    restart-postgres)
        : "${PG_BIN:?}"
        outage=${2:-2}
        dir=$BT_STATE/postgres
        (cd "$dir" && as_user postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t "${BT_SERVICE_TIMEOUT:-240}" stop) >>"$dir/pg_ctl.log" 2>&1
        sleep "$outage"
        (cd "$dir" && as_user postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t "${BT_SERVICE_TIMEOUT:-240}" start) >>"$dir/pg_ctl.log" 2>&1
        say "PostgreSQL back"
        ;;
    *)
        echo "usage: $0 restart-rabbitmq | restart-rabbitmq-node | restart-postgres SECONDS" >&2
        exit 2
        ;;
esac
