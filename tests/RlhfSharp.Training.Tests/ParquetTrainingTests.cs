using System.Text.Json.Nodes;
using Parquet.Schema;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Trainers;
using static RlhfSharp.Training.Tests.ParquetTestFiles;

namespace RlhfSharp.Training.Tests;

/// <summary>The same data as JSONL and as Parquet trains byte-identical models.</summary>
public sealed class ParquetTrainingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("parquet-train-").FullName;

    public ParquetTrainingTests()
    {
        BuiltinTaskGenerator.Write(DataDir, new BuiltinTaskOptions { TrainPrompts = 48, EvalPrompts = 4, PreferencePairs = 48, TokenizerVocabSize = 300 });
    }

    private string DataDir => Path.Combine(_dir, "data");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ModelInitSection Tiny() => new() { HiddenSize = 16, NumLayers = 1, NumHeads = 2, NumKvHeads = 1, IntermediateSize = 32, MaxPositions = 96 };

    /// <summary>A JSONL file of string fields rewritten as Parquet string columns, in row groups of 10 rows.</summary>
    private string ToParquet(string jsonl, params string[] columns)
    {
        var rows = File.ReadLines(jsonl).Select(l => JsonNode.Parse(l)!.AsObject())
            .Select(o => columns.ToDictionary(c => c, c => (object?)o[c]!.GetValue<string>())).ToList();
        var path = Path.Combine(_dir, Path.GetFileNameWithoutExtension(jsonl) + ".parquet");
        return Write(path, new ParquetSchema([.. columns.Select(StringColumn)]), rows, rowGroupSize: 10);
    }

    private static byte[] Weights(string run) => File.ReadAllBytes(Path.Combine(run, "model", "model.safetensors"));

    [Fact]
    public void Sft_on_parquet_trains_the_same_weights_as_on_jsonl()
    {
        var jsonl = Path.Combine(DataDir, BuiltinTaskGenerator.SftTrainFileName);
        var parquet = ToParquet(jsonl, "prompt", "completion");
        SftConfig Config(string train) => new()
        {
            TrainFile = train,
            Tokenizer = Path.Combine(DataDir, "tokenizer"),
            ModelInit = Tiny(),
            MaxSteps = 6,
            WarmupSteps = 1,
            BatchSize = 8,
            EvalEvery = 100,
            SaveEvery = 100,
            Threads = 1,
        };
        SftTrainer.Run(Config(jsonl), Path.Combine(_dir, "sft_jsonl"), resume: false);
        SftTrainer.Run(Config(parquet), Path.Combine(_dir, "sft_parquet"), resume: false);
        Assert.Equal(Weights(Path.Combine(_dir, "sft_jsonl")), Weights(Path.Combine(_dir, "sft_parquet")));
    }

    [Fact]
    public void A_reward_model_on_parquet_trains_the_same_weights_as_on_jsonl()
    {
        var jsonl = Path.Combine(DataDir, BuiltinTaskGenerator.PrefsTrainFileName);
        var parquet = ToParquet(jsonl, "prompt", "chosen", "rejected");
        RewardConfig Config(string train) => new()
        {
            TrainFile = train,
            Tokenizer = Path.Combine(DataDir, "tokenizer"),
            ModelInit = Tiny(),
            MaxSteps = 6,
            WarmupSteps = 1,
            BatchSize = 8,
            EvalEvery = 100,
            SaveEvery = 100,
            Threads = 1,
        };
        RewardTrainer.Run(Config(jsonl), Path.Combine(_dir, "rm_jsonl"), resume: false);
        RewardTrainer.Run(Config(parquet), Path.Combine(_dir, "rm_parquet"), resume: false);
        Assert.Equal(Weights(Path.Combine(_dir, "rm_jsonl")), Weights(Path.Combine(_dir, "rm_parquet")));
    }

    [Fact]
    public void A_data_folder_holding_parquet_supplies_the_default_file()
    {
        var jsonl = Path.Combine(DataDir, BuiltinTaskGenerator.SftTrainFileName);
        var parquet = ToParquet(jsonl, "prompt", "completion");
        File.Move(parquet, Path.ChangeExtension(jsonl, ".parquet"));
        File.Delete(jsonl);
        Assert.Equal(Path.ChangeExtension(jsonl, ".parquet"),
            TrainerSetup.DataFile(null, DataDir, BuiltinTaskGenerator.SftTrainFileName, "train_file", required: true));
        var missing = Assert.Throws<TrainingSetupException>(() =>
            TrainerSetup.DataFile(null, DataDir, BuiltinTaskGenerator.PromptsTrainFileName.Replace("prompts", "nothing"), "train_file", required: true));
        Assert.Contains("nothing_train.parquet", missing.Message);
    }
}
