using System.Globalization;
using System.Text;

namespace Bridge.Tests.Contracts;

/// <summary>
/// Reads the block-style YAML subset contracts/asyncapi.yaml is written in: mappings, sequences (of scalars or mappings),
/// plain and quoted scalars, literal and folded block scalars, comments, and the empty flow collections [] and {}.
/// Anything else (anchors, tags, non-empty flow collections, multi-document streams) throws rather than being misread.
/// Mappings become <see cref="Dictionary{TKey,TValue}"/> of string to node, sequences <see cref="List{T}"/>, scalars strings.
/// </summary>
internal sealed class MiniYaml
{
    private readonly List<string> _lines;
    private int _position;

    private MiniYaml(string text) => _lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').ToList();

    public static object? Parse(string text)
    {
        var reader = new MiniYaml(text);
        if (!reader.Peek(out var indent, out _))
        {
            return null;
        }

        var root = reader.ParseBlock(indent);
        if (reader.Peek(out _, out var rest))
        {
            throw reader.Error($"unexpected content '{rest}'");
        }

        return root;
    }

    private object? ParseBlock(int indent)
    {
        Peek(out _, out var content);
        return IsSequenceItem(content) ? ParseSequence(indent) : ParseMapping(indent);
    }

    private Dictionary<string, object?> ParseMapping(int indent)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (Peek(out var lineIndent, out var content) && lineIndent >= indent)
        {
            if (lineIndent > indent)
            {
                throw Error("unexpected indentation");
            }

            if (IsSequenceItem(content))
            {
                break;
            }

            var (key, rest) = SplitKey(content);
            _position++;
            if (!map.TryAdd(key, ParseValue(indent, rest, allowSequenceAtSameIndent: true)))
            {
                throw Error($"duplicate key '{key}'");
            }
        }

