namespace RlhfSharp.Training.Judges;

/// <summary>Why an <see cref="HttpJudge"/> got no usable answer.</summary>
public enum JudgeHttpErrorKind
{
    /// <summary>No connection (refused, unknown host, dropped before an answer).</summary>
    ServerUnreachable,

    /// <summary>No complete answer within the timeout.</summary>
    Timeout,

    /// <summary>An HTTP status other than 200.</summary>
    HttpStatus,

    /// <summary>A 200 whose body is not an OpenAI chat completion.</summary>
    MalformedResponse,
}

/// <summary>
/// The HTTP judge failed, after its bounded retries where the failure was transient. The message
/// names the URL, the attempts made and what was expected; it never holds the API key.
/// </summary>
public sealed class JudgeHttpException : Exception, IUserError
{
    public JudgeHttpException(JudgeHttpErrorKind kind, string url, int attempts, string message, int? statusCode = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        Url = url;
        Attempts = attempts;
        StatusCode = statusCode;
    }

    public JudgeHttpErrorKind Kind { get; }

    /// <summary>The endpoint asked.</summary>
    public string Url { get; }

    /// <summary>Requests sent for the failing call, the first one included.</summary>
    public int Attempts { get; }

    /// <summary>The last HTTP status, when there was one.</summary>
    public int? StatusCode { get; }
}
