using System.Text.Json.Nodes;
using RlhfSharp.Alignment.Dpo;
using RlhfSharp.Alignment.Preference;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Trainers;

/// <summary>
/// KTO (Ethayarajh et al. 2024) on unpaired labelled completions, as TRL's KTOTrainer: whole-sequence
/// log-probs of the policy and a frozen reference, the reference point z_ref estimated each micro-batch
/// from mismatched pairs (each prompt with the previous example's completion) and averaged over the
/// data-parallel ranks before clamping. Paired files are unpaired (chosen → desirable, rejected →
/// undesirable), so the built-in data folder's prefs_train.jsonl works as it is.
/// </summary>
public static class KtoTrainer
{
    public static JsonObject Run(KtoConfig cfg, string runDir, bool resume, IProgressReporter? progress = null)
    {
        var referenceDir = TrainerSetup.RequireDir(cfg.RefModel ?? cfg.Model!, cfg.RefModel is null ? "model" : "ref_model");
        var plan = new OfflinePreferenceTrainer.Plan<UnpairedExample>("kto", "prefs_train.jsonl", "prefs_eval.jsonl", UnpairedDataset.Load, referenceDir,
            (inputs, policy, reference) => new Objective(cfg, policy, reference!, new UnpairedCollator(inputs.Tokenizer, inputs.Template, new CollatorOptions
            {
                MaxLength = Math.Min(cfg.MaxLength, policy.Config.MaxPositions),
                MaxPromptLength = cfg.MaxPromptLength,
                PadTokenId = inputs.Tokenizer.PadTokenId,
                SpecialTokensInContent = inputs.Content,
            })));
        return OfflinePreferenceTrainer.Run(cfg, plan, runDir, resume, progress);
    }

    /// <summary>The KTO loss of a batch and TRL's metrics (rewards/*, logps/*, count/*, kl).</summary>
    internal sealed class Objective(KtoConfig cfg, CausalLM policy, CausalLM reference, UnpairedCollator collator) : IPreferenceObjective<UnpairedExample>
    {
        public int Length(UnpairedExample example) => collator.Length(example);

        public long TruncatedExamples => collator.Stats.TruncatedExamples;

        public Tensor? Loss(IReadOnlyList<UnpairedExample> rows, PreferenceStep step)
        {
            // z_ref: mean of log π − log π_ref over the mismatched pairs, a constant.
            double klSum = 0, klCount = rows.Count;
            if (rows.Count > 0)
            {
                using var _ = GradMode.NoGrad();
                var kl = collator.CollateMismatched(rows);
                var p = Logps(policy, kl).ToArray();
                var r = Logps(reference, kl).ToArray();
                for (int i = 0; i < p.Length; i++)
                    klSum += (double)p[i] - r[i];
            }
            if (step.Dp is { Size: > 1 } dp)
            {
                klSum = dp.Sum(klSum, "kto kl sum");
                klCount = dp.Sum(klCount, "kto kl count");
            }
            double referencePoint = klCount > 0 ? Math.Max(0, klSum / klCount) : 0;
            if (rows.Count == 0)
                return null;

            var batch = collator.Collate(rows);
            var policyLogps = Logps(policy, batch);
            Tensor referenceLogps;
            using (GradMode.NoGrad())
                referenceLogps = Logps(reference, batch);
            var output = KtoLoss.Compute(policyLogps, referenceLogps, [.. rows.Select(e => e.Label)], referencePoint,
                cfg.Beta, cfg.DesirableWeight, cfg.UndesirableWeight);
            step.Metrics.Add("loss", output.Loss.Item(), rows.Count);
            step.Metrics.Add("kl", output.Kl, rows.Count);
            step.Metrics.Add("rewards/chosen", output.RewardsChosen, output.CountChosen);
            step.Metrics.Add("logps/chosen", output.LogpsChosen, output.CountChosen);
            step.Metrics.Add("rewards/rejected", output.RewardsRejected, output.CountRejected);
            step.Metrics.Add("logps/rejected", output.LogpsRejected, output.CountRejected);
            step.Metrics.AddTotal("count/chosen", output.CountChosen);
            step.Metrics.AddTotal("count/rejected", output.CountRejected);
            return output.Loss;
        }

        /// <summary>rewards/margins from the combined means, a missing side read as 0 (as TRL).</summary>
        public void Complete(Dictionary<string, double> means)
            => means["rewards/margins"] = means.GetValueOrDefault("rewards/chosen") - means.GetValueOrDefault("rewards/rejected");

        // Whole-completion log-probs: sequences [B, T] -> [B]
        private static Tensor Logps(CausalLM model, SequenceBatch batch)
            => SequenceLogProbs.Sum(model.Forward(batch.InputIds, batch.AttentionMask), batch.InputIds, batch.ResponseMask);
    }
}
