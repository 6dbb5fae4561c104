
namespace RlhfSharp.Cli.Reporting;

/// <summary>
/// A run folder the report cannot be made from: a missing folder, or a file line that is not what
/// the trainers write. The message names the file (and line, and key when there is one), what was
/// wrong and what was expected.
/// </summary>
public sealed class ReportInputException(string message) : Exception(message), IUserError;
