using System.Text.Json;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Tests;

public sealed class DataLoaderTests
{
    private static readonly int[] Items = [.. Enumerable.Range(0, 10)];

    private static List<int[]> Take(DataLoader<int> loader, int batches)
        => [.. Enumerable.Range(0, batches).Select(_ => loader.NextBatch().ToArray())];

    [Fact]
    public void Each_epoch_is_a_permutation_and_epochs_differ()
    {
        var loader = new DataLoader<int>(Items, batchSize: 3, seed: 7);
        Assert.Equal(4, loader.BatchesPerEpoch);
        var first = loader.RestOfEpoch().ToList();
        Assert.Equal([3, 3, 3, 1], first.Select(b => b.Count));
        Assert.Equal(Items, first.SelectMany(b => b).Order());
        Assert.True(loader.EpochFinished);
        var second = loader.RestOfEpoch().SelectMany(b => b).ToArray();
        Assert.Equal(1, loader.Epoch);
        Assert.Equal(Items, second.Order());
        Assert.NotEqual(first.SelectMany(b => b), second);
    }

    [Fact]
    public void Same_seed_gives_the_same_batches_and_another_seed_does_not()
    {
        var a = Take(new DataLoader<int>(Items, 4, seed: 1), 9);
        var b = Take(new DataLoader<int>(Items, 4, seed: 1), 9);
        var c = Take(new DataLoader<int>(Items, 4, seed: 2), 9);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(11)]
    public void Restored_state_continues_with_identical_batches(int batchesBeforeSave)
    {
        var original = new DataLoader<int>(Items, 3, seed: 42);
        Take(original, batchesBeforeSave);
        var json = JsonSerializer.Serialize(original.GetState());
        var expected = Take(original, 10);

        var resumed = new DataLoader<int>(Items, 3, seed: 999);
        resumed.SetState(JsonSerializer.Deserialize<DataLoaderState>(json)!);
        Assert.Equal(expected, Take(resumed, 10));
    }

    [Fact]
    public void Position_reports_epoch_and_index()
    {
        var loader = new DataLoader<int>(Items, 4, seed: 3);
        Take(loader, 4);
        var state = loader.GetState();
        Assert.Equal((1, 4, 10, 4), (state.Epoch, state.IndexInEpoch, state.DatasetSize, state.BatchSize));
        Assert.Equal(4, state.GeneratorState.Length);
    }

    [Fact]
    public void Drop_last_skips_the_short_batch_and_unshuffled_keeps_order()
    {
        var dropping = new DataLoader<int>(Items, 4, seed: 5, dropLast: true);
        Assert.Equal(2, dropping.BatchesPerEpoch);
        Assert.All(Take(dropping, 6), b => Assert.Equal(4, b.Length));
        Assert.Equal(2, dropping.Epoch);

        var ordered = new DataLoader<int>(Items, 4, shuffle: false);
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9], [0, 1, 2, 3]], Take(ordered, 4));
    }

    [Fact]
    public void State_from_different_data_is_refused()
    {
        var state = new DataLoader<int>(Items, 3).GetState();
        Assert.Throws<ArgumentException>(() => new DataLoader<int>(Items, 4).SetState(state));
        Assert.Throws<ArgumentException>(() => new DataLoader<int>([.. Items, 10], 3).SetState(state));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader<int>(Items, 11, dropLast: true));
    }

    // 250 examples with lengths 1..60 in a scrambled order; batches of 4, so two length groups of
    // 200 and 50 examples, the last batch short (250 = 62·4 + 2).
    private static readonly int[] Many = [.. Enumerable.Range(0, 250)];
    private static readonly int[] ManyLengths = [.. Many.Select(i => 1 + (i * 37 % 60))];

    private static double MeanBatchWidth(IEnumerable<IReadOnlyList<int>> batches)
        => batches.Average(b => b.Max(i => ManyLengths[i]));

    [Fact]
    public void Grouping_by_length_pads_less_and_still_sees_every_example_once_per_epoch()
    {
        var grouped = new DataLoader<int>(Many, 4, seed: 5, lengths: ManyLengths);
        var plain = new DataLoader<int>(Many, 4, seed: 5);
        Assert.True(grouped.GroupsByLength);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var g = grouped.RestOfEpoch().ToList();
            var p = plain.RestOfEpoch().ToList();
            Assert.Equal(Many, g.SelectMany(b => b).Order());
            Assert.Equal(63, g.Count);
            Assert.Equal(2, g[^1].Count);
            // Worked out: lengths are 1..60 about evenly, so a random batch of 4 is padded to ~48 on
            // average; in a group of 200 sorted by length a batch spans about 60·4/200 ≈ 1.2.
            Assert.True(MeanBatchWidth(p) > 40, $"ungrouped width {MeanBatchWidth(p):F1}");
            double padded = g.Sum(b => b.Count * b.Max(i => ManyLengths[i])) - g.Sum(b => b.Sum(i => ManyLengths[i]));
            Assert.True(padded / Many.Length < 2, $"padding per example {padded / Many.Length:F2}");
        }
    }

    [Fact]
    public void Grouped_batches_come_in_a_seeded_random_order_not_longest_first()
    {
        var a = new DataLoader<int>(Many, 4, seed: 1, lengths: ManyLengths).RestOfEpoch().ToList();
        var b = new DataLoader<int>(Many, 4, seed: 1, lengths: ManyLengths).RestOfEpoch().ToList();
        var c = new DataLoader<int>(Many, 4, seed: 2, lengths: ManyLengths).RestOfEpoch().ToList();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        var widths = a.Take(50).Select(x => x.Max(i => ManyLengths[i])).ToList();
        Assert.NotEqual(widths.OrderByDescending(w => w), widths);
        Assert.NotEqual(widths.Order(), widths);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(30)]
    [InlineData(63)]
    [InlineData(100)]
    public void Grouped_loader_resumes_with_identical_batches(int batchesBeforeSave)
    {
        var original = new DataLoader<int>(Many, 4, seed: 9, lengths: ManyLengths);
        for (int i = 0; i < batchesBeforeSave; i++) original.NextBatch();
        var json = JsonSerializer.Serialize(original.GetState());
        var expected = Enumerable.Range(0, 80).Select(_ => original.NextBatch().ToArray()).ToList();
        var resumed = new DataLoader<int>(Many, 4, seed: 1234, lengths: ManyLengths);
        resumed.SetState(JsonSerializer.Deserialize<DataLoaderState>(json)!);
        Assert.Equal(expected, Enumerable.Range(0, 80).Select(_ => resumed.NextBatch().ToArray()).ToList());
    }

    [Fact]
    public void Grouped_drop_last_drops_only_the_short_batch()
    {
        var loader = new DataLoader<int>(Many, 4, seed: 3, dropLast: true, lengths: ManyLengths);
        var epoch = loader.RestOfEpoch().ToList();
        Assert.Equal(62, epoch.Count);
        Assert.All(epoch, b => Assert.Equal(4, b.Count));
        Assert.Equal(248, epoch.SelectMany(b => b).Distinct().Count());
    }

    [Fact]
    public void Lengths_must_match_the_examples()
    {
        var e = Assert.Throws<ArgumentException>(() => new DataLoader<int>(Items, 3, lengths: [1, 2, 3]));
        Assert.Contains("3 lengths for 10 examples", e.Message);
    }
}
