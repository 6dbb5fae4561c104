namespace RlhfSharp;

/// <summary>
/// Marks an exception a user can cause and fix (a bad file, config or flag). Its message names
/// what was wrong and what would be right, so the command line prints the message alone, without
/// a stack trace, and exits with the usage-error code. Every layer's user-facing exceptions
/// implement it (tokenizer files, model configs, safetensors, data, configs, servers), so the
/// command line needs no list of them.
/// </summary>
public interface IUserError
{
}
