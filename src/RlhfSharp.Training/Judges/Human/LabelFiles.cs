using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Judges.Human;

/// <summary>
/// The files of a human labelling session and how they are read back. Beside the preference file
/// <c>X.jsonl</c> (<c>--out</c>) live <c>X.no_preference.jsonl</c> (ties, both-bad, skips) and, when
/// the pairs were sampled from policies, <c>X.pairs.jsonl</c> (the pairs, so that a restart shows
/// the same ones).
/// </summary>
public static class LabelFiles
{
    /// <summary>The side file of ties, both-bad and skips for the preference file <paramref name="preferencePath"/>.</summary>
    public static string NoPreferencePath(string preferencePath) => Sibling(preferencePath, ".no_preference.jsonl");

    /// <summary>The file the sampled pairs are kept in for the preference file <paramref name="preferencePath"/>.</summary>
    public static string PairsPath(string preferencePath) => Sibling(preferencePath, ".pairs.jsonl");

    private static string Sibling(string path, string suffix)
    {
        var full = Path.GetFullPath(path);
        return Path.Combine(Path.GetDirectoryName(full)!, Path.GetFileNameWithoutExtension(full) + suffix);
    }

    /// <summary>
    /// Every label in a session's files (the preference file and its side file when present), in
    /// the order they were given. A final line cut off mid-write (a crash or power cut during an
    /// append, so never acknowledged) is left out and described in <c>Notes</c>; any other bad line
    /// is a <see cref="DataFormatException"/> naming the file and line, and so is a second label by
    /// one labeller for one pair.
    /// </summary>
    public static (IReadOnlyList<LabelRecord> Records, IReadOnlyList<string> Notes) Read(string preferencePath)
    {
        if (!File.Exists(preferencePath))
            throw new DataFormatException(DataErrorKind.FileNotFound, preferencePath, 0, null, "file not found; give the --out file of `rlhf label --judge human`.");
        var notes = new List<string>();
        var records = new List<LabelRecord>();
        var seen = new Dictionary<(string, string), (string File, int Line)>();
        foreach (var (path, kind) in new[] { (preferencePath, LabelFileKind.Preference), (NoPreferencePath(preferencePath), LabelFileKind.NoPreference) })
        {
            if (!File.Exists(path))
                continue;
            var content = ReadFile(path, kind);
            if (content.Torn is { } torn)
                notes.Add(torn.Describe(path));
            foreach (var line in content.Lines)
            {
                CheckUnique(seen, line.Record, path, line.Number);
                records.Add(line.Record);
            }
        }
        return ([.. records.OrderBy(r => r.Seq)], notes);
    }

    internal static void CheckUnique(Dictionary<(string, string), (string File, int Line)> seen, LabelRecord record, string path, int line)
    {
        if (seen.TryGetValue((record.ItemId, record.Labeller), out var first))
            throw new DataFormatException(DataErrorKind.DuplicateLabel, path, line, "labeller",
                $"\"{record.Labeller}\" already labelled this pair (item {record.ItemId}) at {first.File} line {first.Line}; each labeller labels a pair once. Remove one of the two lines.");
        seen[(record.ItemId, record.Labeller)] = (path, line);
    }

    /// <summary>One line of a labelling file: its record, its text and its 1-based line number.</summary>
    internal sealed record Line(LabelRecord Record, string Raw, int Number);

    /// <summary>A final line without its newline: where it starts, how long it is and whether it is a whole label.</summary>
    internal sealed record TornTail(int Line, long Offset, int Bytes, bool Complete)
    {
        public string Describe(string path) => Complete
            ? $"{path}: line {Line} had no final newline (a write was cut short after the label itself); the label is kept."
            : $"{path}: line {Line} was cut off mid-write ({Bytes} bytes, a crash or power cut during a save); that label was never acknowledged and is left out, so label the pair again.";
    }

    internal sealed record Content(List<Line> Lines, TornTail? Torn);

    internal static Content ReadFile(string path, LabelFileKind kind)
    {
        var bytes = File.ReadAllBytes(path);
        var lines = new List<Line>();
        TornTail? torn = null;
        int start = 0;
        for (int number = 1; start < bytes.Length; number++)
        {
            int newline = Array.IndexOf(bytes, (byte)'\n', start);
            bool last = newline < 0;
            int end = last ? bytes.Length : newline;
            var span = new ReadOnlySpan<byte>(bytes, start, end - start);
            if (number == 1 && span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
                span = span[3..];
            if (!span.IsEmpty && span[^1] == (byte)'\r')
                span = span[..^1];
            int offset = start;
            start = end + 1;
            if (span.Trim(" \t"u8).IsEmpty)
                continue;
            var context = new LineContext(path, number);
            JsonDocument document;
            try
            {
                if (!Utf8.IsValid(span))
                    throw context.Error(DataErrorKind.InvalidEncoding, null, "invalid UTF-8; labelling files are UTF-8.");
                document = JsonDocument.Parse(span.ToArray());
            }
            catch (Exception e) when (last && e is JsonException or DataFormatException)
            {
                torn = new TornTail(number, offset, end - offset, Complete: false);
                break;
            }
            catch (JsonException e)
            {
                throw context.Error(DataErrorKind.InvalidJson, null, $"invalid JSON ({e.Message.Split(" LineNumber:")[0].TrimEnd('.')}); each line must be one JSON object. Was the file edited by hand?");
            }
            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                    throw context.Error(DataErrorKind.NotAnObject, null, $"expected a JSON object, found {JsonFields.Describe(document.RootElement)}.");
                if (JsonUnicode.Find(span) is { } bad)
                    throw context.Error(DataErrorKind.InvalidEncoding, JsonUnicode.PathOfInvalid(document.RootElement), $"{bad.Reason} (byte {bad.ByteInLine} of the line). Was the file edited by hand?");
                lines.Add(new Line(LabelLine.Parse(document.RootElement, context, kind), Encoding.UTF8.GetString(span), number));
            }
            if (last)
                torn = new TornTail(number, offset, end - offset, Complete: true);
        }
        return new Content(lines, torn);
    }
}
