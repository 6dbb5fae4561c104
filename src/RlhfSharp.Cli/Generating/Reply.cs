namespace RlhfSharp.Cli.Generating;

/// <summary>One generated reply.</summary>
/// <param name="Text">The reply (special tokens and the end-of-turn token left out, a stop string cut off).</param>
/// <param name="FinishReason">"stop" (EOS, end of turn or a stop string), "length" (the token limit) or "interrupted".</param>
/// <param name="Tokens">Tokens drawn.</param>
/// <param name="Capped">True when the positions left were fewer than the max new tokens asked for.</param>
internal sealed record Reply(string Text, string FinishReason, int Tokens, bool Capped);
