using RlhfSharp.Tensors;
using RlhfSharp.Training.BuiltinTask;

namespace RlhfSharp.Training.Tests;

public class BuiltinTaskPromptTests
{
    [Fact]
    public void EveryTemplateParsesBackToItsProblem()
    {
        for (int t = 0; t < TaskPrompts.TemplatesPerSkill; t++)
        {
            Check(TaskPrompts.Arithmetic(t, 7, '+', 5), Skill.Arithmetic, "add:5:7", "12");
            Check(TaskPrompts.Arithmetic(t, 9, '-', 4), Skill.Arithmetic, "sub:9:4", "5");
            Check(TaskPrompts.Arithmetic(t, 6, '*', 7), Skill.Arithmetic, "mul:6:7", "42");
            Check(TaskPrompts.Reversal(t, "apple"), Skill.Reversal, "rev:apple", "elppa");
            Check(TaskPrompts.Comparison(t, 14, 9), Skill.Comparison, "cmp:9:14", t < 2 ? "14" : "9");
            Check(TaskPrompts.Counting(t, "banana", 'a'), Skill.Counting, t < 2 ? "len:banana" : "cnt:a:banana", t < 2 ? "6" : "3");
            Check(TaskPrompts.Sorting(t, [5, 2, 9, 12]), Skill.Sorting, "sort:2,5,9,12", t < 3 ? "2 5 9 12" : "12 9 5 2");
            Check(TaskPrompts.Parity(t, 8), Skill.Parity, "par:8", t % 2 == 0 ? "yes" : "no");
        }
    }

    private static void Check(string prompt, Skill skill, string key, string answer)
    {
        Assert.True(TaskPrompts.TryParse(prompt, out var p), prompt);
        Assert.Equal(skill, p.Skill);
        Assert.Equal(key, p.Key);
        Assert.Equal(answer, p.Answer);
    }

    [Theory]
    [InlineData("  what is 7 PLUS 5?  ", "12")] // trimmed, case-insensitive
    [InlineData("REVERSE THE WORD Cat.", "tac")]
    [InlineData("Reverse the word zyx.", "xyz")] // any word, not only the list's
    [InlineData("What is 123 * 456?", "56088")] // any operands
    [InlineData("Sort these numbers: 3 3 1.", "1 3 3")]
    public void ParsingNeedsNoTable(string prompt, string answer) => Assert.Equal(answer, TaskPrompts.Parse(prompt).Answer);

    [Theory]
    [InlineData("")]
    [InlineData("Tell me a joke.")]
    [InlineData("What is 7 / 5?")]
    [InlineData("Reverse the word cat")]
    [InlineData("Sort these numbers: 5.")]
    public void OtherTextIsNotATaskPrompt(string prompt) => Assert.False(TaskPrompts.TryParse(prompt, out _));

    [Fact]
    public void CommutingOperandsShareAKey()
    {
        Assert.Equal(TaskPrompts.Parse("What is 7 + 5?").Key, TaskPrompts.Parse("Calculate 5 plus 7.").Key);
        Assert.Equal(TaskPrompts.Parse("What is 3 * 4?").Key, TaskPrompts.Parse("Compute 4 times 3.").Key);
        Assert.NotEqual(TaskPrompts.Parse("What is 7 - 5?").Key, TaskPrompts.Parse("What is 5 - 7?").Key);
        Assert.Equal(TaskPrompts.Parse("Is 8 even?").Key, TaskPrompts.Parse("Is the number 8 odd?").Key);
        Assert.Equal(TaskPrompts.Parse("Sort these numbers: 5 2 9.").Key, TaskPrompts.Parse("Sort from largest to smallest: 9 2 5.").Key);
    }

