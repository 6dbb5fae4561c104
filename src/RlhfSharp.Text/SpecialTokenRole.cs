namespace RlhfSharp.Text;

/// <summary>The roles a tokenizer_config.json gives special tokens.</summary>
public enum SpecialTokenRole
{
    /// <summary>Beginning of sequence (<c>bos_token</c>).</summary>
    Bos,

    /// <summary>End of sequence (<c>eos_token</c>).</summary>
    Eos,

    /// <summary>Padding (<c>pad_token</c>).</summary>
    Pad,

    /// <summary>Unknown (<c>unk_token</c>).</summary>
    Unk,
}
