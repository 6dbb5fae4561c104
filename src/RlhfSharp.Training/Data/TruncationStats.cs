namespace RlhfSharp.Training.Data;

/// <summary>Running counts of what a collator truncated (a preference pair counts once). Safe to read while another thread collates.</summary>
public sealed class TruncationStats
{
    private long _examples, _truncated, _promptTruncated, _responseTruncated;

    /// <summary>Examples (or pairs) collated.</summary>
    public long Examples => Interlocked.Read(ref _examples);

    /// <summary>Examples with anything cut.</summary>
    public long TruncatedExamples => Interlocked.Read(ref _truncated);

    /// <summary>Examples whose prompt was cut (from the left).</summary>
    public long PromptTruncated => Interlocked.Read(ref _promptTruncated);

    /// <summary>Examples whose response was cut (from the right); for pairs, either response.</summary>
    public long ResponseTruncated => Interlocked.Read(ref _responseTruncated);

    internal void Add(bool promptCut, bool responseCut)
    {
        Interlocked.Increment(ref _examples);
        if (promptCut) Interlocked.Increment(ref _promptTruncated);
        if (responseCut) Interlocked.Increment(ref _responseTruncated);
        if (promptCut || responseCut) Interlocked.Increment(ref _truncated);
    }

    /// <summary>Sets every count back to zero.</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _examples, 0);
        Interlocked.Exchange(ref _truncated, 0);
        Interlocked.Exchange(ref _promptTruncated, 0);
        Interlocked.Exchange(ref _responseTruncated, 0);
    }

    public override string ToString()
        => $"{TruncatedExamples} of {Examples} examples truncated (prompt {PromptTruncated}, response {ResponseTruncated})";
}
