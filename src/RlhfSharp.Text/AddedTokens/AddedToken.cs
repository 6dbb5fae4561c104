namespace RlhfSharp.Text.AddedTokens;

/// <summary>
/// A token matched in the raw text before pre-tokenization, as in tokenizer.json's
/// <c>added_tokens</c>. Special tokens (BOS, EOS, chat markers) can be skipped when decoding.
/// </summary>
/// <param name="Id">The token id.</param>
/// <param name="Content">The exact text that is matched.</param>
/// <param name="Special">Whether decoding with skipSpecialTokens drops it.</param>
/// <param name="SingleWord">Only match when not inside a word (no letter, digit or '_' right before or after).</param>
/// <param name="LStrip">The match also takes the white space to its left.</param>
/// <param name="RStrip">The match also takes the white space to its right.</param>
/// <param name="Normalized">Matched in the normalized text rather than the raw text.</param>
public sealed record AddedToken(int Id, string Content, bool Special, bool SingleWord = false,
    bool LStrip = false, bool RStrip = false, bool Normalized = false);
