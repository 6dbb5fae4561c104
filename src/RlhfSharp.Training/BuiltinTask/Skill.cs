namespace RlhfSharp.Training.BuiltinTask;

/// <summary>The question families of the built-in task; each prompt asks one of them.</summary>
public enum Skill
{
    /// <summary>"What is 7 + 5?": addition and subtraction of 0–10 (differences never negative), multiplication of 0–5.</summary>
    Arithmetic,

    /// <summary>"Reverse the word cat.": answer "tac".</summary>
    Reversal,

    /// <summary>"Which is larger, 14 or 9?": two different numbers 0–30, larger or smaller asked.</summary>
    Comparison,

    /// <summary>"How many letters are in the word apple?" or "How many times does the letter a appear in banana?".</summary>
    Counting,

    /// <summary>"Sort these numbers: 5 2 9.": three different numbers 0–9, ascending or descending.</summary>
    Sorting,

    /// <summary>"Is 8 even?": a number 0–99, even or odd asked; answer "yes" or "no".</summary>
    Parity,
}
