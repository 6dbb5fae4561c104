namespace RlhfSharp.Training;

/// <summary>
/// Marks an exception a user can cause and fix (a bad file, config or flag). Its message names
/// what was wrong and what would be right, so the command line prints the message alone, without
/// a stack trace, and exits with the usage-error code.
/// </summary>
public interface IUserError
{
}
