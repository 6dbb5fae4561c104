using System.Globalization;
using System.Text.Json.Nodes;
using RlhfSharp.Models.IO;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Sampling;

namespace RlhfSharp.Training.Evaluation;

/// <summary>How a trainer answers its held-out prompts (config keys differ by trainer; the meaning does not).</summary>
/// <param name="PromptsFile">The prompts file, or null for none.</param>
/// <param name="Take">Prompts answered (0 = all).</param>
/// <param name="MaxPromptLength">Prompt tokens kept (from the end).</param>
/// <param name="MaxNewTokens">Longest answer.</param>
/// <param name="Temperature">Sampling temperature (0 = greedy).</param>
/// <param name="Samples">Answers per prompt (sampled evaluation only), drawn in rounds.</param>
/// <param name="Seed">Seed of the evaluation's sample stream, the same at every evaluation.</param>
/// <param name="Load">How the prompts file is read (skip_bad_lines).</param>
public sealed record HeldOutSettings(string? PromptsFile, int Take, int MaxPromptLength, int MaxNewTokens, float Temperature, int Samples, ulong Seed, DataLoadOptions Load);

/// <summary>
/// The held-out evaluation every trainer runs the same way: the policy answers the same prompts
/// from the same sample stream at every evaluation; the starting policy's answers are the
/// reference, stored in the run folder (<see cref="FileName"/>) so that a resumed run still
/// reports its win rate against them.
/// </summary>
public sealed class HeldOutEvaluation
{
    public const string FileName = "eval_reference.jsonl";

    private readonly TrainerInputs _inputs;
    private readonly HeldOutSettings _settings;
    private readonly PolicyEvaluator _evaluator;
    private readonly Models.Generation.GenerationOptions _generation;
    private bool _measureKl;
    private CausalLM? _klReference;

    public HeldOutEvaluation(TrainerInputs inputs, HeldOutSettings settings)
    {
        _inputs = inputs;
        _settings = settings;
        var prompts = settings.PromptsFile is null ? [] : PromptDataset.Load(settings.PromptsFile, settings.Load).ToList();
        if (settings.Take > 0)
            prompts = [.. prompts.Take(settings.Take)];
        // Several samples per prompt: the policy and its starting point answer each prompt the same number of times.
        Prompts = settings.Temperature > 0 && settings.Samples > 1 ? PolicyEvaluator.InRounds(prompts, settings.Samples) : prompts;
        _evaluator = new PolicyEvaluator(inputs.Tokenizer, inputs.PromptCollator(settings.MaxPromptLength));
        _generation = TrainerSetup.EvalGeneration(settings.MaxNewTokens, settings.Temperature, inputs.Tokenizer);
    }

    /// <summary>The prompts answered at each evaluation (in rounds when there are several samples).</summary>
    public IReadOnlyList<PromptExample> Prompts { get; }

    public bool Enabled => Prompts.Count > 0;

    /// <summary>The starting policy's answers, set by <see cref="Start"/>; null without prompts.</summary>
    public EvalResult? Reference { get; private set; }

    /// <summary>
    /// At a fresh start, answers with <paramref name="answeredBy"/> (the starting policy, or the
    /// frozen reference model a policy trained further is compared with) and stores that as the
    /// reference; on a resume, reads the stored reference back.
    /// </summary>
    public EvalResult? Start(TrainingSession session, CausalLM answeredBy)
    {
        if (session.ResumeFrom is not null)
            Reference = Load(session.Folder.Path);
        else if (Enabled)
        {
            Reference = Evaluate(answeredBy);
            if (session.IsMain)
                Save(session.Folder.Path, Reference);
        }
        return Reference;
    }

    /// <summary>
    /// Makes every evaluation also measure the sampled KL of the policy to <paramref name="reference"/>
    /// (eval/kl_to_ref, eval/sqrt_kl): the frozen reference model, or null for the policy with its LoRA
    /// adapters off, as the RL trainers' own KL term sees it.
    /// </summary>
    public void MeasureKlTo(CausalLM? reference)
    {
        _measureKl = true;
        _klReference = reference;
    }

