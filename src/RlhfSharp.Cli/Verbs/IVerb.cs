using System.CommandLine;

namespace RlhfSharp.Cli.Verbs;

/// <summary>
/// A verb of the <c>rlhf</c> command (<c>rlhf sft</c>, <c>rlhf ppo</c>...). Each verb lives in
/// its own file under <c>Commands/</c>; every non-abstract class in this assembly that implements
/// <see cref="IVerb"/> and has a public parameterless constructor is found by
/// <see cref="VerbRegistry"/> and added to the root command, so adding a verb means adding a file.
/// Most verbs derive from <see cref="ConfigVerb{TConfig}"/>.
/// </summary>
public interface IVerb
{
    /// <summary>Builds the verb's command, with its options and action.</summary>
    Command CreateCommand();
}
