namespace RlhfSharp.Text.Chat;

/// <summary>A range of characters (UTF-16 code units) in a string.</summary>
public readonly record struct TextSpan(int Start, int Length)
{
    public int End => Start + Length;

    /// <summary>The spanned text of <paramref name="text"/>.</summary>
    public string Of(string text) => text.Substring(Start, Length);
}
