namespace RlhfSharp.Text;

/// <summary>
/// A tokenizer file (tokenizer.json, tokenizer_config.json, encoder.json, vocab.bpe) is missing,
/// malformed or uses a feature this library does not support. The message names the file, the
/// JSON path or line, what was found and what would be accepted.
/// </summary>
public sealed class TokenizerFormatException : Exception, IUserError
{
    public TokenizerFormatException(string file, string location, string problem, Exception? inner = null)
        : base($"{file}: {location}: {problem}", inner)
    {
        File = file;
        Location = location;
        Problem = problem;
    }

    /// <summary>The file (or source name) that was being read.</summary>
    public string File { get; }

    /// <summary>The JSON path (e.g. <c>model.merges[3]</c>) or line (e.g. <c>line 12</c>).</summary>
    public string Location { get; }

    /// <summary>What was wrong and what would be right.</summary>
    public string Problem { get; }
}
