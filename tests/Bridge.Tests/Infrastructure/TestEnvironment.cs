namespace Bridge.Tests.Infrastructure;

/// <summary>
/// Where the real services used by tests live. <c>./test.sh</c> sets these variables, starting private
/// RabbitMQ and PostgreSQL instances unless the caller already points them at running servers.
/// </summary>
public static class TestEnvironment
{
    public const string RabbitMqVariable = "BRIDGE_TEST_RABBITMQ";
    public const string PostgresVariable = "BRIDGE_TEST_POSTGRES";
    public const string SqlServerVariable = "BRIDGE_TEST_SQLSERVER";

    /// <summary>AMQP URI of a RabbitMQ broker the tests may freely declare queues and exchanges on.</summary>
    public static Uri RabbitMqUri
    {
        get
        {
            var value = Required(RabbitMqVariable);
            // The value is not quoted in the message: it may carry a password.
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
            {
                throw new InvalidOperationException($"{RabbitMqVariable} is not an amqp:// or amqps:// URI.");
            }

            return uri;
        }
    }

    /// <summary>Npgsql connection string of a PostgreSQL server on which the tests may create databases.</summary>
    public static string PostgresConnectionString => Required(PostgresVariable);

    /// <summary>SQL Server connection string, or null: SQL Server cannot run on the test machine, so tests
    /// that need it skip unless the caller provides one.</summary>
    public static string? SqlServerConnectionString => Optional(SqlServerVariable);

    private static string Required(string variable) =>
        Optional(variable)
        ?? throw new InvalidOperationException(
            $"{variable} not set: run the suite with ./test.sh, which starts private RabbitMQ and PostgreSQL");

    private static string? Optional(string variable)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }
}
