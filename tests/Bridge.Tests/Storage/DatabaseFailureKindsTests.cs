using Bridge.Host.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Bridge.Tests.Storage;

/// <summary>
/// A statement the database gave up on because another transaction held what it needed — a deadlock victim, a busy or
/// locked SQLite file, a serialization failure — succeeds when run again: it is the database's moment, not the statement's
/// fault, and is retried like a database that cannot be reached, never taken for the message's own failure.
/// </summary>
public sealed class DatabaseFailureKindsTests
{
    [Theory]
    [InlineData(PostgresErrorCodes.DeadlockDetected)]
    [InlineData(PostgresErrorCodes.SerializationFailure)]
    [InlineData(PostgresErrorCodes.LockNotAvailable)]
    public void A_postgresql_statement_that_lost_to_another_transaction_is_retried(string sqlState)
    {
        Assert.True(DatabaseFailures.IsUnreachable(new PostgresException("lost", "ERROR", "ERROR", sqlState)));
    }

    [Theory]
    [InlineData(5)] // SQLITE_BUSY
    [InlineData(6)] // SQLITE_LOCKED
    [InlineData(261)] // SQLITE_BUSY_RECOVERY
    [InlineData(517)] // SQLITE_BUSY_SNAPSHOT
    public void A_sqlite_statement_that_found_the_database_busy_is_retried(int code)
    {
        Assert.True(DatabaseFailures.IsUnreachable(new SqliteException("database is locked", code)));
    }

    [Fact]
    public void A_constraint_or_a_refused_value_is_the_statements_own_failure()
    {
        Assert.False(DatabaseFailures.IsUnreachable(new PostgresException("dup", "ERROR", "ERROR", PostgresErrorCodes.UniqueViolation)));
        Assert.False(DatabaseFailures.IsUnreachable(new SqliteException("constraint", 19)));
        Assert.False(DatabaseFailures.IsUnreachable(new SqliteException("constraint", 2067)));
    }
}
