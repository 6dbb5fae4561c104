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
}
