using System.Reflection;
using Bridge.Host.Storage;

namespace Bridge.Tests.Storage;

/// <summary>
/// Every concern's statements, found rather than listed: each class in Bridge.Host with a public static
/// <c>For(SqlDialect)</c> returning itself is a concern, and each of its public string properties a statement. A new
/// concern class is parsed and compared by the tests without anyone adding it to a list.
/// </summary>
internal static class SqlConcerns
{
    public static IReadOnlyList<Type> Types { get; } = typeof(SqlDialect).Assembly.GetTypes()
        .Where(type => For(type) is { } method && method.ReturnType == type)
        .OrderBy(type => type.FullName, StringComparer.Ordinal)
        .ToList();

    /// <summary>
    /// Every statement the dialect defines, named <c>Concern.Property</c> (see <see cref="Name{T}"/>); a statement the
    /// dialect does without (null) is left out.
    /// </summary>
    public static IReadOnlyList<(string Name, string Sql)> Statements(SqlDialect dialect) =>
        (from type in Types
         let statements = For(type)!.Invoke(null, [dialect])
         from property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
         where property.PropertyType == typeof(string)
         let sql = (string?)property.GetValue(statements)
         where sql is not null
         select (Name(type, property.Name), sql)).ToList();

    public static string Statement(SqlDialect dialect, string name) =>
        Statements(dialect).Single(statement => statement.Name == name).Sql;

    /// <summary>A statement's name, e.g. <c>Name&lt;OutboxSql&gt;(nameof(OutboxSql.Claim))</c> is <c>OutboxSql.Claim</c>.</summary>
    public static string Name<T>(string property) => Name(typeof(T), property);

    private static string Name(Type concern, string property) => concern.Name + "." + property;

    private static MethodInfo? For(Type type) =>
        type.GetMethod("For", BindingFlags.Public | BindingFlags.Static, [typeof(SqlDialect)]);
}
