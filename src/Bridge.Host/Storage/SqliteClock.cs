namespace Bridge.Host.Storage;

/// <summary>SQLite's expressions of the database's clock, for every concern's statements.</summary>
internal static class SqliteClock
{
    /// <summary>
    /// The database's clock (for SQLite, the host's system clock: the engine runs in the process), in the one fixed-width
    /// UTC text format the schema stores timestamps in: <c>%f</c> gives milliseconds, padded to seven digits.
    /// 'now' is the same instant for every use within one statement.
    /// </summary>
    public const string Now = "strftime('%Y-%m-%dT%H:%M:%f0000Z', 'now')";

    /// <summary>The database's clock plus a duration parameter in milliseconds, in the stored format.</summary>
    public static string NowPlus(string millisecondsParameter) =>
        $"strftime('%Y-%m-%dT%H:%M:%f0000Z', 'now', ({millisecondsParameter} / 1000.0) || ' seconds')";
}
