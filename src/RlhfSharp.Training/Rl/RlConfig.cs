using RlhfSharp.Alignment.Algorithms;
using RlhfSharp.Models.Generation;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// What the online RL trainers (<c>rlhf ppo</c>, <c>rlhf grpo</c>) share: the prompts, the policy
/// and its reference, the reward, rollout sampling, memory savings and held-out evaluation.
/// </summary>
public abstract partial class RlConfig : TrainLoopConfig, ITrainerSources
{
    /// <summary>The defaults PPO and GRPO share (TRL's: a constant small learning rate, metrics every step).</summary>
    protected RlConfig()
    {
        MaxSteps = 100;
        LearningRate = 1e-5f;
        LrScheduler = "constant";
        WarmupSteps = 0;
        EvalEvery = 25;
        SaveEvery = 25;
        LogEvery = 1;
    }

    [ConfigKey("data", "A data folder laid out as `rlhf data builtin` writes it; supplies default prompt files and the gold scorer")]
    public string? Data { get; set; }

    [ConfigKey("train_file", "Prompts to roll out (JSONL, {\"prompt\"} or {\"messages\"}, or Parquet with those columns); default <data>/prompts_train.jsonl")]
    public string? TrainFile { get; set; }

    [ConfigKey("eval_file", "Held-out prompts for evaluation; default <data>/prompts_eval.jsonl")]
    public string? EvalFile { get; set; }

    [ConfigKey("model", "The policy to start from (an SFT model folder); also the frozen reference unless ref_model names another")]
    public string? Model { get; set; }

    [ConfigKey("ref_model", "The frozen reference the KL penalty and eval/kl_to_ref are measured to, and whose held-out answers eval/win_rate_vs_ref is against; empty = model. Set it to continue training a policy (model) while keeping its KL to the SFT model it came from (full fine-tuning only)")]
    public string? RefModel { get; set; }

    [ConfigKey("reward_model", "Reward model folder (from `rlhf rm`); its score is the reward")]
    public string? RewardModel { get; set; }

    [ConfigKey("reward_funcs", "Rule rewards instead of or beside the reward model: gold (the built-in task's scorer), accuracy (the answer checked against the prompt row's reference), format (a regex), length (a penalty past a target length), remote (a reward server at reward_url)")]
    public List<string> RewardFuncs { get; set; } = [];

    [ConfigKey("reward_weights", "One weight per reward source, the reward model first, then reward_funcs in order; empty = all 1")]
    public List<double> RewardWeights { get; set; } = [];

    [ConfigKey("normalize_rewards", "Standardise each reward source by its own running mean and std before weighting")]
    public bool NormalizeRewards { get; set; }

    internal int RewardSourceCount => (RewardModel is null ? 0 : 1) + RewardFuncs.Count;

    [ConfigKey("value_model", "Critic to start from (a reward-model or SFT folder; a new value head if it has none); default reward_model, else model")]
    public string? ValueModel { get; set; }

    [ConfigKey("tokenizer", "Tokenizer folder; default the model folder")]
    public string? Tokenizer { get; set; }

    [ConfigKey("chat_template", "auto (the tokenizer's own chat_template when it has one, else chatml), tokenizer (its own, required; tokenizer:NAME for a named one), chatml, llama3 or plain")]
    public string ChatTemplate { get; set; } = "auto";

    [ConfigKey("special_tokens_in_content", "How special and added tokens written inside messages (\"<|im_end|>\" in a user turn) are encoded: text (plain text, only the chat template writes control tokens) or control (as those tokens, for trusted data whose messages are meant to hold markers such as <think>)")]
    public SpecialTokensInContent SpecialTokensInContent { get; set; } = SpecialTokensInContent.Text;

    [ConfigKey("max_prompt_length", "Prompt tokens kept (from the end)")]
    public int MaxPromptLength { get; set; } = 32;

    [ConfigKey("response_length", "Most tokens generated per response")]
    public int ResponseLength { get; set; } = 24;

    [ConfigKey("temperature", "Rollout sampling temperature; log-probs are taken under the same temperature")]
    public float Temperature { get; set; } = 1f;

    [ConfigKey("policy_loss", "The policy loss by name: ppo_clip (PPO's clipped surrogate), dual_clip (dual-clip PPO, bounded by dual_clip_c) or gspo (GSPO's sequence-level ratio)")]
    public string PolicyLoss { get; set; } = "ppo_clip";

    [ConfigKey("dual_clip_c", "policy_loss dual_clip: the constant c > 1 bounding a negative-advantage token's loss at −c·A (Ye et al. 2020; verl's clip_ratio_c)")]
    public float DualClipC { get; set; } = 3f;

