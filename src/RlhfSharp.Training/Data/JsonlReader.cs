using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace RlhfSharp.Training.Data;

/// <summary>
/// The loop every JSONL loader shares: read lines, skip blank ones, check UTF-8, parse each line
/// as a JSON object and hand it to a line parser; collect examples or, with
/// <see cref="DataLoadOptions.SkipBadLines"/>, count the lines the parser rejects.
/// </summary>
internal static class JsonlReader
{
    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 64 };

    public static (List<T> Examples, LoadReport Report) ReadFile<T>(string path, DataLoadOptions? options, Func<JsonElement, LineContext, T> parseLine)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!System.IO.File.Exists(path))
            throw new DataFormatException(DataErrorKind.FileNotFound, path, 0, null, "file not found; check the path (relative paths are resolved from the working directory).");
        using var stream = System.IO.File.OpenRead(path);
        return Read(stream, path, options, parseLine);
    }

    public static (List<T> Examples, LoadReport Report) Read<T>(Stream stream, string source, DataLoadOptions? options, Func<JsonElement, LineContext, T> parseLine)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        options ??= DataLoadOptions.Default;
        var report = new LoadReport(source, Math.Max(0, options.MaxReportedErrors));
        var examples = new List<T>();
        int nonBlank = 0;
        foreach (var (line, bytes) in Utf8LineReader.ReadLines(stream))
        {
            report.Lines = line;
            if (IsBlank(bytes)) continue;
            nonBlank++;
            var context = new LineContext(source, line);
            try
            {
                examples.Add(ParseLine(bytes, context, parseLine));
            }
            catch (DataFormatException e) when (options.SkipBadLines)
            {
                report.AddSkipped(e);
            }
        }
        report.Loaded = examples.Count;
        if (nonBlank == 0)
            throw new DataFormatException(DataErrorKind.EmptyFile, source, 0, null, "the file has no data lines; expected one JSON object per line.");
        if (examples.Count == 0)
            throw new DataFormatException(DataErrorKind.NoUsableLines, source, 0, null,
                $"all {report.Skipped} data lines were skipped as bad, so there is nothing to load. {report}");
        return (examples, report);
    }

    private static T ParseLine<T>(byte[] bytes, LineContext context, Func<JsonElement, LineContext, T> parseLine)
    {
        if (!Utf8.IsValid(bytes))
        {
            int validPrefix = ValidUtf8Prefix(bytes);
            throw context.Error(DataErrorKind.InvalidEncoding, null,
                $"invalid UTF-8 at byte {validPrefix + 1} of the line; save the file as UTF-8.");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, JsonOptions);
        }
        catch (JsonException e)
        {
            int bytePos = (int)Math.Clamp(e.BytePositionInLine ?? 0, 0, bytes.Length);
            int column = Encoding.UTF8.GetCharCount(bytes, 0, bytePos) + 1;
            throw context.Error(DataErrorKind.InvalidJson, null,
                $"invalid JSON at column {column}: {Reason(e)} Each line must be one complete JSON object ({{...}}) on a single line.");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw context.Error(DataErrorKind.NotAnObject, null,
                    $"expected a JSON object ({{...}}), found {JsonFields.Describe(root)}.");
            // The parser accepts a lone surrogate escape ("\ud800"); reading that string would fail later.
            if (JsonUnicode.Find(bytes) is { } bad)
                throw context.Error(DataErrorKind.InvalidEncoding, JsonUnicode.PathOfInvalid(root),
                    $"{bad.Reason} (byte {bad.ByteInLine} of the line).");
            return parseLine(root, context);
        }
    }

    /// <summary>The parser's explanation without its position suffix (we give the column ourselves).</summary>
    private static string Reason(JsonException e)
    {
        var message = e.Message;
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        message = (cut >= 0 ? message[..cut] : message).Trim();
        return message.EndsWith('.') ? message : message + ".";
    }

    private static int ValidUtf8Prefix(byte[] bytes)
    {
        var chars = new char[bytes.Length];
        Utf8.ToUtf16(bytes, chars, out int bytesRead, out _, replaceInvalidSequences: false);
        return bytesRead;
    }

    private static bool IsBlank(byte[] bytes)
    {
        foreach (var b in bytes)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        return true;
    }
}
