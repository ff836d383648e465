namespace Bridge.Tests.Infrastructure;

/// <summary>
/// Where the tests' RabbitMQ and PostgreSQL come from. This machine has no Docker engine, so the container path is never
/// taken here: the choice itself is tested, and the failure the tests give without either.
/// </summary>
public sealed class ServiceSelectionTests
{
    [Theory]
    [InlineData("amqp://guest:guest@127.0.0.1:5672/", false, ServiceSource.Variable)]
    [InlineData("amqp://guest:guest@127.0.0.1:5672/", true, ServiceSource.Variable)] // a running server is never replaced
    [InlineData(null, true, ServiceSource.Container)]
    [InlineData("", true, ServiceSource.Container)]
    [InlineData("  ", true, ServiceSource.Container)]
    [InlineData(null, false, ServiceSource.Unavailable)]
    [InlineData("", false, ServiceSource.Unavailable)]
    public void A_set_variable_wins_then_Docker_then_nothing(string? variable, bool dockerAvailable, ServiceSource expected) =>
        Assert.Equal(expected, TestEnvironment.Choose(variable, dockerAvailable));

    [Fact]
    public void Without_either_the_message_says_how_to_provide_the_service()
    {
        var message = TestEnvironment.UnavailableMessage(TestEnvironment.PostgresVariable);

        Assert.Contains(TestEnvironment.PostgresVariable, message, StringComparison.Ordinal);
        Assert.Contains("Docker", message, StringComparison.Ordinal);
        Assert.Contains("./test.sh", message, StringComparison.Ordinal);
    }
}
