using System.Buffers.Binary;
using System.Text;
using RlhfSharp.Cli.Reporting;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.SafeTensors;
using RlhfSharp.Serving;
using RlhfSharp.Serving.Labelling;
using RlhfSharp.Text;
using RlhfSharp.Text.Tests;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Judges;
using RlhfSharp.Training.Judges.Human;
using RlhfSharp.Training.Pipeline;
using RlhfSharp.Training.Rl;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Fuzz;

/// <summary>Every parser of user files and requests, by the name the fuzz script and corpus folders use.</summary>
public static class Targets
{
    /// <summary>The text a loaded tokenizer encodes: plain words, a merge, an added token and non-ASCII.</summary>
    private const string SampleText = "Hello world, abc ab <|end|> héllo 日本 \n\t 123";

    /// <summary>A shard the sharded-index target's index files can name: one F32 tensor "w" of shape [2].</summary>
    public const string ShardName = "model-00001-of-00001.safetensors";

    public static readonly IReadOnlyList<FuzzTarget> All =
    [
        new("safetensors", "a .safetensors file: header length, JSON header, data; every tensor is read",
            (input, s) =>
            {
                using var file = SafeTensorsFile.Open(s.Write("model.safetensors", input));
                foreach (var entry in file.Entries)
                    file.Read(entry.Name);
            }),
        new("safetensors-index", "model.safetensors.index.json beside one real shard; every mapped tensor is read",
            (input, s) =>
            {
                string folder = Path.Combine(s.Folder, "sharded");
                Directory.CreateDirectory(folder);
                File.WriteAllBytes(Path.Combine(folder, ShardName), TinyShard());
                File.WriteAllBytes(Path.Combine(folder, SafeTensorsCheckpoint.IndexFileName), input);
                using var checkpoint = SafeTensorsCheckpoint.Open(folder);
                foreach (var name in checkpoint.Names.ToList())
                    checkpoint.Read(name);
            }),
        new("model-config", "a model's config.json",
            (input, s) => ModelConfig.Load(s.Write("config.json", input))),
        new("tokenizer-json", "a tokenizer.json; the tokenizer then encodes and decodes a sample text",
            (input, s) =>
            {
                string folder = Path.Combine(s.Folder, "tokenizer");
                Directory.CreateDirectory(folder);
                string path = Path.Combine(folder, BpeTokenizer.TokenizerJsonFileName);
                File.WriteAllBytes(path, input);
                UseTokenizer(BpeTokenizer.FromFile(path));
            }),
        new("tokenizer-config", "a tokenizer_config.json beside a small valid tokenizer.json",
            (input, s) =>
            {
                string folder = Path.Combine(s.Folder, "tokenizer-config");
                Directory.CreateDirectory(folder);
                string json = Path.Combine(folder, BpeTokenizer.TokenizerJsonFileName);
                File.WriteAllText(json, MiniTokenizerJson.Text());
                File.WriteAllBytes(Path.Combine(folder, BpeTokenizer.TokenizerConfigFileName), input);
                UseTokenizer(BpeTokenizer.FromFile(json));
            }),
        new("sft-jsonl", "an SFT data file (prompt/completion, messages or text lines)",
            (input, s) => SftDataset.Load(s.Write("sft.jsonl", input))),
        new("preference-jsonl", "a preference data file (chosen/rejected pairs), also read as a ties file",
            (input, s) =>
            {
                string path = s.Write("preference.jsonl", input);
                AllRefusals(() => PreferenceDataset.Load(path), () => PreferenceDataset.LoadTies(path));
            }),
        new("prompts-jsonl", "a prompts file for PPO, GRPO and labelling",
            (input, s) => PromptDataset.Load(s.Write("prompts.jsonl", input))),
        new("label-files", "a human-labelling preference file (the labels rlhf label-stats and the label server read)",
            (input, s) =>
            {
                string path = s.Write("labels.jsonl", input);
                s.Remove(Path.GetFileName(LabelFiles.NoPreferencePath(path)));
                LabelFiles.Read(path);
            }),
        new("label-pairs", "the pairs file a labelling session samples its pairs into",
            (input, s) => PairSource.Load(s.Write("labels.pairs.jsonl", input))),
        new("config-yaml", "a YAML run config, bound to each verb's config class (sft, rm, ppo, dpo, grpo, label, pipeline)",
            (input, s) =>
            {
                string path = s.Write("config.yaml", input);
                AllRefusals(
                    () => ConfigBinder.Load<SftConfig>(path, Array.Empty<string>()),
                    () => ConfigBinder.Load<RewardConfig>(path, Array.Empty<string>()),
                    () => ConfigBinder.Load<PpoConfig>(path, Array.Empty<string>()),
                    () => ConfigBinder.Load<DpoConfig>(path, Array.Empty<string>()),
                    () => ConfigBinder.Load<GrpoConfig>(path, Array.Empty<string>()),
                    () => ConfigBinder.Load<LabelConfig>(path, Array.Empty<string>()),
                    () => ConfigBinder.Load<PipelineConfig>(path, Array.Empty<string>()));
            }),
        new("metrics-jsonl", "a run's metrics.jsonl as the report and dashboard read it",
            (input, s) => StageMetrics.Read(s.Write("metrics.jsonl", input))),
        new("chat-request", "a chat completion request body (rlhf serve)",
            (input, _) => ChatRequestParser.Parse(input)),
        new("label-request", "a label server request body: a label submission, then an undo",
            (input, _) => AllRefusals(() => LabelRequests.ParseLabel(input), () => LabelRequests.ParseUndo(input))),
    ];

    public static FuzzTarget Get(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"unknown fuzz target '{name}'; valid: {string.Join(", ", All.Select(t => t.Name))}");

    /// <summary>
    /// Runs every parse in turn, whether or not an earlier one refused the input; when none
    /// accepted it, the first refusal is rethrown so the input counts as rejected.
    /// </summary>
    private static void AllRefusals(params Action[] parses)
    {
        Exception? first = null;
        bool accepted = false;
        foreach (var parse in parses)
        {
            try
            {
                parse();
                accepted = true;
            }
            catch (Exception e) when (Harness.IsExpected(e))
            {
                first ??= e;
            }
        }
        if (!accepted && first is not null)
            throw first;
    }

    private static void UseTokenizer(BpeTokenizer tokenizer)
    {
        var ids = tokenizer.Encode(SampleText, addSpecialTokens: true, splitSpecialTokens: true);
        tokenizer.Decode(ids);
        tokenizer.Decode(ids, skipSpecialTokens: true);
    }

    /// <summary>A valid safetensors file: 8-byte header length, header, 8 bytes of F32 data.</summary>
    public static byte[] TinyShard()
    {
        var header = Encoding.UTF8.GetBytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}");
        var bytes = new byte[8 + header.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return bytes;
    }
}
