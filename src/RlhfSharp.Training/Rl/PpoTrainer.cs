using System.Text.Json.Nodes;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// <c>rlhf ppo</c>: the shared RL loop (<see cref="RlLoop"/>) with <see cref="PpoLearner"/> steps and
/// a critic loaded from the value or reward model; checkpoints add the critic, β, the score
/// normaliser, the RNG and the ptx data position, so a resume is bit-identical.
/// </summary>
public static class PpoTrainer
{
    public static JsonObject Run(PpoConfig cfg, string runDir, bool resume, IProgressReporter? progress = null) =>
        RlLoop.Run(cfg, "ppo", runDir, resume, progress, ctx =>
        {
            var critic = LoadCritic(cfg);
            critic.Body.GradientCheckpointing = cfg.GradientCheckpointing;
            return new PpoLearner(cfg, ctx.Policy, ctx.Reference, critic, ctx.Reward, ctx.Tokenizer, ctx.PromptCollator, ctx.Gold, Ptx(cfg, ctx.Tokenizer, ctx.Template, ctx.Policy));
        },
        ["objective/kl", "objective/kl_coef", "objective/scores", "objective/gold_score"],
        summary => summary["kl_target"] = cfg.AdaptiveKl ? cfg.KlTarget : null);

    private static SequenceScorer LoadCritic(PpoConfig cfg)
    {
        var (path, key) = cfg.ValueModel is not null ? (cfg.ValueModel, "value_model")
            : cfg.RewardModel is not null ? (cfg.RewardModel, "reward_model") : (cfg.Model!, "model");
        var dir = TrainerSetup.RequireDir(path, key);
        var critic = PretrainedIO.LoadScorer(dir, allowNewHead: true);
        if (critic.Score.Weight.Value.ToArray().All(v => v == 0))
            critic.Score.Weight.Assign(new Generator((ulong)cfg.Seed + 2).Normal(critic.Score.Weight.Shape, 0f, 0.02f));
        critic.Train();
        return critic;
    }

    private static PtxSource? Ptx(PpoConfig cfg, Text.BpeTokenizer tokenizer, Text.Chat.ChatTemplate template, CausalLM policy)
    {
        if (cfg.PtxCoef <= 0)
            return null;
        var file = TrainerSetup.DataFile(cfg.PtxFile, cfg.Data, "sft_train.jsonl", "ptx_file", required: true)!;
        var collator = new SftCollator(tokenizer, template, new SftCollatorOptions
        {
            MaxLength = Math.Min(cfg.PtxMaxLength, policy.Config.MaxPositions),
            MaxPromptLength = Math.Min(cfg.MaxPromptLength, cfg.PtxMaxLength - 1),
            PadTokenId = tokenizer.PadTokenId,
        });
        int micro = cfg.MiniBatchSize / cfg.GradientAccumulationSteps;
        return new PtxSource(new DataLoader<SftExample>(SftDataset.Load(file, new DataLoadOptions()), micro, seed: (ulong)cfg.Seed + 3), collator);
    }
}

/// <summary>Demonstrations for the PPO-ptx term: a loader and its collator.</summary>
public sealed record PtxSource(DataLoader<SftExample> Loader, SftCollator Collator);
