using System.Text.Json;

namespace RlhfSharp.Bench.Tests;

/// <summary>The JSON lines and the README tables built from measured rounds.</summary>
public sealed class OutputTests
{
    private static SideBySideResult Result(string verb, string model, double[] ours, double[] peer, long tokens = 0)
    {
        var rounds = new Rounds();
        rounds.OursMs.AddRange(ours);
        rounds.PeerMs.AddRange(peer);
        return new SideBySideResult(verb, LmCase.Get(model), 853120, 853120, 2, 5, rounds, new GcPerRun(0.5, 0, 0, 1024), tokens) { PeerVersion = "1.13.0" };
    }

    [Fact]
    public void ACaseLineHasTheSpreadsTheRatioAndTheCollections()
    {
        var json = JsonDocument.Parse(Result("train_step", "pipeline", [100, 120, 110], [300, 240, 440]).ToJson().ToString()).RootElement;
        Assert.Equal("pipeline", json.GetProperty("model").GetString());
        Assert.Equal(110, json.GetProperty("ours_ms_median").GetDouble());
        Assert.Equal(300, json.GetProperty("torch_ms_median").GetDouble());
        Assert.Equal(2, json.GetProperty("ratio_min").GetDouble());
        Assert.Equal(3, json.GetProperty("ratio_median").GetDouble());
        Assert.Equal(4, json.GetProperty("ratio_max").GetDouble());
        Assert.Equal(0.5, json.GetProperty("gc_gen0_per_step").GetDouble());
        Assert.Equal(1024, json.GetProperty("alloc_bytes_per_step").GetDouble());
    }

    [Fact]
    public void AGenerateLineCountsTokensPerSecondAndPerRunCollections()
    {
        var json = JsonDocument.Parse(Result("generate", "llama-6m", [512], [2048], tokens: 1024).ToJson().ToString()).RootElement;
        Assert.Equal(2000, json.GetProperty("ours_tokens_per_s_median").GetDouble());
        Assert.Equal(500, json.GetProperty("torch_tokens_per_s_median").GetDouble());
        Assert.True(json.TryGetProperty("gc_gen0_per_run", out _));
    }

    [Fact]
    public void WithoutAPeerTheLineHasNoTorchFigures()
    {
        var json = JsonDocument.Parse(Result("generate", "llama-6m", [512, 500], [], tokens: 1024).ToJson().ToString()).RootElement;
        Assert.Equal(506, json.GetProperty("ours_ms_median").GetDouble());
        Assert.False(json.TryGetProperty("torch_ms_median", out _));
        Assert.False(json.TryGetProperty("ratio_median", out _));
    }

    [Fact]
    public void TheMarkdownTableHasOneRowPerCaseAndThePpoParts()
    {
        var results = new[]
        {
            Result("train_step", "pipeline", [100, 120, 110], [300, 240, 440]),
            Result("generate", "gpt2-6m", [50], [400], tokens: 1024),
        };
        var ppo = new PpoStepBench.Result(new JsonLine(), 2000, [("rollout", 500), ("score_ref", 100), ("update", 1000)]);
        var md = SuiteBench.Markdown(results, ppo, "Test CPU (2 cores)", new DateTime(2026, 1, 2, 3, 4, 0, DateTimeKind.Utc));
        Assert.Contains("Measured 2026-01-02 03:04 UTC on Test CPU (2 cores), 2 threads, 3 alternating rounds; torch 1.13.0 eager.", md, StringComparison.Ordinal);
        Assert.Contains("| train step | pipeline | 0.85M | 110.0 | 300.0 | 2.00 / **3.00** / 4.00 | 0.5/0/0 |", md, StringComparison.Ordinal);
        Assert.Contains("| generate (1024 tokens) | gpt2-6m | 0.85M | 50.0 | 400.0 | 8.00 / **8.00** / 8.00 |", md, StringComparison.Ordinal);
        Assert.Contains("| rollout | 500 | 25.0 |", md, StringComparison.Ordinal);
        Assert.Contains("| score: ref | 100 | 5.0 |", md, StringComparison.Ordinal);
        Assert.Contains("median 2000 ms", md, StringComparison.Ordinal);
    }

    [Fact]
    public void The_machine_line_names_the_cores_and_the_kernels_vector_width()
    {
        // The same CPU name ("AMD EPYC") covers generations with and without AVX-512, and the tables differ by that.
        string machine = SuiteBench.Machine();
        Assert.Matches($@", {Environment.ProcessorCount} cores, (AVX-512|AVX2|scalar) kernels$", machine);
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
            Assert.EndsWith("AVX-512 kernels", machine, StringComparison.Ordinal);
        if (File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").Any(l => l.StartsWith("cpu family", StringComparison.Ordinal)))
            Assert.Matches(@"\(family \d+, model \d+\)", machine);
    }
}
