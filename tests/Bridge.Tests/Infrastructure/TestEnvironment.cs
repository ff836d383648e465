using DotNet.Testcontainers.Configurations;
using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace Bridge.Tests.Infrastructure;

/// <summary>Where a service the tests need comes from (<see cref="TestEnvironment.Choose"/>).</summary>
public enum ServiceSource
{
    /// <summary>The variable names a running server (<c>./test.sh</c> sets it, starting a private one unless the caller did).</summary>
    Variable,

    /// <summary>The variable is unset and a Docker engine answers: a throwaway container (Testcontainers), one per test run.</summary>
    Container,

    /// <summary>Neither: the test fails with a message saying how to provide the service.</summary>
    Unavailable,
}

/// <summary>
/// Where the real services used by tests live. <c>./test.sh</c> sets these variables, starting private
/// RabbitMQ and PostgreSQL instances unless the caller already points them at running servers. Run without them (an IDE,
/// plain <c>dotnet test</c>, a machine with Docker and no apt), a RabbitMQ or PostgreSQL container is started with
/// Testcontainers when a Docker engine answers, once for the whole run, and removed when the run ends.
/// </summary>
public static class TestEnvironment
{
    public const string RabbitMqVariable = "BRIDGE_TEST_RABBITMQ";
    public const string PostgresVariable = "BRIDGE_TEST_POSTGRES";
    public const string SqlServerVariable = "BRIDGE_TEST_SQLSERVER";

    /// <summary>The images the containers are started from: the versions the compose file and test.sh's services are close to.</summary>
    public const string RabbitMqImage = "rabbitmq:3.13";
    public const string PostgresImage = "postgres:15";

    private static readonly Lazy<bool> DockerAvailable = new(ProbeDocker);
    private static readonly Lazy<string> RabbitMqContainer = new(() => StartContainer(RabbitMqVariable, StartRabbitMqAsync));
    private static readonly Lazy<string> PostgresContainer = new(() => StartContainer(PostgresVariable, StartPostgresAsync));

    /// <summary>
    /// Where a service comes from: the variable when it is set (a running server is never replaced by a container), else a
    /// container when a Docker engine answers, else nowhere.
    /// </summary>
    public static ServiceSource Choose(string? variableValue, bool dockerAvailable) =>
        !string.IsNullOrWhiteSpace(variableValue) ? ServiceSource.Variable
        : dockerAvailable ? ServiceSource.Container
        : ServiceSource.Unavailable;

    /// <summary>AMQP URI of a RabbitMQ broker the tests may freely declare queues and exchanges on.</summary>
    public static Uri RabbitMqUri
    {
        get
        {
            var value = Resolve(RabbitMqVariable, RabbitMqContainer);
            // The value is not quoted in the message: it may carry a password.
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
            {
                throw new InvalidOperationException($"{RabbitMqVariable} is not an amqp:// or amqps:// URI.");
            }

            return uri;
        }
    }

    /// <summary>Npgsql connection string of a PostgreSQL server on which the tests may create databases.</summary>
    public static string PostgresConnectionString => Resolve(PostgresVariable, PostgresContainer);

    /// <summary>Creates the database <paramref name="name"/> on the tests' PostgreSQL server; returns its connection string.</summary>
    public static async Task<string> CreatePostgresDatabaseAsync(string name)
    {
        var server = new Npgsql.NpgsqlConnectionStringBuilder(PostgresConnectionString);
        await using (var connection = new Npgsql.NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        server.Database = name;
        return server.ConnectionString;
    }

    /// <summary>Drops the database <paramref name="name"/>, closing whatever connections are still open to it.</summary>
    public static async Task DropPostgresDatabaseAsync(string name)
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        await using var connection = new Npgsql.NpgsqlConnection(PostgresConnectionString);
        await connection.OpenAsync();
        await using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>SQL Server connection string, or null: SQL Server cannot run on the test machine, so tests
    /// that need it skip unless the caller provides one.</summary>
    public static string? SqlServerConnectionString => Optional(SqlServerVariable);

    /// <summary>The message a test fails with when a service can be had from neither its variable nor Docker.</summary>
    public static string UnavailableMessage(string variable) =>
        $"{variable} not set and no Docker engine is reachable: run the suite with ./test.sh, which starts private RabbitMQ and PostgreSQL";

    private static string Resolve(string variable, Lazy<string> container)
    {
        var value = Optional(variable);
        return Choose(value, dockerAvailable: value is null && DockerAvailable.Value) switch
        {
            ServiceSource.Variable => value!,
            ServiceSource.Container => container.Value,
            _ => throw new InvalidOperationException(UnavailableMessage(variable)),
        };
    }

    private static string? Optional(string variable)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }

    /// <summary>Whether Testcontainers finds a Docker engine that answers (its own discovery: DOCKER_HOST, the socket, …).</summary>
    private static bool ProbeDocker()
    {
        try
        {
            return TestcontainersSettings.OS.DockerEndpointAuthConfig is not null;
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>
    /// Starts the container once per run (the first test that asks waits for it) and sets the variable in this process, so
    /// processes the tests start (benchmark smoke) use the same server. Ryuk, Testcontainers' reaper, removes it after the run.
    /// </summary>
    private static string StartContainer(string variable, Func<Task<string>> start)
    {
        // Off the test's synchronisation context: blocking on it from xUnit's would deadlock.
        var value = Task.Run(start).GetAwaiter().GetResult();
        Environment.SetEnvironmentVariable(variable, value);
        return value;
    }

    private static async Task<string> StartRabbitMqAsync()
    {
        var container = new RabbitMqBuilder(RabbitMqImage).Build();
        await container.StartAsync();
        return container.GetConnectionString();
    }

    private static async Task<string> StartPostgresAsync()
    {
        var container = new PostgreSqlBuilder(PostgresImage).Build();
        await container.StartAsync();
        return container.GetConnectionString();
    }
}
