using System.Text.Json;
using RlhfSharp.Models.IO;

namespace RlhfSharp.Training.Metrics;

/// <summary>Prepares a JSONL metric file for appending when a run resumes.</summary>
internal static class JsonlResume
{
    /// <summary>
    /// Drops lines whose <c>step</c> is greater than <paramref name="resumeFromStep"/> (when given) and a torn
    /// last line left by a process killed mid-write, rewriting the file atomically; leaves it untouched when
    /// nothing is dropped. A complete line that is not a JSON object with an integer <c>step</c> is an
    /// <see cref="InvalidDataException"/> naming the file and line.
    /// </summary>
    public static void Truncate(string path, long? resumeFromStep)
    {
        if (!File.Exists(path))
            return;
        var bytes = File.ReadAllBytes(path);
        var kept = new List<ReadOnlyMemory<byte>>();
        var dropped = false;
        var start = 0;
        for (var lineNo = 1; start < bytes.Length; lineNo++)
        {
            var newline = Array.IndexOf(bytes, (byte)'\n', start);
            var torn = newline < 0;
            var end = torn ? bytes.Length : newline;
            var line = new ReadOnlyMemory<byte>(bytes, start, end - start);
            start = end + 1;
            if (line.Span.Trim(" \t\r"u8).IsEmpty)
            {
                dropped = true;
                continue;
            }
            if (!TryReadStep(line, out var step))
            {
                if (torn)
                {
                    dropped = true;
                    continue;
                }
                throw new InvalidDataException(
                    $"{path} line {lineNo}: expected a JSON object with an integer \"step\" field. "
                    + "The file was edited or written by another program; move it aside or start the run without append.");
            }
            if (resumeFromStep is { } last && step > last)
            {
                dropped = true;
                continue;
            }
            kept.Add(line);
            if (torn)
                dropped = true; // rewritten below with its missing newline
        }
        if (!dropped)
            return;
        AtomicFile.Write(path, stream =>
        {
            foreach (var line in kept)
            {
                stream.Write(line.Span);
                stream.WriteByte((byte)'\n');
            }
        });
    }

    private static bool TryReadStep(ReadOnlyMemory<byte> line, out long step)
    {
        step = 0;
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("step", out var s)
                && s.ValueKind == JsonValueKind.Number
                && s.TryGetInt64(out step);
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
