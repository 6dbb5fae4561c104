using RlhfSharp.Text.AddedTokens;

namespace RlhfSharp.Text;

public sealed partial class BpeTokenizer
{
    private readonly object _specialLock = new();
    private readonly string?[] _roleTokens = new string?[4];
    private readonly int?[] _roleIds = new int?[4];
    private bool? _addBos, _addEos;

    /// <summary>The beginning-of-sequence token, or null.</summary>
    public string? BosToken => GetSpecialToken(SpecialTokenRole.Bos);

    /// <summary>The end-of-sequence token, or null.</summary>
    public string? EosToken => GetSpecialToken(SpecialTokenRole.Eos);

    /// <summary>The padding token, or null.</summary>
    public string? PadToken => GetSpecialToken(SpecialTokenRole.Pad);

    /// <summary>The unknown token, or null.</summary>
    public string? UnkToken => GetSpecialToken(SpecialTokenRole.Unk);

    public int? BosTokenId => GetSpecialTokenId(SpecialTokenRole.Bos);
    public int? EosTokenId => GetSpecialTokenId(SpecialTokenRole.Eos);
    public int? PadTokenId => GetSpecialTokenId(SpecialTokenRole.Pad);
    public int? UnkTokenId => GetSpecialTokenId(SpecialTokenRole.Unk);

    /// <summary>
    /// Whether <c>Encode(text, addSpecialTokens: true)</c> puts BOS first. When neither this nor
    /// <see cref="AddEosToken"/> was set (tokenizer_config.json's <c>add_bos_token</c>/<c>add_eos_token</c>
    /// or this setter), the tokenizer.json post-processor's template (e.g. Llama-3's
    /// <c>&lt;|begin_of_text|&gt;</c>) decides instead.
    /// </summary>
    public bool AddBosToken
    {
        get => _addBos ?? (UsesTemplate && PostProcessor!.Prefix.Length > 0);
        set => _addBos = value;
    }

    /// <summary>Whether <c>Encode(text, addSpecialTokens: true)</c> puts EOS last; see <see cref="AddBosToken"/>.</summary>
    public bool AddEosToken
    {
        get => _addEos ?? (UsesTemplate && PostProcessor!.Suffix.Length > 0);
        set => _addEos = value;
    }

    internal bool BosEosFlagsExplicit => _addBos is not null || _addEos is not null;

    private bool UsesTemplate => _addBos is null && _addEos is null && PostProcessor is not null;

    public string? GetSpecialToken(SpecialTokenRole role) => _roleTokens[(int)role];

    public int? GetSpecialTokenId(SpecialTokenRole role) => _roleIds[(int)role];

    /// <summary>
    /// Sets (or with null clears) the token for a role. A token not yet known is added as a new
    /// special token with the next free id; a vocabulary entry becomes a special added token, so
    /// it is recognised in text and skipped by <c>Decode(..., skipSpecialTokens: true)</c>.
    /// </summary>
    /// <returns>The token's id, or null when cleared.</returns>
    public int? SetSpecialToken(SpecialTokenRole role, string? content)
    {
        lock (_specialLock)
        {
            if (content is null)
            {
                _roleTokens[(int)role] = null;
                _roleIds[(int)role] = null;
                return null;
            }
            int id = AddSpecialToken(content);
            _roleTokens[(int)role] = content;
            _roleIds[(int)role] = id;
            return id;
        }
    }

    /// <summary>
    /// Registers <paramref name="content"/> as a special added token and returns its id: the id
    /// it already has as an added token or vocabulary entry, otherwise the next free id.
    /// </summary>
    public int AddSpecialToken(string content)
    {
        ArgumentException.ThrowIfNullOrEmpty(content);
        lock (_specialLock)
        {
            var added = _added;
            if (added.ByContent.TryGetValue(content, out var existing))
            {
                if (!existing.Special) _added = added.With(existing with { Special = true });
                return existing.Id;
            }
            int id = _model.TokenToId(content) ?? VocabSize;
            _added = added.With(new AddedToken(id, content, Special: true));
            return id;
        }
    }

    private bool IsRoleToken(int id)
    {
        foreach (var roleId in _roleIds)
            if (roleId == id) return true;
        return false;
    }

    private int[] SpecialPrefix()
    {
        if (UsesTemplate) return PostProcessor!.Prefix;
        return AddBosToken && BosTokenId is int bos ? [bos] : [];
    }

    private int[] SpecialSuffix()
    {
        if (UsesTemplate) return PostProcessor!.Suffix;
        return AddEosToken && EosTokenId is int eos ? [eos] : [];
    }

    internal void ApplyConfig(TokenizerConfig config)
    {
        if (config.BosToken is not null) SetSpecialToken(SpecialTokenRole.Bos, config.BosToken);
        if (config.EosToken is not null) SetSpecialToken(SpecialTokenRole.Eos, config.EosToken);
        if (config.PadToken is not null) SetSpecialToken(SpecialTokenRole.Pad, config.PadToken);
        if (config.UnkToken is not null) SetSpecialToken(SpecialTokenRole.Unk, config.UnkToken);
        if (config.AddBosToken is bool addBos) _addBos = addBos;
        if (config.AddEosToken is bool addEos) _addEos = addEos;
        ModelMaxLength = config.ModelMaxLength;
    }

    /// <summary>tokenizer_config.json's <c>model_max_length</c>, when it gave a sensible one.</summary>
    public int? ModelMaxLength { get; set; }
}
