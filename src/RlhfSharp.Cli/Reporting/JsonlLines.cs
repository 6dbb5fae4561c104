using System.Text;

namespace RlhfSharp.Cli.Reporting;

/// <summary>One line of a JSONL file, numbered from 1.</summary>
/// <param name="Terminated">False for a last line without its newline: a writer may still be in the middle of it.</param>
internal readonly record struct JsonlLine(int Number, string Text, bool Terminated);

/// <summary>
/// Reads the lines of a JSONL file that a running trainer may be appending to: the file is opened
/// for sharing, and a last line without its newline is returned as such, so that a reader can
/// leave it for later instead of taking half a record for a broken one.
/// </summary>
internal static class JsonlLines
{
    /// <summary>A JSON parser's complaint without its own "LineNumber: 0" (the caller names the file line), with the column.</summary>
    public static string Describe(System.Text.Json.JsonException e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0)
            message = message[..cut];
        return e.BytePositionInLine is { } column ? $"{message.TrimEnd('.')} (at byte {column + 1} of the line)" : message;
    }

    /// <summary>"field \"x.y\": " for the first string of a line that is not valid Unicode, or "" when the line does not parse.</summary>
    internal static string FieldOf(ReadOnlyMemory<byte> line)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            return JsonUnicode.PathOfInvalid(doc.RootElement) is { } field ? $"field \"{field}\": " : "";
        }
        catch (System.Text.Json.JsonException)
        {
            return "";
        }
    }

    public static List<JsonlLine> Read(string path)
    {
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            bytes = copy.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReportInputException($"{path}: cannot be read: {e.Message}");
        }
        var lines = new List<JsonlLine>();
        var decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);
        int start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        int number = 0;
        while (start < bytes.Length)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', start);
            bool terminated = end >= 0;
            if (!terminated)
                end = bytes.Length;
            number++;
            if (JsonUnicode.Find(bytes.AsSpan(start, end - start)) is { } bad)
            {
                // A last line still being written may end inside a character; leave it for later.
                if (!terminated)
                    break;
                throw new ReportInputException($"{path}:{number}: {FieldOf(bytes.AsMemory(start, end - start))}{bad.Reason} (at byte {bad.ByteInLine} of the line)");
            }
            string text = decoder.GetString(bytes, start, end - start).TrimEnd('\r');
            if (text.Trim().Length > 0)
                lines.Add(new JsonlLine(number, text, terminated));
            start = end + 1;
        }
        return lines;
    }
}
