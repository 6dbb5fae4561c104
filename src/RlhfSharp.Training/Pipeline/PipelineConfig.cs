using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Pipeline;

/// <summary>
/// <c>rlhf pipeline</c>: data → SFT → labelled pairs of the SFT policy's answers → reward model → PPO,
/// with DPO and GRPO from the same SFT model for comparison, then every policy evaluated on the same
/// held-out prompts. Each stage uses its example config; this config only says where things are and
/// which stages run.
/// </summary>
public sealed class PipelineConfig : IValidatableConfig
{

    [ConfigKey("data", "A data folder; empty = write the built-in task into <run>/data")]
    public string? Data { get; set; }

    [ConfigKey("model", "An HF model folder SFT starts from; empty = a new model shaped by the SFT example's model_init")]
    public string? Model { get; set; }

    [ConfigKey("stages", "Stages to run, in order: sft, label, rm, then policy stages, each trained from the SFT model with its example config (examples/<stage>.yaml) and compared with SFT at the end (default ppo, dpo, grpo; an unknown name is refused with the list); ppo needs rm; label needs data with the gold scorer, whose noisy labels of SFT answers the reward model and DPO then also train on")]
    public List<string> Stages { get; set; } = [.. PipelineStages.Default];

    [ConfigKey("steps_scale", "Multiplies every stage's max_steps, eval_every and save_every (below 1 for a quick look)")]
    public double StepsScale { get; set; } = 1;

    [ConfigKey("eval_prompts", "Held-out prompts in the final comparison (0 = all)")]
    public int EvalPrompts { get; set; }

    [ConfigKey("eval_samples", "Sampled answers per held-out prompt and policy in the final comparison: more answers, a less noisy win rate")]
    public int EvalSamples { get; set; } = Evaluation.PipelineDefaults.EvalSamples;

    [ConfigKey("seed", "Seed of the data, of every stage and of the evaluation")]
    public int Seed { get; set; } = 1;

    [ConfigKey("seeds", "Run every policy stage once per seed (folders <stage>-seed<N>), all from the same data, SFT and reward model (made with seed), and give each stage's mean ± std over the seeds beside each seed's value; empty = one run with seed")]
    public List<int> Seeds { get; set; } = [];

    [ConfigKey("seed_sft", "With seeds: run the whole chain once per seed, SFT, labels and reward model included, each seed in a folder seed<N> of its own "
        + "(a pipeline run with seed N and its own comparison, its policies against its own SFT), all on the same data; results.json gives every stage's spread "
        + "over the seeds, SFT's and the reward model's accuracy included. false = the policy stages alone vary with the seed")]
    public bool SeedSft { get; set; }

    /// <summary>This pipeline as one seed's chain of <see cref="SeedSft"/>: seed <paramref name="seed"/>, no seeds list, on <paramref name="data"/>.</summary>
    internal PipelineConfig ForSeed(int seed, string data)
    {
        var one = (PipelineConfig)MemberwiseClone();
        one.Seed = seed;
        one.Seeds = [];
        one.SeedSft = false;
        one.Data = data;
        return one;
    }

    /// <summary>The seeds the policy stages run with: <see cref="Seeds"/>, or <see cref="Seed"/> alone.</summary>
    internal IReadOnlyList<int> PolicySeeds => Seeds.Count > 0 ? Seeds : [Seed];

    /// <summary>The run folder (and comparison name) of a policy stage for one seed.</summary>
    internal string PolicyRun(string stage, int seed) => Seeds.Count > 0 ? $"{stage}-seed{seed}" : stage;

    [ConfigKey("rounds", "Iterated RLHF (Ouyang et al. 2022; Bai et al. 2022's iterated online RLHF): the ppo stage runs as this many rounds, "
        + "folders ppo-round<k>, label-round<k>, rm-round<k> (ppo-seed<N>-round<k>… with seeds). Round k trains PPO for its share of examples/ppo.yaml's max_steps "
        + "(round 1 from the SFT model with the rm stage's reward model, later rounds from the previous round's policy and critic, scored by the newest reward model, KL still to SFT), "
        + "then the task's simulated labeller (examples/label.yaml) labels pairs of that policy's own answers to the train prompts, and, before the next round, the reward model "
        + "continues training from the previous one on all pairs so far plus these for round_rm_steps steps. results.json gives each round's reward-model accuracy on those pairs "
        + "before and after retraining, gold score and win rate vs SFT; the compared ppo policy is the last round's. 1 = one PPO run. Needs the ppo stage and data with the gold scorer")]
    public int Rounds { get; set; } = 1;

