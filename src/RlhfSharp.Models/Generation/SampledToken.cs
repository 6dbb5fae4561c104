namespace RlhfSharp.Models.Generation;

/// <summary>One token as generation draws it (see <see cref="GenerationOptions.OnToken"/>).</summary>
/// <param name="Row">The batch row that drew it.</param>
/// <param name="Step">Its position in the row's response (0 = first new token).</param>
/// <param name="Token">The token id.</param>
/// <param name="EndsRow">True when it ends the row: an EOS id (kept as the row's last token) or a completed stop string.</param>
public readonly record struct SampledToken(int Row, int Step, int Token, bool EndsRow);
