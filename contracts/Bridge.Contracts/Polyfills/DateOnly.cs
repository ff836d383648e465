#if NETSTANDARD2_0
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace System;

/// <summary>
/// A date without a time of day, for .NET Standard 2.0 (.NET Framework), whose platform has none: a subset of .NET's own
/// <c>System.DateOnly</c> with the same names and signatures, written on the wire as <c>YYYY-MM-DD</c> as the real one is.
/// The package's .NET 8 and .NET 10 builds forward this type to the platform's <c>System.DateOnly</c>, so a .NET Standard
/// library compiled against this one keeps working when it runs on .NET 8 or later.
/// </summary>
[JsonConverter(typeof(Bridge.Contracts.DateOnlyJsonConverter))]
public readonly struct DateOnly : IComparable, IComparable<DateOnly>, IEquatable<DateOnly>, IFormattable
{
    private const int MaxDayNumber = 3_652_058; // 9999-12-31

    private readonly int dayNumber;

    private DateOnly(int dayNumber) => this.dayNumber = dayNumber;

    /// <summary>The date of the given year (1..9999), month (1..12) and day (1..days in that month).</summary>
    public DateOnly(int year, int month, int day) => dayNumber = (int)(new DateTime(year, month, day).Ticks / TimeSpan.TicksPerDay);

    /// <summary>0001-01-01.</summary>
    public static DateOnly MinValue => default;

    /// <summary>9999-12-31.</summary>
    public static DateOnly MaxValue => new(MaxDayNumber);

    /// <summary>Days since 0001-01-01.</summary>
    public int DayNumber => dayNumber;

    public int Year => AsDateTime.Year;

    public int Month => AsDateTime.Month;

    public int Day => AsDateTime.Day;

    public DayOfWeek DayOfWeek => AsDateTime.DayOfWeek;

    public int DayOfYear => AsDateTime.DayOfYear;

    private DateTime AsDateTime => new(dayNumber * TimeSpan.TicksPerDay, DateTimeKind.Unspecified);

    public static DateOnly FromDayNumber(int dayNumber) =>
        dayNumber is >= 0 and <= MaxDayNumber ? new DateOnly(dayNumber) : throw new ArgumentOutOfRangeException(nameof(dayNumber));

    /// <summary>The date part of <paramref name="dateTime"/>.</summary>
    public static DateOnly FromDateTime(DateTime dateTime) => new((int)(dateTime.Ticks / TimeSpan.TicksPerDay));

    public DateOnly AddDays(int value) => FromDayNumber(checked(dayNumber + value));

    public DateOnly AddMonths(int value) => FromDateTime(AsDateTime.AddMonths(value));

    public DateOnly AddYears(int value) => FromDateTime(AsDateTime.AddYears(value));

    /// <summary>Parses a date without a time of day in the current culture's formats.</summary>
    public static DateOnly Parse(string s) =>
        TryParse(s, out var result) ? result : throw new FormatException($"'{s}' is not a date without a time of day.");

    /// <summary>Parses a date in exactly <paramref name="format"/>, in the current culture; <c>o</c> is <c>yyyy-MM-dd</c>.</summary>
    public static DateOnly ParseExact(string s, string format) =>
        TryParseExact(s, format, out var result) ? result : throw new FormatException($"'{s}' is not a date in the format '{format}'.");

    public static bool TryParse([NotNullWhen(true)] string? s, out DateOnly result)
    {
        if (DateTime.TryParse(s, CultureInfo.CurrentCulture, DateTimeStyles.AllowWhiteSpaces, out var parsed) && parsed.TimeOfDay == TimeSpan.Zero)
        {
            result = FromDateTime(parsed);
            return true;
        }

        result = default;
        return false;
    }

    public static bool TryParseExact([NotNullWhen(true)] string? s, [NotNullWhen(true)] string? format, out DateOnly result)
    {
        var provider = IsRoundTrip(format) ? CultureInfo.InvariantCulture : CultureInfo.CurrentCulture;
        if (format is not null
            && DateTime.TryParseExact(s, IsRoundTrip(format) ? "yyyy-MM-dd" : format, provider, DateTimeStyles.None, out var parsed)
            && parsed.TimeOfDay == TimeSpan.Zero)
        {
            result = FromDateTime(parsed);
            return true;
        }

        result = default;
        return false;
    }

    public int CompareTo(DateOnly value) => dayNumber.CompareTo(value.dayNumber);

    public int CompareTo(object? value) => value switch
    {
        null => 1,
        DateOnly date => CompareTo(date),
        _ => throw new ArgumentException("The value is not a DateOnly.", nameof(value)),
    };

    public bool Equals(DateOnly value) => dayNumber == value.dayNumber;

    public override bool Equals(object? value) => value is DateOnly date && Equals(date);

    public override int GetHashCode() => dayNumber;

    /// <summary>The short date of the current culture, as .NET's <c>DateOnly</c> writes it.</summary>
    public override string ToString() => ToString("d", CultureInfo.CurrentCulture);

    public string ToString(string? format) => ToString(format, CultureInfo.CurrentCulture);

    public string ToString(IFormatProvider? provider) => ToString("d", provider);

    /// <summary>Formats with a date format; <c>o</c> (and <c>O</c>) is <c>yyyy-MM-dd</c>, the wire format.</summary>
    public string ToString(string? format, IFormatProvider? provider) =>
        IsRoundTrip(format)
            ? AsDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : AsDateTime.ToString(string.IsNullOrEmpty(format) ? "d" : format, provider);

    public static bool operator ==(DateOnly left, DateOnly right) => left.Equals(right);

    public static bool operator !=(DateOnly left, DateOnly right) => !left.Equals(right);

    public static bool operator <(DateOnly left, DateOnly right) => left.dayNumber < right.dayNumber;

    public static bool operator <=(DateOnly left, DateOnly right) => left.dayNumber <= right.dayNumber;

    public static bool operator >(DateOnly left, DateOnly right) => left.dayNumber > right.dayNumber;

    public static bool operator >=(DateOnly left, DateOnly right) => left.dayNumber >= right.dayNumber;

    private static bool IsRoundTrip(string? format) => format is "o" or "O";
}
#endif
