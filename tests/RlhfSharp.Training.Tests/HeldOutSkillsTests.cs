using System.Text;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Evaluation;

namespace RlhfSharp.Training.Tests;

/// <summary>Where the held-out prompts' skills come from, and the skill fields that are refused.</summary>
public sealed class HeldOutSkillsTests
{
    private static List<PromptExample> Prompts(params string[] lines) =>
        [.. PromptDataset.Load(new MemoryStream(Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n")), "prompts_eval.jsonl")];

    [Fact]
    public void TheBuiltInTaskReadsEachPromptsSkillFromItsText()
    {
        var prompts = Prompts("""{"prompt": "What is 7 + 5?"}""", """{"prompt": "Sort these numbers: 5 2 9."}""", """{"prompt": "Is 8 even?"}""");
        Assert.Equal(["arithmetic", "sorting", "parity"], HeldOutSkills.Of(prompts, builtinTask: true));
        // The same prompts in a user's data (no gold scorer) name no skill: no per-skill results.
        Assert.Null(HeldOutSkills.Of(prompts, builtinTask: false));
    }

    [Fact]
    public void ASkillFieldNamesTheSkill()
    {
        var prompts = Prompts("""{"prompt": "Summarise this.", "skill": "summary"}""", """{"messages": [{"role": "user", "content": "Hi"}], "skill": " chat "}""");
        Assert.Equal(["summary", "chat"], HeldOutSkills.Of(prompts, builtinTask: false));
        // The field wins over the task's own reading of the text.
        Assert.Equal(["sums"], HeldOutSkills.Of(Prompts("""{"prompt": "What is 7 + 5?", "skill": "sums"}"""), builtinTask: true));
    }

    [Theory]
    [InlineData("5", "is a number (5)")]
    [InlineData("\"\"", "is a string (\"\")")]
    [InlineData("null", "is null")]
    [InlineData("[\"a\"]", "is an array ([\"a\"])")]
    public void ASkillThatIsNotANonEmptyStringIsRefusedNamingTheLine(string value, string found)
    {
        var prompts = Prompts("""{"prompt": "A", "skill": "x"}""", $$"""{"prompt": "B", "skill": {{value}}}""");
        var e = Assert.Throws<DataFormatException>(() => HeldOutSkills.Of(prompts, builtinTask: false));
        Assert.IsAssignableFrom<IUserError>(e);
        Assert.Equal(DataErrorKind.WrongType, e.Kind);
        Assert.Equal(2, e.Line);
        Assert.StartsWith($"prompts_eval.jsonl: line 2: field \"skill\": {found}; a skill is a non-empty string", e.Message);
    }

    [Fact]
    public void SomePromptsWithASkillAndOthersWithoutAreRefused()
    {
        var prompts = Prompts("""{"prompt": "A", "skill": "x"}""", """{"prompt": "B", "skill": "y"}""", """{"prompt": "C"}""");
        var e = Assert.Throws<DataFormatException>(() => HeldOutSkills.Of(prompts, builtinTask: false));
        Assert.Equal(DataErrorKind.MissingField, e.Kind);
        Assert.Equal("prompts_eval.jsonl: line 3: field \"skill\": is missing while line 1 has one (\"x\"); give every held-out prompt a \"skill\" string, or none for no per-skill results.", e.Message);
    }
}
