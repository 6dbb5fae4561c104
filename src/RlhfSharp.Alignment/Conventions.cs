namespace RlhfSharp.Alignment;

/// <summary>
/// The conventions every function in RlhfSharp.Alignment keeps, so that sibling functions read alike.
/// <list type="bullet">
/// <item><b>Shapes.</b> B responses (rows), T response tokens (columns), G responses per prompt
/// (a prompt's G rows are contiguous). Every shape is in the summary as <c>[B, T]</c>.</item>
/// <item><b>Log-probs</b> are those of the sampled token at each position: <c>logp</c> under the
/// policy being trained (with gradient), <c>oldLogp</c> under the policy that sampled (constant),
/// <c>refLogp</c> under the frozen reference (constant).</item>
/// <item><b>Masks.</b> <c>responseMask</c> [B, T] holds 1 on a real response token and 0 on
/// padding, right-padded (see <see cref="ResponseMask"/>); padding may hold anything, NaN and −∞
/// included, and never reaches a result or a gradient.</item>
/// <item><b>Numbers.</b> Coefficients and clip ranges are <c>double</c>: <c>beta</c> β,
/// <c>clipLow</c> ε and <c>clipHigh</c> ε_high (null: ε). Statistics without gradient (scores,
/// rewards, advantages, returns, KL for the controller) are float64 tensors, computed exactly in
/// float64; losses are float32 scalars [] connected to <c>logp</c> or the values.</item>
/// <item><b>Results</b> are records named <c>…Output</c>; their metric names are TRL's.</item>
/// <item><b>Registries.</b> Advantage estimators (<see cref="Algorithms.AdvantageEstimators"/>),
/// policy losses (<see cref="Algorithms.PolicyLosses"/>) and KL estimators
/// (<see cref="Kl.KlEstimators"/>) are looked up by the name a config uses; an unknown name is an
/// <see cref="UnknownAlgorithmException"/> that lists the valid ones.</item>
/// <item><b>Papers.</b> Each formula names its paper and equation in its summary and is checked in a
/// test against numbers worked out by hand.</item>
/// </list>
/// </summary>
internal static class Conventions
{
}
