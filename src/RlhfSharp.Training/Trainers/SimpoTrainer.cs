using System.Text.Json.Nodes;
using RlhfSharp.Alignment.Preference;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Trainers;

/// <summary>
/// SimPO (Meng et al. 2024) on preference pairs, as TRL's CPOTrainer with loss_type simpo: length-normalised
/// log-probs, reward scale β, target margin γ (simpo_gamma), optional label smoothing and, with cpo_alpha,
/// the chosen responses' NLL (CPO-SimPO). No reference model is loaded.
/// </summary>
public static class SimpoTrainer
{
    public static JsonObject Run(SimpoConfig cfg, string runDir, bool resume, IProgressReporter? progress = null)
    {
        var plan = new OfflinePreferenceTrainer.Plan<PreferenceExample>("simpo", "prefs_train.jsonl", "prefs_eval.jsonl", PreferenceDataset.Load, ReferenceDir: null,
            (inputs, policy, _) => new Objective(cfg, policy, PairCollator.For(cfg, inputs, policy)));
        return OfflinePreferenceTrainer.Run(cfg, plan, runDir, resume, progress);
    }

    /// <summary>The SimPO loss (+ cpo_alpha × NLL) with TRL's pair metrics, and nll_loss when the NLL is on.</summary>
    internal sealed class Objective(SimpoConfig cfg, CausalLM policy, PreferenceCollator collator) : PairObjective(policy, collator, withNll: cfg.CpoAlpha > 0)
    {
        protected override (Tensor Loss, IReadOnlyDictionary<string, double> Metrics) Compute(Tensor chosen, Tensor rejected, Tensor? nll)
        {
            var output = SimpoLoss.Compute(chosen, rejected, cfg.Beta, cfg.SimpoGamma, cfg.LabelSmoothing);
            var metrics = new Dictionary<string, double>(output.ToMetrics());
            if (nll is null)
                return (output.Loss, metrics);
            var loss = output.Loss.Add(nll.Mul(cfg.CpoAlpha));
            metrics["loss"] = loss.Item();
            metrics["nll_loss"] = nll.Item();
            return (loss, metrics);
        }
    }
}
