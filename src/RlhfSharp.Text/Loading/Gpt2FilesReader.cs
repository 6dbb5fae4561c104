using RlhfSharp.Text.Bpe;
using RlhfSharp.Text.Json;
using RlhfSharp.Text.PreTokenization;

namespace RlhfSharp.Text.Loading;

/// <summary>Builds a tokenizer from the original GPT-2 files: encoder.json (token → id) and vocab.bpe (merges, one a line).</summary>
internal static class Gpt2FilesReader
{
    public const string EndOfText = "<|endoftext|>";

    public static BpeTokenizer Read(string encoderJson, string encoderFile, string vocabBpe, string vocabFile)
    {
        var f = new JsonFields(encoderFile);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        using (var doc = f.Parse(encoderJson))
        {
            f.RequireObject(doc.RootElement, "");
            var tokenOf = new Dictionary<int, string>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                string path = $"[{JsonFields.Quote(p.Name)}]";
                int id = f.AsInt(p.Value, path);
                if (id < 0 || !tokenOf.TryAdd(id, p.Name))
                    throw f.Error(path, id < 0 ? $"id {id} is negative; token ids start at 0"
                        : $"id {id} is also the id of token {JsonFields.Quote(tokenOf[id])}; each id must name exactly one token");
                vocab[p.Name] = id;
            }
        }

        var merges = new List<(string, string)>();
        var m = new JsonFields(vocabFile);
        var lines = vocabBpe.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Length == 0 || (i == 0 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2)
                throw m.Error($"line {i + 1}", $"{JsonFields.Quote(line)} is not two space-separated tokens; expected \"left right\"");
            TokenizerJsonReader.CheckMerge(m, $"line {i + 1}", encoderFile, vocab, parts[0], parts[1]);
            merges.Add((parts[0], parts[1]));
        }

        var model = new BpeModel(vocab, merges, ignoreMerges: false, unkToken: null);
        var tokenizer = new BpeTokenizer(model, normalizer: null,
            new ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: true), [], postProcessor: null);
        if (vocab.ContainsKey(EndOfText))
        {
            // GPT-2 uses <|endoftext|> for BOS, EOS and UNK (as GPT2TokenizerFast does), and adds none by default.
            tokenizer.SetSpecialToken(SpecialTokenRole.Bos, EndOfText);
            tokenizer.SetSpecialToken(SpecialTokenRole.Eos, EndOfText);
            tokenizer.SetSpecialToken(SpecialTokenRole.Unk, EndOfText);
        }
        return tokenizer;
    }
}
