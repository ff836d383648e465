#!/usr/bin/env bash
# Runs the whole Bridge test suite: the one command for a fresh machine, and CI's entry point.
#
#   ./test.sh [extra dotnet test arguments]      e.g.  ./test.sh --filter "FullyQualifiedName~Storage"
#
# Services come from the environment when set:
#   BRIDGE_TEST_RABBITMQ   AMQP URI, e.g. amqp://guest:guest@127.0.0.1:5672/
#   BRIDGE_TEST_POSTGRES   Npgsql connection string, e.g. Host=127.0.0.1;Port=5432;Username=postgres;Database=postgres
#   BRIDGE_TEST_SQLSERVER  passed through untouched when set (SQL Server cannot run on this machine)
# Each of the first two that is unset gets a private instance on free loopback ports (its server is
# installed from apt when missing), stopped and deleted when the script exits, however it exits.
# The web page's browser tests drive Debian's Chromium (/usr/bin/chromium, or BRIDGE_TEST_CHROMIUM): installed from apt
# when missing; where it cannot be, those tests are reported as skipped with the reason.
#
# The last line of output is always "tests: N passed, N failed[, N skipped]". Exit code 0 only when the
# build succeeded, at least one test ran and none failed.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo_root"
# shellcheck source=scripts/test-services.sh
source scripts/test-services.sh

# /tmp rather than $TMPDIR: the service users must be able to reach their directories, and PostgreSQL's
# socket path must stay under the 107-byte limit.
BT_STATE=$(mktemp -d /tmp/bridge-test.XXXXXX)
chmod 711 "$BT_STATE"
summary_printed=0

