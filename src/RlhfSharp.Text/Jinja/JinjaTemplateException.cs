namespace RlhfSharp.Text.Jinja;

/// <summary>What kind of failure a <see cref="JinjaTemplateException"/> reports, after jinja2's exception classes.</summary>
public enum JinjaErrorKind
{
    /// <summary>The template text is malformed (jinja2's TemplateSyntaxError, TemplateAssertionError).</summary>
    Syntax,

    /// <summary>An undefined value was used where a value is needed (UndefinedError).</summary>
    Undefined,

    /// <summary>The sandbox refused an operation (SecurityError): underscore attributes, mutating a list or dict.</summary>
    Security,

    /// <summary>An operation got values of the wrong type or value (Python's TypeError, ValueError...).</summary>
    Type,

    /// <summary>The template called <c>raise_exception(message)</c>.</summary>
    Raised,

    /// <summary>The rendered conversation cannot be split into turns (assistant spans).</summary>
    Turns,
}

/// <summary>
/// A chat template is malformed or failed while rendering. The message names the template, the
/// line, what was wrong and, for syntax errors, what was expected.
/// </summary>
public sealed class JinjaTemplateException : Exception, IUserError
{
    public JinjaTemplateException(string templateName, int line, JinjaErrorKind kind, string problem, Exception? inner = null)
        : base($"{templateName}: line {line}: {Describe(kind)}{problem}", inner)
    {
        TemplateName = templateName;
        Line = line;
        Kind = kind;
        Problem = problem;
    }

    /// <summary>The template's name (its file, or the config key it came from).</summary>
    public string TemplateName { get; }

    /// <summary>The 1-based line of the template the failure belongs to.</summary>
    public int Line { get; }

    public JinjaErrorKind Kind { get; }

    /// <summary>The problem alone, as jinja2 words it where it can.</summary>
    public string Problem { get; }

    private static string Describe(JinjaErrorKind kind) => kind switch
    {
        JinjaErrorKind.Syntax => "template syntax error: ",
        JinjaErrorKind.Raised => "the template raised an error: ",
        JinjaErrorKind.Undefined => "undefined value: ",
        JinjaErrorKind.Security => "not allowed in the sandbox: ",
        JinjaErrorKind.Turns => "cannot mark the assistant turns: ",
        _ => "",
    };
}

/// <summary>A failure inside a value operation; the renderer adds the template name and line.</summary>
internal sealed class PyException(JinjaErrorKind kind, string message) : Exception(message)
{
    public JinjaErrorKind Kind { get; } = kind;

    public static PyException Type(string message) => new(JinjaErrorKind.Type, message);
}
