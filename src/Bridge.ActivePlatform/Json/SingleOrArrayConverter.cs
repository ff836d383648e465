using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Bridge.ActivePlatform.Json;

/// <summary>
/// For <see cref="IReadOnlyList{T}"/> properties that the API sends as an object on one version and an array on
/// another (JSON:API <c>data</c>, <c>errors</c>, relationship linkage). A single object reads as a one-item list.
/// </summary>
public sealed class SingleOrArrayConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(IReadOnlyList<>);

    public override JsonConverter? CreateConverter(Type typeToConvert, JsonSerializerOptions options)
    {
        var element = typeToConvert.GetGenericArguments()[0];
        return (JsonConverter?)Activator.CreateInstance(typeof(SingleOrArrayConverter<>).MakeGenericType(element));
    }
}

public sealed class SingleOrArrayConverter<T> : JsonConverter<IReadOnlyList<T>>
{
    public override IReadOnlyList<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var info = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            var single = JsonSerializer.Deserialize(ref reader, info);
            return single is null ? [] : new SingleItemList<T>(single);
        }

        var items = new List<T>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var item = JsonSerializer.Deserialize(ref reader, info);
            if (item is not null)
            {
                items.Add(item);
            }
        }

        return items;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<T> value, JsonSerializerOptions options)
    {
        var info = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        if (value is SingleItemList<T> single)
        {
            // Read from an object (a to-one relationship, a single resource): written back as one.
            JsonSerializer.Serialize(writer, single[0], info);
            return;
        }

        writer.WriteStartArray();
        foreach (var item in value)
        {
            JsonSerializer.Serialize(writer, item, info);
        }

        writer.WriteEndArray();
    }
}

/// <summary>A list read from a single object rather than an array, so that writing it again gives the object back.</summary>
public sealed class SingleItemList<T>(T item) : IReadOnlyList<T>
{
    public int Count => 1;

    public T this[int index] => index == 0 ? item : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<T> GetEnumerator()
    {
        yield return item;
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
