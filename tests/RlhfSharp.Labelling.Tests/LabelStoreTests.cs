using System.Text;
using System.Text.Json;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Judges.Human;

namespace RlhfSharp.Labelling.Tests;

/// <summary>The durable label files: what they hold, resuming, torn lines, undo and concurrent writers.</summary>
public sealed class LabelStoreTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 3, 1, 9, 30, 0, TimeSpan.Zero);

    private readonly string _dir = Directory.CreateTempSubdirectory("label-store-").FullName;
    private readonly List<PairItem> _items = TestPairs.Arithmetic(6);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Prefs => Path.Combine(_dir, "prefs.jsonl");

    private string NoPrefs => Path.Combine(_dir, "prefs.no_preference.jsonl");

    [Fact]
    public void PreferencesGoToTheTrainersFileWithTheirExtrasAndTheRestToTheSideFile()
    {
        using (var store = LabelStore.Open(Prefs))
        {
            Assert.True(store.TryAppend(_items[0], new Submission("ana", _items[0].Id, Side.A, HumanChoice.Left,
                new Ratings(6, 7, null), new Ratings(2, null, null), "the right one is wrong", 3.5), Now, out _));
            Assert.True(store.TryAppend(_items[1], TestPairs.Label("ana", _items[1], HumanChoice.Left, Side.B), Now, out _));
            Assert.True(store.TryAppend(_items[2], TestPairs.Label("ana", _items[2], HumanChoice.Right, Side.B), Now, out _));
            Assert.True(store.TryAppend(_items[3], TestPairs.Label("ana", _items[3], HumanChoice.Tie), Now, out _));
            Assert.True(store.TryAppend(_items[4], TestPairs.Label("ana", _items[4], HumanChoice.BothBad), Now, out _));
            Assert.True(store.TryAppend(_items[5], TestPairs.Label("ana", _items[5], HumanChoice.Skip), Now, out _));
        }

        // rlhf rm / rlhf dpo read the file as it is; the extra fields are ignored.
        var prefs = PreferenceDataset.Load(Prefs);
        Assert.Equal(3, prefs.Count);
        Assert.Equal(("1 + 1 = 2.", "1 + 1 = 3."), (prefs[0].Chosen.Content, prefs[0].Rejected.Content)); // left was A
        Assert.Equal(("2 + 2 = 5.", "2 + 2 = 4."), (prefs[1].Chosen.Content, prefs[1].Rejected.Content)); // left was B
        Assert.Equal(("3 + 3 = 6.", "3 + 3 = 7."), (prefs[2].Chosen.Content, prefs[2].Rejected.Content)); // right was A
        Assert.Equal("What is 1 + 1?", prefs[0].Prompt.Single().Content);

        var first = JsonDocument.Parse(File.ReadLines(Prefs).First()).RootElement;
        Assert.Equal("human", first.GetProperty("judge").GetString());
        Assert.Equal("ana", first.GetProperty("labeller").GetString());
        Assert.Equal(_items[0].Id, first.GetProperty("item").GetString());
        Assert.Equal("chosen", first.GetProperty("shown_left").GetString());
        Assert.Equal(6, first.GetProperty("ratings").GetProperty("chosen").GetProperty("helpful").GetInt32());
        Assert.Equal(7, first.GetProperty("ratings").GetProperty("chosen").GetProperty("honest").GetInt32());
        Assert.False(first.GetProperty("ratings").GetProperty("chosen").TryGetProperty("harmless", out _));
        Assert.Equal(2, first.GetProperty("ratings").GetProperty("rejected").GetProperty("helpful").GetInt32());
        Assert.Equal("the right one is wrong", first.GetProperty("note").GetString());
        Assert.Equal("2025-03-01T09:29:56.500Z", first.GetProperty("shown_at").GetString());
        Assert.Equal("2025-03-01T09:30:00.000Z", first.GetProperty("labelled_at").GetString());
        Assert.Equal(3.5, first.GetProperty("seconds").GetDouble());
        Assert.Equal(1, first.GetProperty("seq").GetInt64());

        var rest = File.ReadAllLines(NoPrefs).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["tie", "both_bad", "skip"], rest.Select(r => r.GetProperty("label").GetString()));
        Assert.Equal(_items[3].A, rest[0].GetProperty("response_a").GetString());
        Assert.False(rest[0].TryGetProperty("chosen", out _));
        // The side file is not something the trainers read: it has no chosen/rejected.
        var e = Assert.Throws<DataFormatException>(() => PreferenceDataset.Load(NoPrefs));
        Assert.Equal(DataErrorKind.MissingField, e.Kind);
    }

    [Fact]
    public void ReopeningResumesWithEveryLabelAndTheNextSequenceNumber()
    {
        using (var store = LabelStore.Open(Prefs))
        {
            store.TryAppend(_items[0], TestPairs.Label("ana", _items[0], HumanChoice.Left), Now, out _);
            store.TryAppend(_items[1], TestPairs.Label("ana", _items[1], HumanChoice.Skip), Now, out _);
        }
        using (var store = LabelStore.Open(Prefs))
        {
            Assert.Empty(store.Repairs);
            Assert.Equal([(_items[0].Id, 1L, HumanChoice.Left), (_items[1].Id, 2L, HumanChoice.Skip)],
                store.Records().Select(r => (r.ItemId, r.Seq, r.Choice)));
            Assert.True(store.Contains(_items[0].Id, "ana"));
            Assert.False(store.Contains(_items[0].Id, "bo"));
            // The same label again is recognised, not written twice.
            Assert.False(store.TryAppend(_items[0], TestPairs.Label("ana", _items[0], HumanChoice.Right), Now, out var existing));
            Assert.Equal(HumanChoice.Left, existing.Choice);
            Assert.True(store.TryAppend(_items[2], TestPairs.Label("ana", _items[2], HumanChoice.Right), Now, out var added));
            Assert.Equal(3, added.Seq);
        }
        Assert.Equal(2, File.ReadAllLines(Prefs).Length);
    }

    [Fact]
    public void ALastLineCutOffByACrashIsRemovedAndReported()
    {
        using (var store = LabelStore.Open(Prefs))
        {
            store.TryAppend(_items[0], TestPairs.Label("ana", _items[0], HumanChoice.Left), Now, out _);
            store.TryAppend(_items[1], TestPairs.Label("ana", _items[1], HumanChoice.Right), Now, out _);
        }
        var whole = File.ReadAllBytes(Prefs);
        // A power cut in the middle of the third append: half a line, no newline.
        var third = Encoding.UTF8.GetBytes("{\"prompt\":\"What is 3 + 3?\",\"chosen\":\"3 + 3 = 6.\",\"rejec");
        File.WriteAllBytes(Prefs, [.. whole, .. third]);

        using (var store = LabelStore.Open(Prefs))
        {
            var repair = Assert.Single(store.Repairs);
            Assert.Contains(Prefs, repair);
            Assert.Contains("line 3", repair);
            Assert.Contains("cut off", repair);
            Assert.Equal(2, store.Records().Count);
            Assert.Equal(whole, File.ReadAllBytes(Prefs));
            // The pair can be labelled again and the file stays whole.
            Assert.True(store.TryAppend(_items[2], TestPairs.Label("ana", _items[2], HumanChoice.Left), Now, out _));
        }
        Assert.Equal(3, PreferenceDataset.Load(Prefs).Count);
    }

    [Fact]
    public void ALastLineThatOnlyLacksItsNewlineIsKept()
    {
        using (var store = LabelStore.Open(Prefs))
            store.TryAppend(_items[0], TestPairs.Label("ana", _items[0], HumanChoice.Left), Now, out _);
        File.WriteAllText(Prefs, File.ReadAllText(Prefs).TrimEnd('\n'));
        using (var store = LabelStore.Open(Prefs))
        {
            Assert.Contains("is kept", Assert.Single(store.Repairs));
            Assert.Single(store.Records());
            store.TryAppend(_items[1], TestPairs.Label("ana", _items[1], HumanChoice.Left), Now, out _);
        }
        Assert.Equal(2, PreferenceDataset.Load(Prefs).Count);
    }

    [Fact]
    public void ABadLineBeforeTheEndIsAnErrorNamingFileAndLine()
    {
        using (var store = LabelStore.Open(Prefs))
        {
            store.TryAppend(_items[0], TestPairs.Label("ana", _items[0], HumanChoice.Left), Now, out _);
            store.TryAppend(_items[1], TestPairs.Label("ana", _items[1], HumanChoice.Left), Now, out _);
        }
        var lines = File.ReadAllLines(Prefs);
        File.WriteAllLines(Prefs, [lines[0], "{\"prompt\": \"x\", \"chosen\": ", lines[1]]);
        var e = Assert.Throws<DataFormatException>(() => LabelStore.Open(Prefs));
        Assert.Equal(2, e.Line);
        Assert.Contains(Prefs, e.Message);

        File.WriteAllLines(Prefs, [lines[0], lines[1].Replace("\"labeller\":\"ana\",", "", StringComparison.Ordinal)]);
        e = Assert.Throws<DataFormatException>(() => LabelStore.Open(Prefs));
        Assert.Equal((2, "labeller"), (e.Line, e.Field));
    }

    [Fact]
    public void TheSameLabellerTwiceOnOnePairIsAnError()
    {
        using (var store = LabelStore.Open(Prefs))
            store.TryAppend(_items[0], TestPairs.Label("ana", _items[0], HumanChoice.Left), Now, out _);
        var line = File.ReadAllText(Prefs);
        File.WriteAllText(Prefs, line + line.Replace("\"seq\":1", "\"seq\":2", StringComparison.Ordinal));
        var e = Assert.Throws<DataFormatException>(() => LabelStore.Open(Prefs));
        Assert.Equal(DataErrorKind.DuplicateLabel, e.Kind);
        Assert.Contains("line 1", e.Message);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void UndoRemovesTheLabellersLatestLabelFromWhicheverFileHoldsIt()
    {
        using var store = LabelStore.Open(Prefs);
        store.TryAppend(_items[0], TestPairs.Label("ana", _items[0], HumanChoice.Left), Now, out _);
        store.TryAppend(_items[1], TestPairs.Label("bo", _items[1], HumanChoice.Right), Now, out _);
        store.TryAppend(_items[2], TestPairs.Label("ana", _items[2], HumanChoice.Tie), Now, out _);
        store.TryAppend(_items[3], TestPairs.Label("bo", _items[3], HumanChoice.Left), Now, out _);

        var undone = store.Undo("ana");
        Assert.Equal((_items[2].Id, HumanChoice.Tie), (undone!.ItemId, undone.Choice));
        Assert.Empty(File.ReadAllLines(NoPrefs));
        undone = store.Undo("ana");
        Assert.Equal(_items[0].Id, undone!.ItemId);
        Assert.Null(store.Undo("ana"));

        // bo's labels are untouched, the file is still one the trainers read, and it can grow again.
        Assert.Equal([_items[1].Id, _items[3].Id], store.Records().Select(r => r.ItemId));
        Assert.Equal(["2 + 2 = 5.", "4 + 4 = 8."], PreferenceDataset.Load(Prefs).Select(p => p.Chosen.Content));
        Assert.False(store.Contains(_items[0].Id, "ana"));
        Assert.True(store.TryAppend(_items[0], TestPairs.Label("ana", _items[0], HumanChoice.Right), Now, out var again));
        Assert.Equal(5, again.Seq);
        Assert.Equal(3, PreferenceDataset.Load(Prefs).Count);
        // The rewrite left no temporary file behind (only the session's lock is there besides the two files).
        Assert.Equal([".prefs.jsonl.lock", "prefs.jsonl", "prefs.no_preference.jsonl"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ASecondSessionOnTheSameFileIsRefusedUntilTheFirstCloses()
    {
        var first = LabelStore.Open(Prefs);
        var e = Assert.Throws<RlhfSharp.Training.Foundation.TrainingSetupException>(() => LabelStore.Open(Prefs));
        Assert.Contains(Prefs, e.Message);
        Assert.Contains("another labelling session", e.Message);
        first.Dispose();
        LabelStore.Open(Prefs).Dispose();
        Assert.False(File.Exists(Path.Combine(_dir, ".prefs.jsonl.lock")));
    }

    [Fact]
    public void ConcurrentWritersNeverInterleaveAndEveryLabelIsPresentExactlyOnce()
    {
        var items = TestPairs.Arithmetic(40);
        var choices = Enum.GetValues<HumanChoice>();
        const int writers = 8;
        int saved = 0;
        using (var store = LabelStore.Open(Prefs))
        {
            // Two threads per name race to label the same pairs: one of each pair of attempts must win.
            var threads = Enumerable.Range(0, writers).Select(t => new Thread(() =>
            {
                string name = $"labeller{t / 2}";
                for (int i = 0; i < items.Count; i++)
                {
                    var s = TestPairs.Label(name, items[i], choices[(i + t) % choices.Length], (i + t) % 2 == 0 ? Side.A : Side.B);
                    if (store.TryAppend(items[i], s, Now, out _))
                        Interlocked.Increment(ref saved);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(60))));
        }
        Assert.Equal(writers / 2 * items.Count, saved);

        var keys = new List<(string Item, string Labeller)>();
        foreach (var path in new[] { Prefs, NoPrefs })
        {
            var text = File.ReadAllText(path);
            Assert.EndsWith("\n", text);
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var o = JsonDocument.Parse(line).RootElement; // every line is whole JSON
                keys.Add((o.GetProperty("item").GetString()!, o.GetProperty("labeller").GetString()!));
            }
        }
        Assert.Equal(writers / 2 * items.Count, keys.Count);
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Equal(Enumerable.Range(1, keys.Count).Select(i => (long)i), LabelFiles.Read(Prefs).Records.Select(r => r.Seq));
        Assert.True(PreferenceDataset.Load(Prefs).Count > 0);
    }
}
