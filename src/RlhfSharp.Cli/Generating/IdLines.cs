using System.Text.Json;
using RlhfSharp.Text;

namespace RlhfSharp.Cli.Generating;

/// <summary>
/// Token ids as <c>rlhf tokenize</c> writes them, one JSON array per line (<c>[15496, 11, 995]</c>),
/// read back for <c>--decode</c> with every id checked against the tokenizer.
/// </summary>
internal static class IdLines
{
    /// <summary>The ids as one compact JSON array: <c>[15496,11,995]</c>.</summary>
    public static string Format(IReadOnlyList<int> ids) => "[" + string.Join(",", ids) + "]";

    /// <summary>
    /// One line's ids. <paramref name="where"/> names the line in errors ("ids.txt: line 3",
    /// "--text"); every id must be in <paramref name="tokenizer"/>'s vocabulary.
    /// </summary>
    public static int[] Parse(string line, string where, BpeTokenizer tokenizer)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new InputException($"{where}, column {(e.BytePositionInLine ?? 0) + 1}: not a JSON array of token ids ({Trim(e.Message)}); expected a line like [15496, 11, 995]", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
                throw new InputException($"{where}: expected a JSON array of token ids like [15496, 11, 995], found {Short(root)}");
            var ids = new int[root.GetArrayLength()];
            int i = 0;
            foreach (var item in root.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id))
                    throw new InputException($"{where}: item {i} is {Short(item)}, not a token id; ids are whole numbers from 0 to {tokenizer.VocabSize - 1}");
                if (tokenizer.IdToToken(id) is null)
                    throw new InputException($"{where}: item {i} is id {id}, which is not in the tokenizer's vocabulary; ids run from 0 to {tokenizer.VocabSize - 1}");
                ids[i++] = id;
            }
            return ids;
        }
    }

    private static string Short(JsonElement e)
    {
        string raw = e.GetRawText();
        return raw.Length > 40 ? raw[..37] + "..." : raw;
    }

    private static string Trim(string message)
    {
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd(' ', '.');
    }
}
