using RlhfSharp.Alignment.Preference;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Training.Pipeline;

/// <summary>
/// How often a reward model ranks the labeller's chosen answer above the rejected one, over a file of
/// labelled pairs (preference JSONL). On pairs of a policy's own answers that the reward model has not
/// trained on, this is the honest measure of how far that policy can exploit it: a policy that found
/// the model's shortcuts writes answers it ranks against the labeller.
/// </summary>
internal static class PolicyPairAccuracy
{
    /// <summary>
    /// The fraction of pairs the model at <paramref name="rewardModel"/> ranks as the labeller did (a tie
    /// counts half), rendering each pair as <paramref name="rm"/> trains on it; null for a file with no pairs.
    /// </summary>
    public static double? Of(string rewardModel, string pairsFile, RewardConfig rm, string device, string dtype)
    {
        // The labeller writes an empty file when every pair tied; the loader refuses one without data lines.
        if (new FileInfo(pairsFile).Length == 0)
            return null;
        var pairs = PreferenceDataset.Load(pairsFile, new DataLoadOptions());
        var source = RewardModelSource.Load(rewardModel, TrainerSetup.Template(rm.ChatTemplate, rewardModel), rm.MaxLength, rm.MaxPromptLength, rm.BatchSize);
        TrainerSetup.PlaceModels(device, dtype, source.Model);
        var prompts = pairs.Select(p => p.Prompt).ToList();
        var chosen = source.ScoreDialogues(prompts, [.. pairs.Select(p => p.Chosen.Content)]);
        var rejected = source.ScoreDialogues(prompts, [.. pairs.Select(p => p.Rejected.Content)]);
        return BradleyTerry.Accuracy(chosen, rejected);
    }
}
