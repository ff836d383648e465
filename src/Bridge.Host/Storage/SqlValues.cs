using System.Data.Common;
using System.Globalization;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Bridge.Host.Storage;

/// <summary>
/// The few values whose storage differs by dialect. Converting here, explicitly, keeps Dapper's global type
/// handlers untouched (they would apply to every Dapper user in the process).
/// </summary>
internal static class SqlValues
{
    /// <summary>Fixed width and UTC, so SQLite's text comparison orders timestamps correctly.</summary>
    private const string SqliteTimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static object Timestamp(SqlDialect dialect, DateTimeOffset value) => dialect switch
    {
        SqlDialect.Sqlite => value.UtcDateTime.ToString(SqliteTimestampFormat, CultureInfo.InvariantCulture),

        // Npgsql writes timestamptz only from UTC values.
        _ => value.ToUniversalTime(),
    };

    public static DateTimeOffset ReadTimestamp(object value) => value switch
    {
        DateTimeOffset timestamp => timestamp.ToUniversalTime(),
        DateTime { Kind: DateTimeKind.Utc } timestamp => new DateTimeOffset(timestamp, TimeSpan.Zero),
        DateTime timestamp => new DateTimeOffset(DateTime.SpecifyKind(timestamp, DateTimeKind.Utc), TimeSpan.Zero),
        string text => DateTimeOffset.ParseExact(text, SqliteTimestampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
        _ => throw new InvalidCastException($"Cannot read a timestamp from a {value.GetType().Name}."),
    };

    /// <summary>
    /// A duration as whole milliseconds (rounded up), the form every dialect's statements add to the database's own clock
    /// (SQL Server's <c>DATEADD</c> takes an int, so longer than about 24 days is refused).
    /// </summary>
    public static int Milliseconds(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(duration, TimeSpan.FromMilliseconds(int.MaxValue));
        return (int)Math.Ceiling(duration.TotalMilliseconds);
    }

    /// <summary>SQLite stores ids as readable text rather than Microsoft.Data.Sqlite's default 16-byte blob.</summary>
    public static object Id(SqlDialect dialect, Guid value) =>
        dialect == SqlDialect.Sqlite ? value.ToString("D") : value;

    public static Guid ReadId(object value) => value switch
    {
        Guid id => id,
        string text => Guid.Parse(text),
        byte[] bytes => new Guid(bytes),
        _ => throw new InvalidCastException($"Cannot read an id from a {value.GetType().Name}."),
    };

    public static bool ReadBoolean(object value) => Convert.ToBoolean(value, CultureInfo.InvariantCulture);

    public static int ReadInt32(object value) => Convert.ToInt32(value, CultureInfo.InvariantCulture);

    public static IdempotencyState ReadState(string value) => Enum.Parse<IdempotencyState>(value, ignoreCase: false);

    public static bool IsUniqueViolation(DbException exception) => exception switch
    {
        SqlException sql => sql.Number is 2627 or 2601,
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,

        // SQLITE_CONSTRAINT; the extended code tells primary key (1555) and unique (2067) apart from other constraints.
        SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 1555 or 2067,
        _ => false,
    };
}
