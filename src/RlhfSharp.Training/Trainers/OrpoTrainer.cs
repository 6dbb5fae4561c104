using System.Text.Json.Nodes;
using RlhfSharp.Alignment.Preference;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Trainers;

/// <summary>
/// ORPO (Hong et al. 2024) on preference pairs, as TRL's ORPOTrainer: the chosen responses' token-mean
/// NLL plus λ times the odds-ratio term on length-normalised log-probs. No reference model is loaded.
/// </summary>
public static class OrpoTrainer
{
    public static JsonObject Run(OrpoConfig cfg, string runDir, bool resume, IProgressReporter? progress = null)
    {
        var plan = new OfflinePreferenceTrainer.Plan<PreferenceExample>("orpo", "prefs_train.jsonl", "prefs_eval.jsonl", PreferenceDataset.Load, ReferenceDir: null,
            (inputs, policy, _) => new Objective(cfg, policy, PairCollator.For(cfg, inputs, policy)));
        return OfflinePreferenceTrainer.Run(cfg, plan, runDir, resume, progress);
    }

    /// <summary>L = NLL(chosen) − λ·mean log σ(log odds ratio), with TRL's ORPO metrics.</summary>
    internal sealed class Objective(OrpoConfig cfg, CausalLM policy, PreferenceCollator collator) : PairObjective(policy, collator, withNll: true)
    {
        protected override (Tensor Loss, IReadOnlyDictionary<string, double> Metrics) Compute(Tensor chosen, Tensor rejected, Tensor? nll)
        {
            var output = OrpoLoss.Compute(chosen, rejected, cfg.Beta, nll);
            return (output.Loss, output.ToMetrics());
        }
    }
}
