namespace RlhfSharp.Serving;

/// <summary>One generated answer.</summary>
/// <param name="Text">The response tokens decoded (special tokens and the stop token left out, a stop string cut off).</param>
/// <param name="FinishReason">"stop" (end of turn or a stop string), "length" (max_tokens reached) or <see cref="Cancelled"/> (the client went away).</param>
/// <param name="PromptTokens">Tokens of the rendered prompt, generation header included.</param>
/// <param name="CompletionTokens">Tokens generated, the stop token included.</param>
internal sealed record Completion(string Text, string FinishReason, int PromptTokens, int CompletionTokens)
{
    /// <summary>The finish reason of a request stopped because its client went away (never sent to a client).</summary>
    public const string Cancelled = "cancelled";
}