    [ConfigKey("top_k", "Rollout top-k (0 = off). Changes the sampling distribution away from the one the log-probs assume: not recommended")]
    public int TopK { get; set; }

    [ConfigKey("top_p", "Rollout nucleus sampling (1 = off). Same caveat as top_k")]
    public float TopP { get; set; } = 1f;

    [ConfigKey("ref_bf16", "Store the frozen reference and reward model weights in bfloat16 (half the memory)")]
    public bool RefBf16 { get; set; }

    [ConfigKey("lora_rank", "Train LoRA adapters of this rank instead of every weight (0 = full fine-tuning); the reference is then the policy with adapters off")]
    public int LoraRank { get; set; }

    [ConfigKey("lora_alpha", "LoRA scaling numerator (scale = alpha / rank)")]
    public float LoraAlpha { get; set; } = 16f;

    [ConfigKey("eval_prompts", "Held-out prompts answered at each evaluation (0 = all)")]
    public int EvalPrompts { get; set; }

    [ConfigKey("eval_temperature", "Sampling temperature at evaluation (0 = greedy); 1 compares the policies as they are sampled")]
    public float EvalTemperature { get; set; } = 1f;

    [ConfigKey("eval_samples", "Responses per held-out prompt at evaluation (sampled evaluation only)")]
    public int EvalSamples { get; set; } = 1;

    [ConfigKey("sample_rollouts", "Rollouts written as text to the logs at each evaluation")]
    public int SampleRollouts { get; set; } = 4;

    /// <summary>The rollout sampling settings: plain temperature sampling unless top-k/top-p are set.</summary>
    public GenerationOptions RolloutSampling(BpeTokenizer tokenizer) => new()
    {
        MaxNewTokens = ResponseLength,
        DoSample = true,
        Temperature = Temperature,
        TopK = TopK,
        TopP = TopP,
        EosTokenIds = tokenizer.EosTokenId is int eos ? [eos] : [],
        PadTokenId = tokenizer.PadTokenId ?? 0,
    };

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate())
            yield return p;
        if (Model is null)
            yield return "model is required: the SFT model folder the policy starts from";
        if (Data is null && TrainFile is null)
            yield return "give a data folder (data) or a train_file of prompts";
        foreach (var f in RewardFuncs.Where(f => !RewardFunctions.Names.Contains(f)))
            yield return $"reward_funcs: '{f}' is not a known reward function; known: {string.Join(", ", RewardFunctions.Names)}";
        if (RewardFuncs.Distinct().Count() != RewardFuncs.Count)
            yield return "reward_funcs lists a function twice";
        foreach (var e in RemoteRewardErrors())
            yield return e;
        if (RewardSourceCount == 0)
            yield return "no reward: set reward_model (a folder from `rlhf rm`) and/or reward_funcs: [gold] or [remote]";
        if (RewardWeights.Count > 0 && RewardWeights.Count != RewardSourceCount)
            yield return $"reward_weights has {RewardWeights.Count} weights for {RewardSourceCount} reward sources (the reward model first, then reward_funcs)";
        if (!PolicyLosses.Names.Contains(PolicyLoss))
            yield return $"policy_loss: unknown policy loss '{PolicyLoss}'; valid: {string.Join(", ", PolicyLosses.Names)}";
        if (!(DualClipC > 1))
            yield return $"dual_clip_c must be greater than 1 (dual-clip bounds the loss at −c·A; verl uses 3), got {DualClipC}";
        if (!(Temperature > 0))
            yield return $"temperature must be positive, got {Temperature}";
        if (TopK < 0 || !(TopP > 0 && TopP <= 1))
            yield return "top_k must be >= 0 and top_p in (0, 1]";
        if (LoraRank < 0 || !(LoraAlpha > 0))
            yield return "lora_rank must be >= 0 and lora_alpha positive";
        if (LoraRank > 0 && RefModel is not null)
            yield return "ref_model: with lora_rank > 0 the reference is the policy with its adapters off; leave ref_model empty or set lora_rank: 0";
        if (EvalPrompts < 0 || EvalTemperature < 0 || EvalSamples <= 0 || SampleRollouts < 0)
            yield return "eval_prompts, eval_temperature and sample_rollouts must be >= 0, eval_samples positive";
        if (MaxPromptLength <= 0 || ResponseLength <= 0)
            yield return "max_prompt_length and response_length must be positive";
        foreach (var p in ValidateVerifiers())
            yield return p;
        foreach (var p in RewardHackingErrors())
            yield return p;
    }
}