    [Fact]
    public void WordListIsSafeForTheAnswerRules()
    {
        var words = WordList.Words;
        Assert.Equal(words.Count, words.Distinct().Count());
        var phraseWords = ResponsePhrases.All.SelectMany(p => p.ToLowerInvariant().Split([' ', ',', '.', '!', '?'], StringSplitOptions.RemoveEmptyEntries)).ToHashSet();
        foreach (var w in words)
        {
            Assert.Matches("^[a-z]{3,6}$", w);
            string r = TaskPrompts.Reverse(w);
            Assert.NotEqual(w, r); // no palindromes
            Assert.DoesNotContain(r, words); // no word reverses into another
            Assert.DoesNotContain(ResponsePhrases.BannedWords, b => r.StartsWith(b, StringComparison.Ordinal) || w.StartsWith(b, StringComparison.Ordinal));
            Assert.DoesNotContain(phraseWords, p => p.Length == w.Length && p.Order().SequenceEqual(w.Order())); // no phrase word is an anagram
        }
    }

    [Fact]
    public void PhrasesHoldNoAnswerMaterial()
    {
        foreach (var p in ResponsePhrases.All)
        {
            Assert.DoesNotMatch("[0-9]", p);
            Assert.DoesNotMatch(@"(?i)\b(yes|no)\b", p);
        }
    }

    [Fact]
    public void EachStyleIsCorrectOrWrongAsIntended()
    {
        var rng = new Generator(7);
        foreach (var skill in Enum.GetValues<Skill>())
            for (int i = 0; i < 200; i++)
            {
                var problem = TaskPrompts.Parse(PromptSampler.Sample(skill, rng));
                foreach (var style in Enum.GetValues<ResponseStyle>())
                {
                    string response = ResponseWriter.Write(problem, style, rng);
                    var score = GoldScorer.Default.Explain(problem, response);
                    Assert.True(score.IsCorrect == (style != ResponseStyle.Wrong), $"{style} \"{response}\" to {problem.Key}");
                    if (style != ResponseStyle.Wrong) Assert.Equal(style == ResponseStyle.Rude, score.BannedWords > 0);
                    if (style == ResponseStyle.Ideal) Assert.Equal(1.0, score.Total);
                    if (style == ResponseStyle.Verbose) Assert.InRange(score.Total, 0.5, 0.75);
                }
            }
    }

    [Fact]
    public void WrongAnswersComeInEveryFormInTheStatedProportions()
    {
        // A wrong answer is written as an ideal, verbose or rude response in proportion 40 : 20 : 25
        // (the default fractions), so neither length nor tone tells right from wrong.
        var rng = new Generator(11);
        int n = 0, rude = 0, verbose = 0;
        foreach (var skill in Enum.GetValues<Skill>())
            for (int i = 0; i < 500; i++)
            {
                var problem = TaskPrompts.Parse(PromptSampler.Sample(skill, rng));
                var score = GoldScorer.Default.Explain(problem, ResponseWriter.Write(problem, ResponseStyle.Wrong, rng));
                Assert.False(score.IsCorrect);
                n++;
                if (score.BannedWords > 0) rude++;
                else if (score.Concision < 0) verbose++;
            }
        Assert.InRange(rude / (double)n, 25.0 / 85 - 0.03, 25.0 / 85 + 0.03);
        Assert.InRange(verbose / (double)n, 20.0 / 85 - 0.03, 20.0 / 85 + 0.03);

        // With the verbose and rude shares at 0, every wrong answer is a concise, polite sentence.
        var problem2 = TaskPrompts.Parse(PromptSampler.Sample(Skill.Arithmetic, rng));
        for (int i = 0; i < 50; i++)
        {
            var score = GoldScorer.Default.Explain(problem2, ResponseWriter.Write(problem2, ResponseStyle.Wrong, rng, [0.85, 0, 0, 0.15]));
            Assert.Equal(-1.0, score.Total);
        }
    }

    [Fact]
    public void SampledPromptsAreShort()
    {
        var rng = new Generator(3);
        foreach (var skill in Enum.GetValues<Skill>())
            for (int i = 0; i < 200; i++)
                Assert.InRange(PromptSampler.Sample(skill, rng).Split(' ').Length, 3, 12);
    }
}
