using RlhfSharp.Tensors;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Training.Judges;

/// <summary>A judge's answer to "which response is better?".</summary>
public enum Verdict
{
    A,
    B,
    Tie,
}

/// <summary>One comparison: a prompt dialogue and two candidate responses.</summary>
public sealed record JudgeItem(IReadOnlyList<ChatMessage> Prompt, string A, string B)
{
    public string PromptText => IRewardSource.LastUserText(Prompt);
}

/// <summary>
/// Labels preference pairs in place of a person (RLAIF, Bai et al. 2022; Lee et al. 2023): the
/// gold scorer, a constitution of checkable principles, a local language model or an
/// OpenAI-compatible server behind one interface.
/// </summary>
public interface IPreferenceJudge
{
    string Name { get; }

    IReadOnlyList<Verdict> Judge(IReadOnlyList<JudgeItem> items);
}

/// <summary>
/// A judge that scores each response on its own and prefers the higher score (ties when equal). With a
/// noise temperature τ &gt; 0 it is a fallible labeller instead: a pair with different scores goes to A
/// with probability σ((s_A − s_B)/τ), the Bradley–Terry label model (Bradley &amp; Terry 1952) that the
/// built-in task's preference files are drawn from, so labels of close pairs are often flipped and
/// labels of far-apart pairs rarely. The draws come from one seeded stream, in call order.
/// </summary>
public sealed class ScoringJudge : IPreferenceJudge
{
    private readonly IRewardSource _scorer;
    private readonly double _noiseTau;
    private readonly Generator? _rng;

    public ScoringJudge(IRewardSource scorer, double noiseTau = 0, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        if (!(noiseTau >= 0) || double.IsInfinity(noiseTau))
            throw new ArgumentOutOfRangeException(nameof(noiseTau), $"the label noise temperature must be a finite number >= 0, got {noiseTau}");
        _scorer = scorer;
        _noiseTau = noiseTau;
        _rng = noiseTau > 0 ? new Generator(seed) : null;
    }

    public string Name => _scorer.Name;

    public IReadOnlyList<Verdict> Judge(IReadOnlyList<JudgeItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var prompts = items.Select(i => i.Prompt).ToList();
        var a = _scorer.ScoreDialogues(prompts, [.. items.Select(i => i.A)]);
        var b = _scorer.ScoreDialogues(prompts, [.. items.Select(i => i.B)]);
        var verdicts = new Verdict[items.Count];
        for (int i = 0; i < verdicts.Length; i++)
        {
            if (a[i] == b[i])
                verdicts[i] = Verdict.Tie;
            else if (_rng is null)
                verdicts[i] = a[i] > b[i] ? Verdict.A : Verdict.B;
            else
                verdicts[i] = _rng.NextDouble() < PreferA(a[i], b[i], _noiseTau) ? Verdict.A : Verdict.B;
        }
        return verdicts;
    }

    /// <summary>Bradley–Terry probability that a labeller with noise temperature τ prefers the response scored <paramref name="a"/>.</summary>
    public static double PreferA(double a, double b, double tau) => 1 / (1 + Math.Exp(-(a - b) / tau));
}
