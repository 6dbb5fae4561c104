namespace RlhfSharp.Text.AddedTokens;

/// <summary>
/// An immutable snapshot of a tokenizer's added tokens with the four matchers encoding needs
/// (raw or normalized text, with or without special tokens). A tokenizer swaps in a new
/// snapshot when tokens are added, so encoders running at that moment see a consistent one.
/// </summary>
internal sealed class AddedVocabulary
{
    public AddedVocabulary(IEnumerable<AddedToken> tokens)
    {
        var byId = new Dictionary<int, AddedToken>();
        foreach (var t in tokens) byId[t.Id] = t;
        Tokens = [.. byId.Values.OrderBy(t => t.Id)];
        ById = byId;
        ByContent = [];
        foreach (var t in Tokens) ByContent.TryAdd(t.Content, t);
        Raw = new AddedTokenMatcher(Tokens.Where(t => !t.Normalized));
        RawNonSpecial = new AddedTokenMatcher(Tokens.Where(t => !t.Normalized && !t.Special));
        Normalized = new AddedTokenMatcher(Tokens.Where(t => t.Normalized));
        NormalizedNonSpecial = new AddedTokenMatcher(Tokens.Where(t => t.Normalized && !t.Special));
    }

    public IReadOnlyList<AddedToken> Tokens { get; }
    public IReadOnlyDictionary<int, AddedToken> ById { get; }
    public Dictionary<string, AddedToken> ByContent { get; }
    public AddedTokenMatcher Raw { get; }
    public AddedTokenMatcher RawNonSpecial { get; }
    public AddedTokenMatcher Normalized { get; }
    public AddedTokenMatcher NormalizedNonSpecial { get; }

    public AddedVocabulary With(AddedToken token) => new(Tokens.Where(t => t.Id != token.Id).Append(token));
}
