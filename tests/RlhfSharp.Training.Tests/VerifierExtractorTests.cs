using RlhfSharp.Training.Rewards.Verifiers;

namespace RlhfSharp.Training.Tests;

/// <summary>Reading an answer out of a response, and comparing it with a reference, worked by hand.</summary>
public class VerifierExtractorTests
{
    [Theory]
    [InlineData("The answer is 12.", "12")]
    [InlineData("7 + 5 = 12", "12")]
    [InlineData("It is -3 degrees", "-3")]
    [InlineData("x = -2.5, so", "-2.5")]
    [InlineData("7-5 is 2", "2")]
    [InlineData("10-3", "3")] // a minus between digits is subtraction, not a sign
    [InlineData("(4)-1", "1")]
    [InlineData("pi is 3.14.", "3.14")] // the sentence's full stop is not a decimal point
    [InlineData("first 4 then +7", "+7")]
    [InlineData("007", "007")]
    public void LastNumberReadsTheLastIntegerOrDecimal(string response, string expected)
        => Assert.Equal(expected, AnswerExtractor.LastNumber(response));

    [Theory]
    [InlineData("no digits here")]
    [InlineData("")]
    [InlineData("- . -")]
    public void LastNumberIsNullWithoutANumber(string response) => Assert.Null(AnswerExtractor.LastNumber(response));

    [Theory]
    [InlineData(@"so \boxed{12}", "12")]
    [InlineData(@"\boxed{1} then \boxed{2}", "2")]
    [InlineData(@"\boxed{\frac{1}{2}} done", @"\frac{1}{2}")]
    [InlineData(@"\boxed{{a}{b{c}}}", "{a}{b{c}}")]
    [InlineData(@"\boxed{ 7 }", "7")]
    [InlineData(@"\boxed{5} and \boxed{6", "5")] // the last one never closes; the complete one before it counts
    public void BoxedReadsTheLastBoxWithNestedBraces(string response, string expected)
        => Assert.Equal(expected, AnswerExtractor.LastBoxed(response));

    [Theory]
    [InlineData("12")]
    [InlineData(@"\boxed{12")]
    [InlineData(@"\boxed 12")]
    public void BoxedIsNullWithoutAClosedBox(string response) => Assert.Null(AnswerExtractor.LastBoxed(response));

    [Fact]
    public void RegexTakesTheFirstMatchsFirstGroup()
    {
        var e = AnswerExtractor.Create("regex", @"answer:\s*(\w+)");
        Assert.Equal("tac", e.Extract("answer: tac, not answer: cat"));
        Assert.Null(e.Extract("no marker"));
        // an optional group that took no part holds no answer
        Assert.Null(AnswerExtractor.Create("regex", "x(y)?").Extract("x"));
    }

    [Fact]
    public void TextIsTheWholeTrimmedResponse() => Assert.Equal("1 3 5", AnswerExtractor.Create("text").Extract("  1 3 5\n"));

    [Theory]
    [InlineData("regex", "answer: \\w+", "no capture group")]
    [InlineData("regex", "(unclosed", "not a valid regular expression")]
    [InlineData("regex", "", "needs a pattern")]
    [InlineData("first_number", null, "unknown extractor 'first_number'; valid: last_number, boxed, regex, text")]
    public void BadExtractorSettingsAreRefused(string name, string? pattern, string message)
        => Assert.Contains(message, Assert.Throws<ArgumentException>(() => AnswerExtractor.Create(name, pattern)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("15", "15", 0, true)]
    [InlineData("15.0", "15", 0, true)]
    [InlineData("+15", "15", 0, true)]
    [InlineData("-3", "3", 0, false)]
    [InlineData("10.5", "10", 0.5, true)] // |10.5 - 10| = 0.5 <= 0.5: the edge counts
    [InlineData("10.51", "10", 0.5, false)]
    [InlineData("9.5", "10", 0.5, true)]
    [InlineData("2.5", "2.4", 0, false)]
    [InlineData("007", "7", 0, true)]
    public void NumbersCompareWithinTheTolerance(string answer, string reference, double tolerance, bool equal)
        => Assert.Equal(equal, new AnswerComparer(tolerance, normalizeText: true).Equal(answer, reference));

    [Theory]
    [InlineData("TAC", "tac", true, true)]
    [InlineData("1  3\t5", "1 3 5", true, true)]
    [InlineData("yes.", "yes", true, true)]
    [InlineData("TAC", "tac", false, false)]
    [InlineData("tac", "tac", false, true)]
    [InlineData("cat", "tac", true, false)]
    [InlineData("12a", "12", true, false)]
    public void TextComparesAfterNormalisationWhenOn(string answer, string reference, bool normalize, bool equal)
        => Assert.Equal(equal, new AnswerComparer(0, normalize).Equal(answer, reference));

    [Fact]
    public void ANegativeToleranceIsRefused() => Assert.Throws<ArgumentOutOfRangeException>(() => new AnswerComparer(-0.1, true));
}
