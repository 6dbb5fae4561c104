namespace RlhfSharp.Cli.Generating;

/// <summary>
/// Input a user gave a command cannot be used: a flag combination, a file or a line of it. The
/// message names the flag or the file, line and column, what was wrong and what would be right.
/// </summary>
public sealed class InputException(string message, Exception? inner = null) : Exception(message, inner), IUserError;
