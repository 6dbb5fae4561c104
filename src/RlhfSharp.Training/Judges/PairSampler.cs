using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Kernels;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Sampling;

namespace RlhfSharp.Training.Judges;

/// <summary>Pairs sampled for one batch of prompts, with the pairs that could not be used counted.</summary>
/// <param name="Items">Pairs of two different, non-empty responses.</param>
/// <param name="PromptsDone">Prompts sampled so far, this batch included.</param>
/// <param name="Empty">Pairs left out because a response was empty (the trainers reject them).</param>
/// <param name="Identical">Pairs left out because both responses were the same text.</param>
public sealed record SampledPairs(IReadOnlyList<JudgeItem> Items, int PromptsDone, int Empty, int Identical);

/// <summary>
/// Response pairs for labelling, sampled per prompt either from one policy (<c>model</c>,
/// <c>samples_per_prompt</c> responses paired in order) or from two (<c>model</c> and
/// <c>model_b</c>, half the samples from each, response A from the first).
/// </summary>
public sealed class PairSampler
{
    private readonly LabelConfig _cfg;
    private readonly BpeTokenizer _tokenizer;
    private readonly CausalLM _policy;
    private readonly CausalLM? _policyB;
    private readonly PromptCollator _collator;
    private readonly GenerationOptions _generation;
    private readonly Generator _rng;

    private PairSampler(LabelConfig cfg, IReadOnlyList<PromptExample> prompts, BpeTokenizer tokenizer, ChatTemplate template, CausalLM policy, CausalLM? policyB)
    {
        _cfg = cfg;
        Prompts = prompts;
        _tokenizer = tokenizer;
        _policy = policy;
        _policyB = policyB;
        _collator = new PromptCollator(tokenizer, template, new CollatorOptions { MaxPromptLength = cfg.MaxPromptLength, PadTokenId = tokenizer.PadTokenId });
        _generation = TrainerSetup.EvalGeneration(cfg.MaxNewTokens, cfg.Temperature, tokenizer);
        _rng = new Generator((ulong)cfg.Seed);
    }

    /// <summary>The prompts pairs are sampled for.</summary>
    public IReadOnlyList<PromptExample> Prompts { get; }

    /// <summary>Loads the prompts (prompts_file, else the data folder's train prompts; max_prompts of them) and the policies.</summary>
    public static PairSampler Create(LabelConfig cfg)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        if (cfg.Threads > 0)
            Engine.Threads = cfg.Threads;
        var promptsFile = TrainerSetup.DataFile(cfg.PromptsFile, cfg.Data, "prompts_train.jsonl", "prompts_file", required: true)!;
        var tokenizerDir = TrainerSetup.TokenizerDir(cfg.Tokenizer, cfg.Model, cfg.Data);
        var tokenizer = BpeTokenizer.FromDirectory(tokenizerDir);
        var prompts = PromptDataset.Load(promptsFile, new DataLoadOptions()).ToList();
        if (cfg.MaxPrompts > 0)
            prompts = [.. prompts.Take(cfg.MaxPrompts)];
        var modelDir = TrainerSetup.RequireDir(cfg.Model!, "model");
        var modelBDir = cfg.ModelB is null ? null : TrainerSetup.RequireDir(cfg.ModelB, "model_b");
        TokenizerModelCheck.Check(tokenizer, tokenizerDir, modelDir);
        if (modelBDir is not null)
            TokenizerModelCheck.Check(tokenizer, tokenizerDir, modelBDir);
        var policy = PretrainedIO.LoadCausalLM(modelDir);
        var policyB = modelBDir is null ? null : PretrainedIO.LoadCausalLM(modelBDir);
        TrainerSetup.PlaceModels(cfg.Device, cfg.Dtype, policy, policyB);
        return new PairSampler(cfg, prompts, tokenizer, TrainerSetup.Template(cfg.ChatTemplate, tokenizerDir), policy, policyB);
    }

    /// <summary>Samples batch by batch (<c>batch_size</c> prompts at a time).</summary>
    public IEnumerable<SampledPairs> Sample()
    {
        int k = _cfg.SamplesPerPrompt;
        for (int start = 0; start < Prompts.Count; start += _cfg.BatchSize)
        {
            var chunk = Prompts.Skip(start).Take(_cfg.BatchSize).ToList();
            var pairs = new List<(PromptExample Prompt, string A, string B)>();
            if (_policyB is null)
            {
                var texts = Generate(_policy, chunk, k);
                for (int p = 0; p < chunk.Count; p++)
                    for (int j = 0; j < k; j += 2)
                        pairs.Add((chunk[p], texts[(p * k) + j], texts[(p * k) + j + 1]));
            }
            else
            {
                int half = k / 2;
                var a = Generate(_policy, chunk, half);
                var b = Generate(_policyB, chunk, half);
                for (int p = 0; p < chunk.Count; p++)
                    for (int j = 0; j < half; j++)
                        pairs.Add((chunk[p], a[(p * half) + j], b[(p * half) + j]));
            }
            int empty = 0, identical = 0;
            var items = new List<JudgeItem>();
            foreach (var (prompt, x, y) in pairs)
            {
                if (string.IsNullOrWhiteSpace(x) || string.IsNullOrWhiteSpace(y))
                    empty++; // the trainers reject empty responses, so such a pair cannot be written
                else if (x == y)
                    identical++;
                else
                    items.Add(new JudgeItem(prompt.Messages, x, y));
            }
            yield return new SampledPairs(items, Math.Min(start + _cfg.BatchSize, Prompts.Count), empty, identical);
        }
    }

    private string[] Generate(CausalLM policy, List<PromptExample> chunk, int perPrompt)
    {
        var rows = chunk.SelectMany(p => Enumerable.Repeat(p, perPrompt)).ToList();
        return Rollouts.Generate(policy, _collator, _tokenizer, rows, _generation, _rng).Texts;
    }
}
