using System.Text;
using RlhfSharp.Text.AddedTokens;
using RlhfSharp.Text.Bpe;
using RlhfSharp.Text.PreTokenization;

namespace RlhfSharp.Text;

/// <summary>
/// Trains a byte-level BPE vocabulary (Sennrich et al. 2016, with GPT-2's byte-level alphabet and
/// pre-tokenization, Radford et al. 2019).
/// </summary>
/// <remarks>
/// Ids: special tokens 0…k−1 in the order given, then the 256 byte tokens in byte order, then
/// one token per merge. Each step merges the most frequent adjacent pair; ties go to the pair
/// with the smaller (left id, right id), so the result depends only on the corpus and options.
/// Pair counts are updated incrementally: a merge revisits only the words that contain the pair,
/// and a priority queue with lazy invalidation yields the next best pair.
/// </remarks>
public static class BpeTrainer
{
    public static BpeTokenizer Train(IEnumerable<string> corpus, BpeTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(options);
        var specials = SpecialTokenList(options);
        if (options.VocabSize < specials.Count + 256)
            throw new ArgumentOutOfRangeException(nameof(options), options.VocabSize,
                $"VocabSize must be at least {specials.Count + 256} (the special tokens plus the 256 byte tokens)");
        if (options.MinFrequency < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MinFrequency, "MinFrequency must be at least 1");

        var preTokenizer = options.PreTokenizer ?? new ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: true);
        var addedTokens = specials.Select((s, i) => new AddedToken(i, s, Special: true, Normalized: false)).ToList();
        var wordCounts = CountWords(corpus, preTokenizer, new AddedTokenMatcher(addedTokens));

        var tokens = new List<string>(options.VocabSize);
        tokens.AddRange(specials);
        for (int b = 0; b < 256; b++) tokens.Add(ByteLevelAlphabet.ByteToChar((byte)b).ToString());
        var tokenIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++) tokenIds.TryAdd(tokens[i], i);

        var merges = LearnMerges(wordCounts, specials.Count, options, tokens, tokenIds);

        var vocab = new Dictionary<string, int>(tokenIds, StringComparer.Ordinal);
        var model = new BpeModel(vocab, merges, ignoreMerges: false, unkToken: null, options.CacheCapacity);
        var tokenizer = new BpeTokenizer(model, normalizer: null, preTokenizer, addedTokens, postProcessor: null);
        if (options.BosToken is not null) tokenizer.SetSpecialToken(SpecialTokenRole.Bos, options.BosToken);
        if (options.EosToken is not null) tokenizer.SetSpecialToken(SpecialTokenRole.Eos, options.EosToken);
        if (options.PadToken is not null) tokenizer.SetSpecialToken(SpecialTokenRole.Pad, options.PadToken);
        return tokenizer;
    }

    private static List<string> SpecialTokenList(BpeTrainerOptions options)
    {
        var list = new List<string>();
        foreach (var s in options.SpecialTokens.Concat(new[] { options.BosToken, options.EosToken, options.PadToken }))
        {
            if (s is null) continue;
            if (s.Length == 0) throw new ArgumentException("A special token cannot be empty.", nameof(options));
            if (s.Length == 1 && ByteLevelAlphabet.CharToByte(s[0]) >= 0)
                throw new ArgumentException($"Special token \"{s}\" is one of the 256 byte tokens; use a longer marker such as \"<|{s}|>\".", nameof(options));
            if (!list.Contains(s)) list.Add(s);
        }
        if (options.SpecialTokens.Distinct().Count() != options.SpecialTokens.Count)
            throw new ArgumentException("SpecialTokens contains the same token twice.", nameof(options));
        return list;
    }

    /// <summary>Pre-tokenizes the corpus (special tokens taken out) and counts each piece, in first-seen order.</summary>
    private static Dictionary<string, long> CountWords(IEnumerable<string> corpus, PreTokenizer preTokenizer, AddedTokenMatcher specials)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var pieces = new List<string>();
        foreach (var text in corpus)
        {
            if (text is null) continue;
            foreach (var (segment, token) in specials.Split(text))
            {
                if (token is not null) continue;
                pieces.Clear();
                preTokenizer.Split(segment, pieces);
                foreach (var p in pieces) counts[p] = counts.GetValueOrDefault(p) + 1;
            }
        }
        return counts;
    }

    private static List<(string, string)> LearnMerges(Dictionary<string, long> wordCounts, int byteBase,
        BpeTrainerOptions options, List<string> tokens, Dictionary<string, int> tokenIds)
    {
        var words = new List<int>[wordCounts.Count];
        var counts = new long[wordCounts.Count];
        int w = 0;
        foreach (var (word, count) in wordCounts)
        {
            var bytes = Encoding.UTF8.GetBytes(word);
            words[w] = [.. bytes.Select(b => byteBase + b)];
            counts[w++] = count;
        }

        var pairs = new PairCounts();
        for (int i = 0; i < words.Length; i++) pairs.AddWord(words[i], counts[i], i);
        pairs.PushAll();

        var merges = new List<(string, string)>();
        var changed = new HashSet<long>();
        while (tokenIds.Count < options.VocabSize && pairs.TryPopBest(out long pair, out long best))
        {
            if (best < options.MinFrequency) break;
            var (left, right) = PairCounts.Split(pair);
            string merged = tokens[left] + tokens[right];
            if (!tokenIds.TryGetValue(merged, out int newId))
            {
                newId = tokens.Count;
                tokens.Add(merged);
                tokenIds[merged] = newId;
            }
            merges.Add((tokens[left], tokens[right]));

            changed.Clear();
            foreach (int wi in pairs.WordsWith(pair))
            {
                var word = words[wi];
                if (!Contains(word, left, right)) continue;
                pairs.RemoveWord(word, counts[wi], changed);
                MergeInWord(word, left, right, newId);
                pairs.AddWord(word, counts[wi], wi, changed);
            }
            pairs.Forget(pair);
            pairs.Push(changed);
        }
        return merges;
    }

    private static bool Contains(List<int> word, int left, int right)
    {
        for (int i = 0; i + 1 < word.Count; i++)
            if (word[i] == left && word[i + 1] == right) return true;
        return false;
    }

    /// <summary>Replaces each non-overlapping occurrence of (left, right), left to right, with <paramref name="merged"/>.</summary>
    private static void MergeInWord(List<int> word, int left, int right, int merged)
    {
        int write = 0;
        for (int read = 0; read < word.Count; read++)
        {
            if (read + 1 < word.Count && word[read] == left && word[read + 1] == right)
            {
                word[write++] = merged;
                read++;
            }
            else word[write++] = word[read];
        }
        word.RemoveRange(write, word.Count - write);
    }
}
