using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Training.Tests;

/// <summary>Gold scores worked out by hand: gold = ±1 + max(−1, −0.5·banned) + max(−0.5, −0.05·max(0, words − (3 + answer words))).</summary>
public class BuiltinTaskGoldScorerTests
{
    private static readonly GoldScorer Gold = GoldScorer.Default;

    [Theory]
    // arithmetic: ideal length is 4 words ("The answer is 12.")
    [InlineData("What is 7 + 5?", "12.", 1.0)]
    [InlineData("What is 7 + 5?", "The answer is 12.", 1.0)]
    [InlineData("What is 7 + 5?", "13.", -1.0)]
    [InlineData("What is 7 + 5?", "7 + 5 = 12.", 0.95)] // 5 words: 1 extra; prompt numbers may be echoed
    [InlineData("What is 7 plus 5?", "12", 1.0)]
    [InlineData("Compute 9 - 4.", "5.", 1.0)]
    [InlineData("Calculate 6 times 7.", "The answer is 42.", 1.0)]
    [InlineData("What is 0 * 3?", "0.", 1.0)]
    [InlineData("What is 7 + 5?", "012.", 1.0)] // leading zeros ignored
    // comparison
    [InlineData("Which is larger, 14 or 9?", "14.", 1.0)]
    [InlineData("Which is larger, 14 or 9?", "9.", -1.0)]
    [InlineData("Which number is bigger: 14 or 9?", "9 or 14? 14.", 1.0)]
    [InlineData("Which is smaller, 14 or 9?", "The answer is 9.", 1.0)]
    [InlineData("Which number is less: 14 or 9?", "14", -1.0)]
    // counting
    [InlineData("How many letters are in the word apple?", "5.", 1.0)]
    [InlineData("Count the letters in apple.", "There are 5 letters in apple.", 0.9)] // 6 words: 2 extra
    [InlineData("How many times does the letter a appear in banana?", "3", 1.0)]
    [InlineData("Count the letter n in banana.", "3.", -1.0)]
    // sorting: ideal length is 3 + list length
    [InlineData("Sort these numbers: 5 2 9.", "2 5 9.", 1.0)]
    [InlineData("Put in increasing order: 5 2 9.", "The answer is 2, 5 and 9.", 0.95)] // 7 words vs 6
    [InlineData("Sort these numbers: 5 2 9.", "5 2 9.", -1.0)]
    [InlineData("Sort these numbers: 5 2 9.", "5 2 9. 2 5 9.", 1.0)] // the last list counts; 6 words
    [InlineData("Sort from largest to smallest: 5 2 9.", "9 5 2", 1.0)]
    [InlineData("Sort from smallest to largest: 5 2 9.", "9 5 2", -1.0)]
    // reversal
    [InlineData("Reverse the word cat.", "tac.", 1.0)]
    [InlineData("Spell cat backwards.", "The answer is tac.", 1.0)]
    [InlineData("Write the word cat in reverse.", "Tac.", 1.0)]
    [InlineData("What is cat spelled backwards?", "cat reversed is tac.", 1.0)]
    [InlineData("Reverse the word cat.", "cat.", -1.0)]
    [InlineData("Reverse the word cat.", "atc.", -1.0)]
    // parity
    [InlineData("Is 8 even?", "Yes.", 1.0)]
    [InlineData("Is 8 even?", "No.", -1.0)]
    [InlineData("Is 7 odd?", "The answer is yes.", 1.0)]
    [InlineData("Is the number 7 even?", "No, 7 is odd.", 1.0)]
    [InlineData("Is the number 7 odd?", "Yes!", 1.0)]
    public void SkillsScoreAsWorkedOut(string prompt, string response, double expected)
    {
        Assert.Equal(expected, Gold.Score(prompt, response), 9);
        Assert.Equal(expected > 0, Gold.Correct(prompt, response));
    }

    [Theory]
    // verbose: 9-word opener + 4-word sentence = 13 words, 9 extra
    [InlineData("Well, let me think about this for a moment. The answer is 12.", 0.55)]
    [InlineData("The answer is 12. I hope this helps you.", 0.75)] // 9 words, 5 extra
    [InlineData("Hmm, that is a very good question. The answer is 12. Let me know if you have any other questions.", 0.5)] // capped
    // rude: −0.5 per banned word, capped at −1
    [InlineData("Duh, 12.", 0.5)]
    [InlineData("Obviously, the answer is 12. Idiot.", -0.1)] // 2 banned, 6 words: 2 extra
    [InlineData("Ugh, whatever, the answer is 12. That was a stupid question.", -0.35)] // 3 banned (capped −1), 11 words: 7 extra
    [InlineData("IDIOTS! 12", 0.5)] // banned words match as prefixes, any case
    [InlineData("12, dumbest question ever.", 0.5)]
    // wrong and rude
    [InlineData("Obviously 13.", -1.5)]
    public void StyleFlawsScoreAsWorkedOut(string response, double expected)
        => Assert.Equal(expected, Gold.Score("What is 7 + 5?", response), 9);