# shellcheck disable=SC2317 # reached through the EXIT trap
on_exit() {
    local rc=$?
    set +e
    stop_services
    rm -rf "$BT_STATE"
    # A run that dies before the summary (setup failure, build failure, Ctrl-C) still ends with the
    # summary line CI reads.
    if ((!summary_printed)); then
        echo "tests: 0 passed, 1 failed"
        ((rc != 0)) || rc=1
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- services

need_rabbitmq=1
need_postgres=1
if [[ -n ${BRIDGE_TEST_RABBITMQ:-} ]]; then
    export BRIDGE_TEST_RABBITMQ
    need_rabbitmq=0
    say "using RabbitMQ from BRIDGE_TEST_RABBITMQ"
fi
if [[ -n ${BRIDGE_TEST_POSTGRES:-} ]]; then
    export BRIDGE_TEST_POSTGRES
    need_postgres=0
    say "using PostgreSQL from BRIDGE_TEST_POSTGRES"
fi
if [[ -n ${BRIDGE_TEST_SQLSERVER:-} ]]; then
    export BRIDGE_TEST_SQLSERVER
    say "using SQL Server from BRIDGE_TEST_SQLSERVER"
fi

missing_packages() {
    missing=()
    if ((need_rabbitmq)) && [[ ! -x $RABBITMQ_BIN/rabbitmq-server ]]; then missing+=(rabbitmq-server); fi
    if ((need_postgres)) && ! postgres_bin >/dev/null; then missing+=(postgresql); fi
}

missing_packages
if ((${#missing[@]} > 0)); then
    install_packages "${missing[@]}" || true
    missing_packages
    if ((${#missing[@]} > 0)); then
        # Without apt but with a Docker engine the run can still go ahead: the C# fixtures start
        # containers (Testcontainers) for any service whose variable is unset.
        if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
            say "could not install ${missing[*]}; Docker is available, so the tests will start containers"
            [[ " ${missing[*]} " != *" rabbitmq-server "* ]] || need_rabbitmq=0
            [[ " ${missing[*]} " != *" postgresql "* ]] || need_postgres=0
        else
            say "could not install ${missing[*]} and no Docker engine is available"
            exit 1
        fi
    fi
fi

# Apart from the services' install: a browser that cannot be installed only skips the browser tests, never the others.
if [[ -z ${BRIDGE_TEST_CHROMIUM:-} && ! -x /usr/bin/chromium ]]; then
    install_packages chromium || say "could not install chromium: the browser tests will be reported as skipped"
fi

# RabbitMQ boots in the background while PostgreSQL starts; await_rabbitmq then waits for it.
if ((need_rabbitmq)); then launch_rabbitmq; fi
if ((need_postgres)); then
    start_postgres
    export BRIDGE_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
fi
if ((need_rabbitmq)); then
    await_rabbitmq
    export BRIDGE_TEST_RABBITMQ="amqp://guest:guest@127.0.0.1:$RMQ_PORT/"
fi

# ---------------------------------------------------------------- build and test

export DOTNET_NOLOGO=${DOTNET_NOLOGO:-1}
export DOTNET_CLI_TELEMETRY_OPTOUT=${DOTNET_CLI_TELEMETRY_OPTOUT:-1}
dotnet_args=(-c Release)
# Build servers (MSBuild nodes, the compiler server) outlive the build holding our stdout, and a CI
# runner reading that pipe would wait for them; a developer's machine keeps them for faster re-runs.
if [[ -n ${CI:-} && ${CI,,} != false ]]; then dotnet_args+=(--disable-build-servers); fi

say "building Bridge.sln (Release)"
build_started=$SECONDS
if ! dotnet build Bridge.sln "${dotnet_args[@]}"; then
    say "build failed"
    exit 1
fi
say "built in $((SECONDS - build_started))s; running tests"

results=$BT_STATE/results
test_started=$SECONDS
test_rc=0
# A hung test is reported as a failure instead of eating the whole CI time budget.
dotnet test Bridge.sln "${dotnet_args[@]}" --no-build \
    --results-directory "$results" \
    --logger "trx;LogFilePrefix=bridge" \
    --logger "console;verbosity=normal" \
    --blame-hang-timeout 15m --blame-hang-dump-type none \
    "$@" || test_rc=$?
say "tests finished in $((SECONDS - test_started))s (dotnet test exit code $test_rc)"

# ---------------------------------------------------------------- summary

trx_counter() { # <Counters ...> element, attribute name
    local re="[[:space:]]$2=\"([0-9]+)\""
    if [[ $1 =~ $re ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi
}

passed=0 failed=0 skipped=0 trx_files=0
while IFS= read -r -d '' trx; do
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 || true)
    [[ -n $counters ]] || continue
    trx_files=$((trx_files + 1))
    passed=$((passed + $(trx_counter "$counters" passed)))
    # A test that errored, timed out or was aborted did not pass either.
    for outcome in failed error timeout aborted; do
        failed=$((failed + $(trx_counter "$counters" "$outcome")))
    done
    # The TRX logger leaves notExecuted at 0 for skipped tests and counts them only in total, not in
    # executed; take whichever of the two says more in case another logger version fills notExecuted.
    not_run=$(($(trx_counter "$counters" total) - $(trx_counter "$counters" executed)))
    not_executed=$(trx_counter "$counters" notExecuted)
    skipped=$((skipped + (not_executed > not_run ? not_executed : not_run)))
done < <(find "$results" -name '*.trx' -print0 2>/dev/null)

if ((trx_files == 0 && test_rc != 0)); then
    say "no test results were written: the test run itself failed"
    failed=$((failed > 0 ? failed : 1))
elif ((test_rc != 0 && failed == 0)); then
    # e.g. the test host crashed or was killed for hanging after the counted tests finished.
    say "dotnet test failed (exit code $test_rc) although no test is counted as failed"
    failed=1
fi

# Each failed test by name with the first lines of its message, so a CI log that keeps only its tail
# still says what failed.
list_failures() {
    local trx
    while IFS= read -r -d '' trx; do
        awk '
            /<UnitTestResult / { want = 0; msg = 0 }
            /<UnitTestResult / && /outcome="(Failed|Error|Timeout|Aborted)"/ {
                name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name)
                print "test.sh: FAILED " name; want = 1
            }
            want && /<Message>/ { msg = 1; lines = 0; sub(/.*<Message>/, "") }
            msg {
                end = sub(/<\/Message>.*/, "")
                if (lines < 6) print "test.sh:     " substr($0, 1, 300)
                lines++
                if (end) { msg = 0; want = 0 }
            }
        ' "$trx"
    done < <(find "$results" -name '*.trx' -print0 2>/dev/null)
}
if ((failed > 0)); then list_failures; fi

# Stopped here rather than in on_exit so their messages come before the summary line.
stop_services

summary="tests: $passed passed, $failed failed"
if ((skipped > 0)); then summary+=", $skipped skipped"; fi
rc=0
if ((failed > 0)); then
    rc=1
elif ((passed == 0)); then
    say "no test ran"
    rc=1
fi
summary_printed=1
echo "$summary"
exit "$rc"