    [ConfigKey("round_rm_steps", "rounds > 1: steps the reward model continues training between rounds (examples/rm.yaml's other settings; scaled by steps_scale)")]
    public int RoundRmSteps { get; set; } = 100;

    [ConfigKey("device", "Where models run: cpu, cuda, cuda:N, or cpu-accelerator (the GPU kernels on host threads)")]
    public string Device { get; set; } = "cpu";

    [ConfigKey("dtype", "Matrix products in fp32, or bf16 (bf16 inputs, fp32 accumulation); bf16 needs a GPU device")]
    public string Dtype { get; set; } = "fp32";

    [ConfigKey("threads", "Kernel threads (0 = RLHFSHARP_THREADS or all cores)")]
    public int Threads { get; set; }

    // Why a data folder has no gold scorer, or null when it has one.
    private static string? GoldScorerProblem(string data)
    {
        try
        {
            return BuiltinTask.GoldScorer.TryCreate(data) is null ? $"no {BuiltinTask.BuiltinTaskGenerator.StatsFileName} of `rlhf data builtin`" : null;
        }
        catch (InvalidDataException e)
        {
            return e.Message;
        }
    }

    public IEnumerable<string> Validate()
    {
        foreach (var e in Foundation.TrainerSetup.DeviceErrors(Device, Dtype))
            yield return e;
        foreach (var s in Stages.Where(s => !PipelineStages.All.Contains(s)))
            yield return $"stages: '{s}' is not a stage; stages are {string.Join(", ", PipelineStages.All)}";
        if (Stages.Distinct().Count() != Stages.Count)
            yield return "stages: a stage is listed twice";
        if (!Stages.Contains("sft") && Model is null)
            yield return "without the sft stage, give model: the SFT model the other stages start from";
        if (Stages.Contains("label") && !Stages.Contains("rm"))
            yield return "label writes pairs for the reward model: it needs the rm stage";
        foreach (var s in Stages.Where(s => PipelineStages.NeedsRewardModel(s) && !Stages.Contains("rm")))
            yield return $"{s} needs the rm stage (its reward model)";
        if (!(StepsScale > 0) || StepsScale > 10)
            yield return $"steps_scale must be in (0, 10], got {StepsScale}";
        if (EvalPrompts < 0 || Threads < 0)
            yield return "eval_prompts and threads must be >= 0";
        if (Seeds.Distinct().Count() != Seeds.Count)
            yield return $"seeds: a seed is listed twice ([{string.Join(", ", Seeds)}])";
        if (SeedSft && Seeds.Count == 0)
            yield return "seed_sft: true runs the whole chain once per seed, but seeds is empty; give seeds (e.g. seeds: [1, 2, 3]) or set seed_sft: false";
        if (SeedSft && !Stages.Contains("sft"))
            yield return $"seed_sft: true trains SFT once per seed, but stages ([{string.Join(", ", Stages)}]) has no sft; add sft to stages or set seed_sft: false";
        if (Rounds < 1)
            yield return $"rounds must be at least 1 (1 = one PPO run; N > 1 = N rounds of PPO, labelling and reward-model training), got {Rounds}";
        if (Rounds > 1 && !Stages.Contains("ppo"))
            yield return $"rounds: {Rounds} runs the ppo stage in rounds, but stages ([{string.Join(", ", Stages)}]) has no ppo; add ppo (and rm) to stages or set rounds: 1";
        if (Rounds > 1 && Data is not null && GoldScorerProblem(Data) is { } noGold)
            yield return $"rounds: {Rounds} labels each round's answers with the built-in task's simulated labeller, but data ({Data}) has no gold scorer "
                + $"({noGold}); leave data empty for the built-in task, give a folder `rlhf data builtin` wrote, or set rounds: 1";
        if (RoundRmSteps < 1)
            yield return $"round_rm_steps must be at least 1, got {RoundRmSteps}";
        if (EvalSamples < 1)
            yield return $"eval_samples must be at least 1, got {EvalSamples}";
    }
}
