using System.Text.RegularExpressions;

namespace RlhfSharp.Training.Judges.Human;

/// <summary>What a labeller may call themselves.</summary>
public static partial class LabellerNames
{
    public const string Rule = "a name is 1 to 64 letters, digits, spaces or . _ - @, not starting or ending with a space";

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    [GeneratedRegex(@"^[\p{L}\p{N}._@-](?:[\p{L}\p{N} ._@-]{0,62}[\p{L}\p{N}._@-])?$")]
    private static partial Regex Pattern();
}
