using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace RlhfSharp;

/// <summary>Where a JSON text stops being valid Unicode: 1-based line and byte in that line, and why.</summary>
public readonly record struct JsonUnicodeError(int Line, int ByteInLine, string Reason)
{
    /// <summary>"line 3, byte 17: ..." for messages.</summary>
    public override string ToString() => $"line {Line}, byte {ByteInLine}: {Reason}";
}

/// <summary>
/// Finds text in JSON input that is not valid Unicode: bytes that are not UTF-8, and string
/// escapes naming half of a surrogate pair ("\ud800" alone). The JSON parser accepts both and
/// the failure comes later, when the string is read; every JSON reader checks here first so the
/// user gets the file, line and field instead of a stack trace.
/// </summary>
public static class JsonUnicode
{
    /// <summary>What <see cref="PathOfInvalid"/> puts before the path of an object whose key is the invalid text.</summary>
    public const string KeyPrefix = "a key in ";

    /// <summary>The path <see cref="PathOfInvalid"/> gives the document itself.</summary>
    public const string Root = "(root)";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The first invalid UTF-8 sequence or lone surrogate escape in <paramref name="utf8Json"/>, or null.</summary>
    public static JsonUnicodeError? Find(ReadOnlySpan<byte> utf8Json)
    {
        if (!Utf8.IsValid(utf8Json))
        {
            Span<char> scratch = new char[utf8Json.Length];
            Utf8.ToUtf16(utf8Json, scratch, out int valid, out _, replaceInvalidSequences: false);
            var (line, column) = Position(utf8Json, valid);
            return new JsonUnicodeError(line, column, $"byte 0x{utf8Json[valid]:X2} is not valid UTF-8; save the file as UTF-8");
        }
        return FindLoneSurrogate(utf8Json);
    }

    /// <summary>The first string escape naming an unpaired UTF-16 surrogate (e.g. "\ud800"), or null.</summary>
    private static JsonUnicodeError? FindLoneSurrogate(ReadOnlySpan<byte> s)
    {
        bool inString = false;
        for (int i = 0; i < s.Length; i++)
        {
            byte b = s[i];
            if (!inString)
            {
                inString = b == (byte)'"';
                continue;
            }
            if (b == (byte)'"')
            {
                inString = false;
                continue;
            }
            if (b != (byte)'\\' || i + 1 >= s.Length)
                continue;
            if (s[i + 1] != (byte)'u')
            {
                i++;
                continue;
            }
            if (Hex4(s, i + 2) is not int unit)
                continue; // malformed escape: the parser reports it
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                bool paired = i + 11 < s.Length && s[i + 6] == (byte)'\\' && s[i + 7] == (byte)'u'
                    && Hex4(s, i + 8) is int low && low is >= 0xDC00 and <= 0xDFFF;
                if (!paired)
                    return Error(s, i, $"the escape \\u{unit:x4} is the first half of a surrogate pair with no second half (\\udc00-\\udfff) after it; text must be valid Unicode");
                i += 11;
                continue;
            }
            if (unit is >= 0xDC00 and <= 0xDFFF)
                return Error(s, i, $"the escape \\u{unit:x4} is the second half of a surrogate pair with no first half (\\ud800-\\udbff) before it; text must be valid Unicode");
            i += 5;
        }
        return null;
    }

    /// <summary>
    /// The JSON path (<c>messages[1].content</c>, <c>(root)</c>) of the first string or property
    /// name that cannot be read as text, or null when every one can.
    /// </summary>
    public static string? PathOfInvalid(JsonElement element, string path = "")
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Readable(() => element.GetString()) ? null : Named(path);
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (PathOfInvalid(item, $"{path}[{i++}]") is { } found)
                        return found;
                }
                return null;
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject())
                {
                    string? name = null;
                    if (!Readable(() => name = p.Name))
                        return KeyPrefix + Named(path);
                    if (PathOfInvalid(p.Value, path.Length == 0 ? name! : $"{path}.{name}") is { } found)
                        return found;
                }
                return null;
            default:
                return null;
        }
    }

    /// <summary>Decodes UTF-8 (a leading byte-order mark dropped), assuming <see cref="Find"/> found nothing.</summary>
    public static string Decode(ReadOnlySpan<byte> utf8)
    {
        if (utf8.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            utf8 = utf8[3..];
        return StrictUtf8.GetString(utf8);
    }

    private static string Named(string path) => path.Length == 0 ? Root : path;

    private static bool Readable(Action read)
    {
        try
        {
            read();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static int? Hex4(ReadOnlySpan<byte> s, int at)
    {
        if (at + 4 > s.Length)
            return null;
        int v = 0;
        for (int k = 0; k < 4; k++)
        {
            int d = s[at + k] switch
            {
                >= (byte)'0' and <= (byte)'9' and var c => c - '0',
                >= (byte)'a' and <= (byte)'f' and var c => c - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' and var c => c - 'A' + 10,
                _ => -1,
            };
            if (d < 0)
                return null;
            v = (v * 16) + d;
        }
        return v;
    }

    private static JsonUnicodeError Error(ReadOnlySpan<byte> s, int at, string reason)
    {
        var (line, column) = Position(s, at);
        return new JsonUnicodeError(line, column, reason);
    }

    private static (int Line, int Column) Position(ReadOnlySpan<byte> s, int at)
    {
        var before = s[..at];
        int line = before.Count((byte)'\n') + 1;
        int lastNewline = before.LastIndexOf((byte)'\n');
        return (line, at - lastNewline);
    }
}
