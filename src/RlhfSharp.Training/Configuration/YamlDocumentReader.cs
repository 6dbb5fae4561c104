using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace RlhfSharp.Training.Configuration;

/// <summary>
/// Reads one YAML document into <see cref="YamlNode"/>s with their positions, using YamlDotNet's
/// event parser. Syntax errors (tab indentation, an unclosed quote...) and what YAML allows but a
/// config must not contain (duplicate keys, non-scalar keys, several documents) become
/// <see cref="ConfigException"/>s naming the source and line.
/// </summary>
internal static partial class YamlDocumentReader
{
    /// <summary>The document's root node, or null for an empty document (only comments or nothing).</summary>
    public static YamlNode? Read(string text, YamlSource source)
    {
        MarkingParser? parser = null;
        try
        {
            parser = new MarkingParser(new Parser(new StringReader(text)));
            var anchors = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out _))
            {
                return null;
            }
            parser.Consume<DocumentStart>();
            YamlNode root = ReadNode(parser, source, anchors);
            parser.Consume<DocumentEnd>();
            if (!parser.TryConsume<StreamEnd>(out _))
            {
                Mark at = parser.Current!.Start;
                throw new ConfigException(Locate(source, at), null,
                    "a config holds a single YAML document; remove the extra '---' and what follows it",
                    source.HasLines ? (int)at.Line : null);
            }
            return root;
        }
        catch (YamlException e)
        {
            string detail = StripMarks(e.Message);
            int line = (int)e.Start.Line, column = (int)e.Start.Column;
            if (detail.Contains("tab", StringComparison.OrdinalIgnoreCase) && FirstTabIndentedLine(text) is int tabLine)
            {
                // YamlDotNet marks the enclosing mapping; the line with the tab is the one to fix.
                (line, column) = (tabLine, 1);
                detail += " Indent with spaces.";
            }
            throw new ConfigException(Locate(source, line, column), null,
                $"invalid YAML: {detail}", source.HasLines ? line : null);
        }
        catch (InvalidOperationException e) when (e.TargetSite?.DeclaringType?.Namespace?.StartsWith("YamlDotNet", StringComparison.Ordinal) == true)
        {
            // YamlDotNet's scanner fails this way (not with a YamlException) on, for one, a '[' or '{'
            // left open with the next line not indented: "a: [\n0". The last event read marks the place.
            Mark at = parser?.LastStart ?? Mark.Empty;
            throw new ConfigException(Locate(source, at), null,
                "invalid YAML: the text after this point cannot be read; is a '[' or '{' left open, or its next line not indented?",
                source.HasLines ? (int)at.Line : null);
        }
    }

    /// <summary>Remembers where the last event it read started, for errors the parser reports without a position.</summary>
    private sealed class MarkingParser(IParser inner) : IParser
    {
        public Mark LastStart { get; private set; } = Mark.Empty;

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            bool moved = inner.MoveNext();
            if (inner.Current is { } current)
                LastStart = current.Start;
            return moved;
        }
    }

    private static YamlNode ReadNode(IParser parser, YamlSource source, Dictionary<string, YamlNode> anchors)
    {
        ParsingEvent current = parser.Current ?? throw new YamlException("unexpected end of the document");
        int line = (int)current.Start.Line, column = (int)current.Start.Column;
        YamlNode node;
        switch (current)
        {
            case AnchorAlias alias:
                parser.MoveNext();
                return anchors.TryGetValue(alias.Value.Value, out YamlNode? target)
                    ? target
                    : throw new ConfigException(Locate(source, line, column), null,
                        $"alias '*{alias.Value.Value}' refers to no anchor defined before it", source.HasLines ? line : null);
            case Scalar scalar:
                parser.MoveNext();
                node = new YamlScalar(source, line, column, scalar.Value, scalar.Style == ScalarStyle.Plain);
                break;
            case SequenceStart:
                parser.MoveNext();
                var items = new List<YamlNode>();
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    items.Add(ReadNode(parser, source, anchors));
                }
                node = new YamlSequence(source, line, column, items);
                break;
            case MappingStart:
                parser.MoveNext();
                node = ReadMappingEntries(parser, source, anchors, line, column);
                break;
            default:
                throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}");
        }
        if (current is NodeEvent { Anchor.IsEmpty: false } anchored)
        {
            anchors[anchored.Anchor.Value] = node;
        }
        return node;
    }

    private static YamlMapping ReadMappingEntries(IParser parser, YamlSource source,
        Dictionary<string, YamlNode> anchors, int line, int column)
    {
        var entries = new List<KeyValuePair<YamlScalar, YamlNode>>();
        var seen = new Dictionary<string, YamlScalar>(StringComparer.Ordinal);
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            YamlNode key = ReadNode(parser, source, anchors);
            if (key is not YamlScalar scalarKey)
            {
                throw new ConfigException(key.Location, null,
                    "mapping keys must be plain names such as learning_rate, not lists or mappings",
                    key.FileLine);
            }
            if (seen.TryGetValue(scalarKey.Text, out YamlScalar? first))
            {
                string earlier = source.HasLines ? $" (first set on line {first.Line})" : "";
                throw new ConfigException(scalarKey.Location, scalarKey.Text,
                    $"duplicate key '{scalarKey.Text}'{earlier}; each key may appear once in a mapping",
                    scalarKey.FileLine);
            }
            seen.Add(scalarKey.Text, scalarKey);
            entries.Add(new(scalarKey, ReadNode(parser, source, anchors)));
        }
        return new YamlMapping(source, line, column, entries);
    }

    private static int? FirstTabIndentedLine(string text)
    {
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string indent = lines[i][..(lines[i].Length - lines[i].TrimStart(' ', '\t').Length)];
            if (indent.Contains('\t'))
            {
                return i + 1;
            }
        }
        return null;
    }

    private static string Locate(YamlSource source, Mark at) => Locate(source, (int)at.Line, (int)at.Column);

    private static string Locate(YamlSource source, int line, int column) =>
        source.HasLines ? $"{source.Name}:{line}:{column}" : source.Name;

    /// <summary>YamlDotNet prefixes messages with "(Line: 1, Col: 2, Idx: 3) - (...): "; the location is ours to write.</summary>
    private static string StripMarks(string message) => MarkPrefix().Replace(message, "");

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex MarkPrefix();
}
