using RlhfSharp.Training.Judges.Human;

namespace RlhfSharp.Labelling.Tests;

/// <summary>How a session hands pairs to labellers: order, leases, overlap, undo, resume and progress.</summary>
public sealed class LabellingSessionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("label-session-").FullName;
    private readonly ManualTime _time = new();
    private readonly List<LabelStore> _stores = [];

    public void Dispose()
    {
        _stores.ForEach(s => s.Dispose());
        Directory.Delete(_dir, recursive: true);
    }

    private LabellingSession Session(IReadOnlyList<PairItem> items, LabellingOptions? options = null, string file = "prefs.jsonl")
    {
        var store = LabelStore.Open(Path.Combine(_dir, file));
        _stores.Add(store);
        return new LabellingSession(items, store, options, _time);
    }

    private static SubmitOutcome Label(LabellingSession session, string labeller, HumanChoice choice = HumanChoice.Left, double seconds = 2)
    {
        var next = session.Next(labeller);
        Assert.Equal(NextState.Item, next.State);
        return session.Submit(new Submission(labeller, next.View!.Item.Id, next.View.Left, choice, Seconds: seconds)).Outcome;
    }

    [Fact]
    public void OneLabellerGetsEveryPairOnceInSourceOrderThenIsDone()
    {
        var items = TestPairs.Arithmetic(4);
        var session = Session(items);
        var seen = new List<string>();
        for (int i = 0; i < items.Count; i++)
        {
            var next = session.Next("ana");
            seen.Add(next.View!.Item.Id);
            Assert.Equal(SubmitOutcome.Saved, session.Submit(new Submission("ana", next.View.Item.Id, next.View.Left, (HumanChoice)(i % 5))).Outcome);
        }
        Assert.Equal(items.Select(i => i.Id), seen);
        var done = session.Next("ana");
        Assert.Equal(NextState.Done, done.State);
        Assert.Equal((4, 4, 4, 4, 4), (done.Progress.ItemsDone, done.Progress.Items, done.Progress.Labels, done.Progress.LabelsNeeded, done.Progress.Yours));
    }

    [Fact]
    public void APairShownToOneLabellerIsNotShownToAnotherUntilTheLeaseRunsOut()
    {
        var items = TestPairs.Arithmetic(2);
        var session = Session(items, new LabellingOptions { Lease = TimeSpan.FromMinutes(5) });
        Assert.Equal(items[0].Id, session.Next("ana").View!.Item.Id);
        Assert.Equal(items[1].Id, session.Next("bo").View!.Item.Id);
        Assert.Equal(NextState.Waiting, session.Next("cy").State);
        // A reload shows the same pair, on the same sides.
        var again = session.Next("ana").View!;
        Assert.Equal((items[0].Id, session.Next("ana").View!.Left), (again.Item.Id, again.Left));

        _time.Now += TimeSpan.FromMinutes(6); // ana and bo walked away
        Assert.Equal(items[0].Id, session.Next("cy").View!.Item.Id);
    }

    [Fact]
    public void TheLeftResponseIsMixedAcrossPairsAndRecordedAsShown()
    {
        var items = TestPairs.Arithmetic(40);
        var session = Session(items);
        var shownLeft = new Dictionary<string, string>();
        for (int i = 0; i < items.Count; i++)
        {
            var view = session.Next("ana").View!;
            shownLeft[view.Item.Id] = view.LeftText;
            Assert.Equal(view.Item.Text(view.Left), view.LeftText);
            session.Submit(new Submission("ana", view.Item.Id, view.Left, HumanChoice.Left));
        }
        Assert.InRange(items.Count(i => shownLeft[i.Id] == i.A), 10, 30);
        // "left" chose whatever was on the left, and the record says what that was.
        Assert.All(_stores[0].Records(), r => Assert.Equal(shownLeft[r.ItemId], r.LeftText));
        Assert.Equal(shownLeft.Values.Order(), RlhfSharp.Training.Data.PreferenceDataset.Load(_stores[0].PreferencePath).Select(p => p.Chosen.Content).Order());
    }

    [Fact]
    public void OverlappingPairsGoToTheConfiguredNumberOfLabellersAndTheRestToOne()
    {
        var items = TestPairs.Arithmetic(10);
        var session = Session(items, new LabellingOptions { Overlap = 0.3, OverlapLabellers = 2 });
        var overlap = LabellingSession.OverlapIndices(items, 0.3, 1);
        Assert.Equal(3, overlap.Count);
        Assert.Equal(overlap, LabellingSession.OverlapIndices([.. items.AsEnumerable().Reverse()], 0.3, 1).Select(i => 9 - i).Order());

        while (session.Next("ana").State == NextState.Item)
            Label(session, "ana");
        Assert.Equal(10, session.ProgressOf("ana").Yours);
        var bo = new List<string>();
        while (session.Next("bo").View is { } view)
        {
            bo.Add(view.Item.Id);
            session.Submit(new Submission("bo", view.Item.Id, view.Left, HumanChoice.Right));
        }
        Assert.Equal(overlap.Select(i => items[i].Id), bo);
        var p = session.ProgressOf("bo");
        Assert.Equal((10, 10, 13, 13, 3), (p.ItemsDone, p.Items, p.Labels, p.LabelsNeeded, p.Yours));
        Assert.Equal(NextState.Done, session.Next("cy").State);
    }

    [Fact]
    public void UndoShowsTheSamePairAgainOnTheSameSides()
    {
        var items = TestPairs.Arithmetic(3);
        var session = Session(items);
        var first = session.Next("ana").View!;
        session.Submit(new Submission("ana", first.Item.Id, first.Left, HumanChoice.Right));
        Assert.Equal(items[1].Id, session.Next("ana").View!.Item.Id);

        var undo = session.Undo("ana")!;
        Assert.Equal((first.Item.Id, first.Left, HumanChoice.Right), (undo.View!.Item.Id, undo.View.Left, undo.Undone.Choice));
        Assert.Equal(0, undo.Progress.Yours);
        Assert.Equal(first.Item.Id, session.Next("ana").View!.Item.Id);
        Assert.Null(Session(items, file: "other.jsonl").Undo("nobody"));
    }

    [Fact]
    public void ASkipCountsAsTheLabellersLabelAndARepeatIsRecognised()
    {
        var items = TestPairs.Arithmetic(2);
        var session = Session(items);
        var view = session.Next("ana").View!;
        Assert.Equal(SubmitOutcome.Saved, session.Submit(new Submission("ana", view.Item.Id, view.Left, HumanChoice.Skip)).Outcome);
        Assert.Equal(SubmitOutcome.AlreadyLabelled, session.Submit(new Submission("ana", view.Item.Id, view.Left, HumanChoice.Left)).Outcome);
        Assert.Equal(SubmitOutcome.UnknownItem, session.Submit(new Submission("ana", "0123456789abcdef", Side.A, HumanChoice.Left)).Outcome);
        Assert.Equal(items[1].Id, session.Next("ana").View!.Item.Id);
        Assert.Equal(1, session.ProgressOf("ana").ItemsDone);
    }

    [Fact]
    public void ARestartedSessionContinuesAfterTheSavedLabels()
    {
        var items = TestPairs.Arithmetic(5);
        var session = Session(items);
        Label(session, "ana");
        Label(session, "ana");
        Label(session, "bo");
        _stores.ForEach(s => s.Dispose());
        _stores.Clear();

        var restarted = Session(items);
        Assert.Equal(items[3].Id, restarted.Next("ana").View!.Item.Id);
        Assert.Equal(3, restarted.ProgressOf("ana").ItemsDone);
        Assert.Equal(2, restarted.ProgressOf("ana").Yours);
        // Labels of pairs no longer in the list are counted, not lost.
        _stores.ForEach(s => s.Dispose());
        _stores.Clear();
        Assert.Equal(3, Session([.. TestPairs.Arithmetic(7).Skip(5)]).OtherLabels);
    }

    [Fact]
    public void PaceIsLabelsPerMinuteOverTheLabellersRecentLabels()
    {
        var session = Session(TestPairs.Arithmetic(30), new LabellingOptions { PaceWindow = 2 });
        Assert.Null(session.ProgressOf("ana").PacePerMinute);
        Label(session, "ana", seconds: 10);
        Label(session, "ana", seconds: 2);
        Label(session, "ana", seconds: 4);
        var p = session.ProgressOf("ana");
        Assert.Equal(3.0, p.SecondsPerLabel); // the last two: (2 + 4) / 2
        Assert.Equal(20.0, p.PacePerMinute);
    }

    [Fact]
    public void OnlyTheListedLabellersAreAllowedWhenAListIsGiven()
    {
        var session = Session(TestPairs.Arithmetic(1), new LabellingOptions { Labellers = ["ana"] });
        Assert.True(session.IsAllowed("ana"));
        Assert.False(session.IsAllowed("bo"));
        Assert.True(Session(TestPairs.Arithmetic(1), file: "other.jsonl").IsAllowed("anyone"));
    }
}