        return map;
    }

    private List<object?> ParseSequence(int indent)
    {
        var list = new List<object?>();
        while (Peek(out var lineIndent, out var content) && lineIndent == indent && IsSequenceItem(content))
        {
            var rest = content.Length == 1 ? "" : content[2..].TrimStart();
            if (rest.Length > 0 && TrySplitKey(rest, out _, out _))
            {
                // "- key: value" opens a mapping whose keys sit two columns in.
                _lines[_position] = new string(' ', indent + 2) + rest;
                list.Add(ParseMapping(indent + 2));
            }
            else
            {
                _position++;
                list.Add(ParseValue(indent, rest, allowSequenceAtSameIndent: false));
            }
        }

        return list;
    }

    private object? ParseValue(int indent, string rest, bool allowSequenceAtSameIndent)
    {
        if (rest.Length > 0 && (rest[0] == '|' || rest[0] == '>'))
        {
            return ParseBlockScalar(indent, folded: rest[0] == '>', keepTrailing: rest.Contains('+', StringComparison.Ordinal), strip: rest.Contains('-', StringComparison.Ordinal));
        }

        if (rest.Length > 0)
        {
            return Scalar(rest);
        }

        if (Peek(out var nextIndent, out var next) && (nextIndent > indent || (allowSequenceAtSameIndent && nextIndent == indent && IsSequenceItem(next))))
        {
            return ParseBlock(nextIndent);
        }

        return null;
    }

    private string ParseBlockScalar(int indent, bool folded, bool keepTrailing, bool strip)
    {
        var collected = new List<string>();
        int? blockIndent = null;
        while (_position < _lines.Count)
        {
            var line = _lines[_position];
            if (line.Trim().Length == 0)
            {
                collected.Add("");
                _position++;
                continue;
            }

            var lineIndent = line.Length - line.TrimStart(' ').Length;
            if (lineIndent <= indent)
            {
                break;
            }

            blockIndent ??= lineIndent;
            collected.Add(line[Math.Min(blockIndent.Value, lineIndent)..]);
            _position++;
        }

        var trailingBlank = collected.AsEnumerable().Reverse().TakeWhile(line => line.Length == 0).Count();
        var body = collected.Take(collected.Count - trailingBlank).ToList();
        var text = folded ? Fold(body) : string.Join("\n", body);
        return strip ? text : keepTrailing ? text + new string('\n', trailingBlank + 1) : text + "\n";
    }

    private static string Fold(List<string> lines)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < lines.Count; i++)
        {
            builder.Append(lines[i]);
            if (i < lines.Count - 1)
            {
                builder.Append(lines[i].Length == 0 || lines[i + 1].Length == 0 ? "\n" : " ");
            }
        }

        return builder.ToString();
    }

    private object? Scalar(string text)
    {
        text = WithoutComment(text).Trim();
        switch (text)
        {
            case "":
                return null;
            case "[]":
                return new List<object?>();
            case "{}":
                return new Dictionary<string, object?>(StringComparer.Ordinal);
            case "~" or "null":
                return null;
        }

        if (text.StartsWith('\'') || text.StartsWith('"'))
        {
            return Quoted(text);
        }

        if (text[0] is '[' or '{' or '&' or '*' or '!' or '%' or '@' or '`')
        {
            throw Error($"unsupported YAML syntax '{text}'");
        }

        return text;
    }

    private string Quoted(string text)
    {
        var quote = text[0];
        var builder = new StringBuilder();
        for (var i = 1; i < text.Length; i++)
        {
            var c = text[i];
            if (c == quote)
            {
                if (quote == '\'' && i + 1 < text.Length && text[i + 1] == '\'')
                {
                    builder.Append('\'');
                    i++;
                    continue;
                }

                if (i != text.Length - 1)
                {
                    throw Error($"text after closing quote in {text}");
                }

                return builder.ToString();
            }

            if (quote == '"' && c == '\\' && i + 1 < text.Length)
            {
                i++;
                builder.Append(text[i] switch
                {
                    'n' => "\n",
                    't' => "\t",
                    'u' when i + 4 < text.Length => ((char)int.Parse(text.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToString(),
                    var other => other.ToString(),
                });
                if (text[i] == 'u')
                {
                    i += 4;
                }

                continue;
            }

            builder.Append(c);
        }

        throw Error($"unterminated quoted scalar {text}");
    }

    private (string Key, string Value) SplitKey(string content) =>
        TrySplitKey(content, out var key, out var rest) ? (key, rest) : throw Error($"expected 'key: value', found '{content}'");

    private bool TrySplitKey(string content, out string key, out string rest)
    {
        key = rest = "";
        char? quote = null;
        for (var i = 0; i < content.Length; i++)
        {
            var c = content[i];
            if (quote is not null)
            {
                if (c == quote)
                {
                    quote = null;
                }

                continue;
            }

            if (i == 0 && c is '\'' or '"')
            {
                quote = c;
                continue;
            }

            if (c == '#' && i > 0 && content[i - 1] == ' ')
            {
                return false;
            }

            if (c == ':' && (i == content.Length - 1 || content[i + 1] == ' '))
            {
                var rawKey = content[..i].Trim();
                key = rawKey.StartsWith('\'') || rawKey.StartsWith('"') ? Quoted(rawKey) : rawKey;
                rest = WithoutComment(content[(i + 1)..]).Trim();
                return key.Length > 0;
            }
        }

        return false;
    }

    private static string WithoutComment(string text)
    {
        char? quote = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote is not null)
            {
                if (c == quote)
                {
                    quote = null;
                }
            }
            else if (c is '\'' or '"' && (i == 0 || text[i - 1] == ' '))
            {
                quote = c;
            }
            else if (c == '#' && (i == 0 || text[i - 1] == ' '))
            {
                return text[..i];
            }
        }

        return text;
    }

    private static bool IsSequenceItem(string content) => content == "-" || content.StartsWith("- ", StringComparison.Ordinal);

    /// <summary>The next line with content, skipping blank lines and comments; indent counts spaces (tabs are an error).</summary>
    private bool Peek(out int indent, out string content)
    {
        while (_position < _lines.Count)
        {
            var line = _lines[_position];
            var trimmed = line.TrimStart(' ');
            if (trimmed.StartsWith('\t'))
            {
                throw Error("tab indentation");
            }

            if (trimmed.Length == 0 || trimmed.StartsWith('#'))
            {
                _position++;
                continue;
            }

            if (trimmed.StartsWith("---", StringComparison.Ordinal) || trimmed.StartsWith("...", StringComparison.Ordinal))
            {
                throw Error("document markers are not supported");
            }

            indent = line.Length - trimmed.Length;
            content = trimmed.TrimEnd();
            return true;
        }

        indent = 0;
        content = "";
        return false;
    }

    private FormatException Error(string message) => new($"asyncapi.yaml line {_position + 1}: {message}");
}
