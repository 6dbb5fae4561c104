using System.Text.Json.Nodes;
using Parquet.Schema;
using Parquet.Serialization;
using RlhfSharp.Training.BuiltinTask;

namespace RlhfSharp.Cli.Tests;

/// <summary><c>rlhf sft</c>, as a real process, trains from Parquet shards exactly as from the same JSONL.</summary>
public sealed class ParquetDataCliTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);
    private readonly string _dir = Directory.CreateTempSubdirectory("parquet-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] TinyModel =
    [
        "--max_steps", "4", "--warmup_steps", "1", "--save_every", "100", "--eval_every", "100", "--batch_size", "8",
        "--model_init.hidden_size", "16", "--model_init.num_layers", "1", "--model_init.num_heads", "2",
        "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "32", "--threads", "1",
    ];

    /// <summary>The JSONL's prompt/completion lines as Hugging Face-named Parquet shards (two row groups in each).</summary>
    private static void WriteShards(string jsonl, string folder, int shards)
    {
        Directory.CreateDirectory(folder);
        var rows = File.ReadLines(jsonl).Select(l => JsonNode.Parse(l)!.AsObject())
            .Select(o => (IDictionary<string, object?>)new Dictionary<string, object?> { ["prompt"] = o["prompt"]!.GetValue<string>(), ["completion"] = o["completion"]!.GetValue<string>() })
            .ToList();
        int per = (rows.Count + shards - 1) / shards;
        for (int s = 0; s < shards; s++)
        {
            var part = rows.Skip(s * per).Take(per).ToList();
            WriteRows(Path.Combine(folder, $"train-{s:D5}-of-{shards:D5}.parquet"), part, rowGroupSize: (part.Count + 1) / 2);
        }
    }

    /// <summary>A JSONL file of string and number fields rewritten beside it as Parquet (string and double columns); the JSONL is removed.</summary>
    private static void ConvertToParquet(string jsonl)
    {
        var lines = File.ReadLines(jsonl).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var first = lines[0];
        var fields = first.Select(kv => kv.Value!.GetValueKind() == System.Text.Json.JsonValueKind.Number
            ? (Field)new DataField<double>(kv.Key) : new DataField<string>(kv.Key)).ToArray();
        var rows = lines.Select(o => (IDictionary<string, object?>)fields.ToDictionary(f => f.Name,
            f => f is DataField<double> ? (object?)o[f.Name]!.GetValue<double>() : o[f.Name]!.GetValue<string>())).ToList();
        using (var stream = File.Create(Path.ChangeExtension(jsonl, ".parquet")))
            ParquetSerializer.SerializeUntypedAsync(rows, new ParquetSchema(fields), stream).GetAwaiter().GetResult();
        File.Delete(jsonl);
    }

    /// <summary>Writes prompt/completion rows as string columns.</summary>
    private static void WriteRows(string path, IReadOnlyCollection<IDictionary<string, object?>> rows, int? rowGroupSize)
    {
        var schema = new ParquetSchema(new DataField<string>("prompt"), new DataField<string>("completion"));
        using var stream = File.Create(path);
        ParquetSerializer.SerializeUntypedAsync(rows, schema, stream, new Parquet.ParquetOptions { RowGroupSize = rowGroupSize }).GetAwaiter().GetResult();
    }

    [Fact]
    public void DataHelpSaysParquetWorksWhereJsonlDoes()
    {
        var (code, output, _) = RlhfProcess.Run(Limit, "data", "--help");
        Assert.Equal(0, code);
        Assert.Contains("Parquet with the same columns wherever a .jsonl file is accepted", output);
        Assert.Contains("data/train-*.parquet", output);
    }

    [Fact]
    public void SftFromParquetShardsSavesTheWeightsOfTheSameJsonl()
    {
        var data = Path.Combine(_dir, "data");
        BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = 40, EvalPrompts = 4, PreferencePairs = 20, TokenizerVocabSize = 300 });
        var jsonl = Path.Combine(data, BuiltinTaskGenerator.SftTrainFileName);
        var shards = Path.Combine(_dir, "hf", "data");
        WriteShards(jsonl, shards, shards: 3);
        var tokenizer = Path.Combine(data, "tokenizer");

        var fromJsonl = RlhfProcess.Run(Limit, ["sft", "--tokenizer", tokenizer, "--train_file", jsonl, "--out", Path.Combine(_dir, "jsonl"), .. TinyModel]);
        Assert.True(fromJsonl.Code == 0, fromJsonl.Err);
        var fromParquet = RlhfProcess.Run(Limit, ["sft", "--tokenizer", tokenizer, "--train_file", Path.Combine(shards, "train-*.parquet"), "--out", Path.Combine(_dir, "parquet"), .. TinyModel]);
        Assert.True(fromParquet.Code == 0, fromParquet.Err);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "jsonl", "model", "model.safetensors")),
            File.ReadAllBytes(Path.Combine(_dir, "parquet", "model", "model.safetensors")));

        // A shard with a null completion stops the run with its file, row group, row and column, and exit code 2.
        var bad = Path.Combine(_dir, "bad.parquet");
        WriteRows(bad, [new Dictionary<string, object?> { ["prompt"] = "What is 1 + 1?", ["completion"] = "2." }, new Dictionary<string, object?> { ["prompt"] = "What is 2 + 2?", ["completion"] = null }], rowGroupSize: null);
        var (code, _, err) = RlhfProcess.Run(Limit, ["sft", "--tokenizer", tokenizer, "--train_file", bad, "--out", Path.Combine(_dir, "bad"), .. TinyModel]);
        Assert.Equal(2, code);
        Assert.Contains($"{bad}: row group 0, row 1: column \"completion\"", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void ThePipelineRunsOnADataFolderOfParquetFiles()
    {
        // A user's data folder (no gold scorer) whose every data file is Parquet instead of JSONL.
        var data = Path.Combine(_dir, "data");
        BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = 200, EvalPrompts = 6, PreferencePairs = 200, TokenizerVocabSize = 300 });
        File.Delete(Path.Combine(data, BuiltinTaskGenerator.StatsFileName));
        foreach (var jsonl in Directory.GetFiles(data, "*.jsonl"))
            ConvertToParquet(jsonl);
        Assert.Empty(Directory.GetFiles(data, "*.jsonl"));

        var user = Path.Combine(_dir, "user");
        var made = RlhfProcess.Run(Limit, "sft", "--data", data, "--out", user, "--max_steps", "1", "--warmup_steps", "0", "--eval_prompts", "0",
            "--model_init.hidden_size", "32", "--model_init.num_layers", "1", "--model_init.num_heads", "2", "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "64");
        Assert.True(made.Code == 0, made.Err);

        var run = Path.Combine(_dir, "run");
        var (code, _, err) = RlhfProcess.Run(Limit, "pipeline", "--out", run, "--model", Path.Combine(user, "model"), "--data", data, "--steps_scale", "0.01", "--eval_prompts", "4");
        Assert.True(code == 0, err);
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "results.json")))!.AsObject();
        Assert.Equal(["sft", "ppo", "dpo", "grpo"], results["policies"]!.AsArray().Select(r => r!["policy"]!.GetValue<string>()));
        // The held-out prompts came from prompts_eval.parquet: each policy answered them.
        Assert.NotEmpty(File.ReadAllLines(Path.Combine(run, "responses.jsonl")));
    }
}