    /// <summary>
    /// The policy's answers to the prompts, gold-scored when the data has a gold scorer; after
    /// <see cref="MeasureKlTo"/>, with the sampled KL Σ_t log π(y_t) − log π_ref(y_t) over each answer,
    /// averaged over the answers (log-probs at the evaluation temperature, 1 when greedy), as
    /// <c>rlhf eval</c> and the pipeline's comparison measure it.
    /// </summary>
    public EvalResult Evaluate(CausalLM policy)
    {
        if (!_measureKl)
            return _evaluator.Evaluate(policy, Prompts, _generation, _inputs.Gold, _settings.Seed);
        float temperature = _settings.Temperature > 0 ? _settings.Temperature : 1f;
        double klSum = 0;
        var result = _evaluator.Evaluate(policy, Prompts, _generation, _inputs.Gold, _settings.Seed, rollout =>
        {
            var a = Rollouts.LogProbs(policy, rollout, temperature).ToArray();
            var b = Rollouts.ReferenceLogProbs(policy, _klReference, rollout, temperature).ToArray();
            for (int i = 0; i < a.Length; i++)
                klSum += a[i] - b[i]; // both are 0 past each response's end
        });
        return result with { KlToRef = result.Prompts.Count > 0 ? klSum / result.Prompts.Count : null };
    }

    /// <summary>
    /// eval/response_words, and with a gold scorer eval/gold_score and (unless <paramref name="withWinRate"/>
    /// is false, as for the reference itself) eval/win_rate_vs_ref; where the KL was measured,
    /// eval/kl_to_ref and eval/sqrt_kl = √max(0, KL) (the x axis of Gao et al. 2022's over-optimisation curves).
    /// </summary>
    public Dictionary<string, double> Metrics(EvalResult result, bool withWinRate = true)
    {
        var metrics = new Dictionary<string, double>
        {
            ["eval/response_words"] = result.Responses.Average(r => r.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length),
        };
        if (result.Gold is { } g)
        {
            metrics["eval/gold_score"] = result.MeanGold;
            if (withWinRate && Reference?.Gold is { } r)
                metrics["eval/win_rate_vs_ref"] = PolicyEvaluator.WinRate(g, r);
        }
        if (result.KlToRef is { } kl)
        {
            metrics["eval/kl_to_ref"] = kl;
            metrics["eval/sqrt_kl"] = Math.Sqrt(Math.Max(0, kl));
        }
        return metrics;
    }

    /// <summary>
    /// Answers the prompts and adds <see cref="Metrics"/> to <paramref name="metrics"/>; with a session, also
    /// writes the first few answers to its text log. Does nothing without prompts.
    /// </summary>
    public void AddMetrics(Dictionary<string, double> metrics, CausalLM policy, TrainingSession? session, long step)
    {
        if (!Enabled)
            return;
        var result = Evaluate(policy);
        foreach (var (k, v) in Metrics(result))
            metrics[k] = v;
        if (session is null)
            return;
        for (int i = 0; i < Math.Min(4, result.Prompts.Count); i++)
            session.Logger.LogText(step, "samples", $"{result.Prompts[i]} => {result.Responses[i]}" + (result.Gold is { } gg ? string.Create(CultureInfo.InvariantCulture, $"  [gold {gg[i]:F2}]") : ""));
    }

    private static void Save(string runDir, EvalResult result)
    {
        var lines = new List<string>();
        for (int i = 0; i < result.Prompts.Count; i++)
        {
            var o = new JsonObject { ["prompt"] = result.Prompts[i], ["response"] = result.Responses[i] };
            if (result.Gold is { } g)
                o["gold"] = g[i];
            lines.Add(o.ToJsonString());
        }
        AtomicFile.WriteAllText(Path.Combine(runDir, FileName), string.Join("\n", lines) + "\n");
    }

    private static EvalResult? Load(string runDir)
    {
        var path = Path.Combine(runDir, FileName);
        if (!File.Exists(path))
            return null;
        var prompts = new List<string>();
        var responses = new List<string>();
        var gold = new List<double>();
        foreach (var line in File.ReadLines(path).Where(l => l.Length > 0))
        {
            var o = JsonNode.Parse(line)!.AsObject();
            prompts.Add(o["prompt"]!.GetValue<string>());
            responses.Add(o["response"]!.GetValue<string>());
            if (o["gold"] is JsonValue v)
                gold.Add(v.GetValue<double>());
        }
        return new EvalResult(prompts, responses, gold.Count == prompts.Count && gold.Count > 0 ? gold.ToArray() : null);
    }
}
