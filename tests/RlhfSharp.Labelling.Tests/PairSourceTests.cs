using System.Text.Json.Nodes;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Judges.Human;

namespace RlhfSharp.Labelling.Tests;

/// <summary>Pairs files: the forms read, pair ids, and errors that name file, line and field.</summary>
public sealed class PairSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("label-pairs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PairsAndPreferenceLinesAreReadAndRepeatsShownOnce()
    {
        var path = Path.Combine(_dir, "pairs.jsonl");
        File.WriteAllLines(path,
        [
            """{"prompt": "What is 1 + 1?", "response_a": "2", "response_b": "3"}""",
            """{"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "response_a": "Hello.", "response_b": "Hello there, how are you?"}""",
            """{"prompt": "What is 1 + 1?", "chosen": "3", "rejected": "2", "judge": "constitution"}""",
            """{"chosen": "\n\nHuman: Name a colour.\n\nAssistant: Red.", "rejected": "\n\nHuman: Name a colour.\n\nAssistant: Blue."}""",
        ]);
        var set = PairSource.Load(path);
        Assert.Equal(3, set.Items.Count);
        Assert.Equal(1, set.Duplicates); // line 3 is line 1's pair, the other way round
        Assert.Equal(["system", "user"], set.Items[1].Prompt.Select(m => m.Role));
        Assert.Equal(("Red.", "Blue."), (set.Items[2].A, set.Items[2].B));
        Assert.Equal(set.Items[0].Id, PairItem.ComputeId(set.Items[0].Prompt, "3", "2"));
        Assert.NotEqual(set.Items[0].Id, PairItem.ComputeId([], "3", "2"));

        // What Save writes, Load reads back as the same pairs.
        var copy = Path.Combine(_dir, "copy.jsonl");
        PairSource.Save(copy, set.Items);
        Assert.Equal(set.Items.Select(i => i.Id), PairSource.Load(copy).Items.Select(i => i.Id));
        Assert.Equal("What is 1 + 1?", JsonNode.Parse(File.ReadLines(copy).First())!["prompt"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"prompt": "x", "response_a": "2"}""", "response_b", DataErrorKind.MissingField)]
    [InlineData("""{"prompt": "x", "response_a": "2", "response_b": 3}""", "response_b", DataErrorKind.WrongType)]
    [InlineData("""{"prompt": "x", "response_a": " ", "response_b": "3"}""", "response_a", DataErrorKind.EmptyResponse)]
    [InlineData("""{"prompt": "x", "response_a": "3", "response_b": "3"}""", "response_b", DataErrorKind.IdenticalResponses)]
    [InlineData("""{"prompt": 5, "response_a": "2", "response_b": "3"}""", "prompt", DataErrorKind.WrongType)]
    [InlineData("""{"prompt": "x", "chosen": "2"}""", "rejected", DataErrorKind.MissingField)]
    public void BadLinesNameFileLineAndField(string line, string field, DataErrorKind kind)
    {
        var path = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllLines(path, ["""{"prompt": "ok", "response_a": "a", "response_b": "b"}""", line]);
        var e = Assert.Throws<DataFormatException>(() => PairSource.Load(path));
        Assert.Equal((2, field, kind), (e.Line, e.Field, e.Kind));
        Assert.Contains("bad.jsonl", e.Message);
    }
}
