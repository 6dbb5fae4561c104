using System.Text.Json;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Text;
using RlhfSharp.Training.Checkpointing;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Training.Tests;

/// <summary>
/// Writers that meet a full disk (a real tmpfs of a few hundred KiB) stop with an error naming the
/// file and the full disk, leave the files written before byte for byte, and leave nothing
/// half-written under a real name.
/// </summary>
public sealed class DiskFullTests : IDisposable
{
    private readonly TinyDisk _disk = new(kilobytes: 256);

    public void Dispose() => _disk.Dispose();

    private static CausalLM Model(ulong seed) => new(CheckpointStoreTests.Tiny(), new Generator(seed));

    private static void AssertDiskFullError(Exception? ex, string path)
    {
        Assert.NotNull(ex);
        Assert.True(ex is IUserError, $"expected an error a user can act on, got {ex.GetType().Name}: {ex.Message}");
        Assert.Contains(path, ex.Message);
        Assert.Contains("no space left on device", ex.Message);
    }

    private void AssertNoTemporaryFiles() =>
        Assert.Empty(Directory.EnumerateFileSystemEntries(_disk.Root, "*.tmp", SearchOption.AllDirectories));

    [Fact]
    public void ACheckpointOnAFullDiskIsATypedErrorAndTheEarlierOneStaysWhole()
    {
        var run = Path.Combine(_disk.Root, "run");
        var model = Model(1);
        var opt = new AdamW(model.TrainableParameters(), lr: 1e-2f);
        var models = new Dictionary<string, Module> { ["policy"] = model };
        var store = new CheckpointStore(run);
        store.Save(new TrainerState(1), models, opt);
        var before = TinyDisk.Snapshot(run);

        _disk.Fill(leaveBytes: 8192); // room for the first files of the next checkpoint, not all of them
        var ex = Record.Exception(() => store.Save(new TrainerState(2), models, opt));
        AssertDiskFullError(ex, Path.Combine(run, "checkpoint-2"));
        Assert.Equal(before, TinyDisk.Snapshot(run));
        Assert.Equal([1L], store.List().Select(c => c.Step));
        AssertNoTemporaryFiles();

        _disk.Free();
        store.Save(new TrainerState(2), models, opt);
        Assert.Equal([1L, 2L], store.List().Select(c => c.Step));
    }

    [Fact]
    public void TheFinalModelOnAFullDiskIsATypedErrorAndThePreviousModelStays()
    {
        var dir = Path.Combine(_disk.Root, "model");
        PretrainedIO.Save(Model(1), dir);
        var small = Tokenizer(270);
        TrainerSetup.SaveTokenizer(small, dir);
        var before = TinyDisk.Snapshot(dir);

        var big = Tokenizer(900);
        Assert.True(big.ToJson().Length > small.ToJson().Length + 8192, "the second tokenizer must need more room than the first frees");
        _disk.Fill();
        AssertDiskFullError(Record.Exception(() => PretrainedIO.Save(Model(2), dir)), Path.Combine(dir, "model.safetensors"));
        AssertDiskFullError(Record.Exception(() => TrainerSetup.SaveTokenizer(big, dir)), Path.Combine(dir, BpeTokenizer.TokenizerJsonFileName));
        Assert.Equal(before, TinyDisk.Snapshot(dir));
        AssertNoTemporaryFiles();
    }

    [Fact]
    public void MetricsOnAFullDiskAreATypedErrorAndKeepWholeLines()
    {
        var run = Path.Combine(_disk.Root, "run");
        using var sink = new JsonlMetricSink(run);
        var metrics = new Dictionary<string, double> { ["train/loss"] = 1.25, ["train/lr"] = 1e-3, ["policy/a_rather_long_metric_name_to_fill_pages"] = 0.5 };
        for (int step = 1; step <= 5; step++)
            sink.Log(step, metrics);
        sink.Flush();
        var first = File.ReadAllText(sink.MetricsPath);

        _disk.Fill();
        Exception? ex = null;
        for (int step = 6; step < 100_000 && ex is null; step++)
            ex = Record.Exception(() => sink.Log(step, metrics));
        AssertDiskFullError(ex, sink.MetricsPath);
        Assert.Null(Record.Exception(sink.Dispose)); // closing the files does not fail a second time

        var text = File.ReadAllText(sink.MetricsPath);
        Assert.StartsWith(first, text);
        Assert.EndsWith("\n", text);
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length > 5, "the disk filled before any line after the first five was written; the test proves too little");
        for (int i = 0; i < lines.Length; i++)
            Assert.Equal(i + 1, JsonDocument.Parse(lines[i]).RootElement.GetProperty("step").GetInt64());
    }

    [Fact]
    public void TheMetricLoggerOnAFullDiskIsATypedErrorAndClosesCleanly()
    {
        var run = Path.Combine(_disk.Root, "run");
        using var logger = new MetricLogger(new JsonlMetricSink(run), new TensorBoardSink(Path.Combine(run, "tensorboard")));
        var metrics = new Dictionary<string, double> { ["train/loss"] = 1.25, ["policy/a_rather_long_metric_name_to_fill_pages"] = 0.5 };
        logger.Log(1, metrics);
        logger.Flush();

        _disk.Fill();
        Exception? ex = null;
        for (int step = 2; step < 100_000 && ex is null; step++)
            ex = Record.Exception(() => logger.Log(step, metrics));
        Assert.NotNull(ex);
        Assert.True(ex is IUserError, $"expected an error a user can act on, got {ex.GetType().Name}: {ex.Message}");
        Assert.Contains("no space left on device", ex.Message);
        // Closing the files after the error (a trainer's using block) does not replace it with another.
        Assert.Null(Record.Exception(logger.Dispose));
    }

    private static BpeTokenizer Tokenizer(int vocab)
    {
        var corpus = new List<string>();
        for (int i = 0; i < 400; i++)
            corpus.Add($"Human: what is {i} plus {i * 37}? Assistant: It is {i * 38}; harbour{i % 17} gull{i % 29} wave{i % 31} sky{i % 13}.");
        return BpeTrainer.Train(corpus, new BpeTrainerOptions { VocabSize = vocab, EosToken = "<|endoftext|>" });
    }
}