    [Theory]
    [InlineData("", -1.0)]
    [InlineData("   \n ", -1.0)]
    [InlineData("Well, let me think about this for a moment.", -1.25)] // only filler: 9 words, 5 extra
    [InlineData("11 or 12.", -1.0)] // hedging: 11 is neither the answer nor in the prompt
    [InlineData("12 or 11.", -1.0)] // the last number is wrong
    [InlineData("1 2 3 4 5 6 7 8 9 10 11 12", -1.4)] // listing numbers is wrong; 12 words, 8 extra
    [InlineData("12 12 12 12 12 12 12 12 12 12", 0.7)] // repeating the answer only costs length: 10 words, 6 extra
    [InlineData("12. I hope this helps you.", 0.9)] // 6 words
    [InlineData("12. I hope this helps you. I hope this helps you.", 0.65)] // repeating a closer costs more
    [InlineData("12.<|im_end|>", 1.0)] // special-token markers are ignored
    [InlineData("<|im_end|>", -1.0)]
    public void DegenerateResponsesAreNotRewarded(string response, double expected)
        => Assert.Equal(expected, Gold.Score("What is 7 + 5?", response), 9);

    [Fact]
    public void HugeResponsesAreCappedAndNeverBeatTheConciseAnswer()
    {
        string padding = string.Concat(Enumerable.Repeat(" la", 5000));
        Assert.Equal(0.5, Gold.Score("What is 7 + 5?", "12." + padding), 9);
        Assert.Equal(-1.5, Gold.Score("What is 7 + 5?", padding), 9);
        string idiots = string.Concat(Enumerable.Repeat(" idiot", 100));
        Assert.Equal(-2.5, Gold.Score("What is 7 + 5?", "13." + idiots), 9); // the floor
    }

    [Theory]
    [InlineData("Reverse the word cat.", "tca tac.")] // two different anagrams: hedging
    [InlineData("Reverse the word cat.", "tac or act.")]
    [InlineData("Is 8 even?", "Yes or no.")]
    [InlineData("Sort these numbers: 5 2 9.", "2 5 9 2 5 9.")] // a longer list is not the sorted list
    [InlineData("Sort these numbers: 5 2 9.", "2 5 9 10.")] // a number not in the prompt
    [InlineData("Sort these numbers: 5 2 9.", "10. 2 5 9.")]
    [InlineData("Which is larger, 14 or 9?", "15 14")]
    public void HedgesAreWrong(string prompt, string response) => Assert.False(Gold.Correct(prompt, response));

    [Fact]
    public void ExplainGivesTheParts()
    {
        var s = Gold.Explain("What is 7 + 5?", "Obviously, the answer is 12. Idiot.");
        Assert.Equal(Skill.Arithmetic, s.Skill);
        Assert.True(s.IsCorrect);
        Assert.Equal(1.0, s.Correctness);
        Assert.Equal(-1.0, s.Politeness);
        Assert.Equal(-0.1, s.Concision, 12);
        Assert.Equal(6, s.Words);
        Assert.Equal(2, s.BannedWords);
        Assert.Equal(-0.1, s.Total, 12);
    }

    [Fact]
    public void ForeignPromptsAreRejectedWithTheirText()
    {
        var e = Assert.Throws<ArgumentException>(() => Gold.Score("Tell me a joke.", "No."));
        Assert.Contains("Tell me a joke.", e.Message);
    }

    [Fact]
    public void GoldRewardSourceScoresBatches()
    {
        IRewardSource source = new GoldRewardSource();
        Assert.Equal("gold", source.Name);
        Assert.Equal([1.0, -1.0, 0.5], source.Score(["What is 7 + 5?", "Is 8 even?", "Reverse the word cat."], ["12.", "No.", "Duh, tac."]));
        Assert.Empty(source.Score([], []));
        Assert.Throws<ArgumentException>(() => source.Score(["What is 7 + 5?"], []));
    }
}
