namespace RlhfSharp.Serving;

/// <summary>A remote reward request split into its prompts and the responses that follow them in the queries.</summary>
/// <param name="Prompts">prompts[i], as rendered by the client's chat template.</param>
/// <param name="Responses">query[i] with prompts[i] cut from its start.</param>
internal sealed record RewardRequest(IReadOnlyList<string> Prompts, IReadOnlyList<string> Responses);
