using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using RlhfSharp.Cli.Verbs;
using RlhfSharp.Tensors.Distributed;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Cli;

/// <summary>
/// The <c>rlhf</c> root command: the verbs found by <see cref="VerbRegistry"/>, <c>--help</c> and
/// <c>--version</c>. <see cref="Run"/> maps outcomes to <see cref="ExitCodes"/>: parse errors and
/// <see cref="IUserError"/> exceptions print their message alone on standard error and return 2
/// (a diverged training run, 3); any other exception prints in full and returns 1.
/// </summary>
public static class RlhfCli
{
    /// <summary>The root command with the product verbs and then <paramref name="extraVerbs"/>.</summary>
    public static RootCommand CreateRootCommand(IEnumerable<IVerb>? extraVerbs = null)
    {
        var root = new RootCommand(
            "rlhf: post-train decoder-only language models (SFT, reward models, PPO, GRPO and RLOO, DPO, AI and human labelling) in .NET.");
        foreach (IVerb verb in VerbRegistry.Product().Concat(extraVerbs ?? []))
        {
            root.Add(verb.CreateCommand());
        }
        root.SetAction(parseResult =>
        {
            new HelpAction().Invoke(parseResult); // `rlhf` alone shows help
            return ExitCodes.Success;
        });
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter? output = null, TextWriter? error = null,
        IEnumerable<IVerb>? extraVerbs = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var invocation = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            EnableDefaultExceptionHandler = false,
        };
        try
        {
            ParseResult parseResult = CreateRootCommand(extraVerbs).Parse(args);
            if (parseResult.Action is ParseErrorAction)
            {
                ReportParseErrors(parseResult, error);
                return ExitCodes.UsageError;
            }
            return parseResult.Invoke(invocation);
        }
        catch (TrainingDivergedException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.Diverged;
        }
        catch (Exception e) when (IsUserError(e))
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.UsageError;
        }
        catch (Exception e)
        {
            error.WriteLine($"error: unexpected failure: {e}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>
    /// Runs <paramref name="args"/> as one rank of a data-parallel run: only rank 0 writes to the
    /// console; errors from any rank are printed with its rank. A rank that fails stops every
    /// rank at once (rather than leaving the others waiting in a collective) with its exit code.
    /// </summary>
    public static int RunRank(IReadOnlyList<string> args, Communicator world)
    {
        var output = world.IsMain ? Console.Out : TextWriter.Null;
        var error = new RankPrefixWriter(Console.Error, $"[rank {world.Rank}] ");
        int code;
        if (args.Count > 0 && !args[0].StartsWith('-') && !DataParallelVerbs.Contains(args[0]))
        {
            // Every rank would do the same work and write the same files.
            error.WriteLine($"error: 'rlhf {args[0]}' runs in one process; start it without mpirun. On {world.Size} ranks run one of: {string.Join(", ", DataParallelVerbs)}");
            code = ExitCodes.UsageError;
        }
        else
        {
            code = Run(args, output, error);
        }
        error.Flush();
        if (code != ExitCodes.Success)
            world.Abort(code);
        World.Shutdown();
        return code;
    }

    /// <summary>The verbs that run on several ranks (data-parallel training, and the check of the ranks).</summary>
    public static readonly IReadOnlyList<string> DataParallelVerbs = ["sft", "rm", "dpo", "ppo", "grpo", "online-dpo", "pipeline", "dist-check"];

    // Bad files and settings a user can fix: the message says what and where, a stack trace would not help.
    private static bool IsUserError(Exception e) => e is IUserError
        or FileNotFoundException
        or DirectoryNotFoundException
        or InvalidDataException;

    private static void ReportParseErrors(ParseResult parseResult, TextWriter error)
    {
        foreach (ParseError parseError in parseResult.Errors)
        {
            error.WriteLine($"error: {parseError.Message}");
        }
        Command command = parseResult.CommandResult.Command;
        string[] known = [.. command.Options.SelectMany(o => o.Aliases.Prepend(o.Name))
            .Concat(command.Subcommands.Select(c => c.Name))];
        foreach (string token in parseResult.UnmatchedTokens)
        {
            string? suggestion = KeySuggestions.Closest(token, known);
            if (suggestion is not null)
            {
                error.WriteLine($"Did you mean '{suggestion}'?");
            }
        }
        string verb = command is RootCommand ? "rlhf" : $"rlhf {command.Name}";
        error.WriteLine($"Run '{verb} --help' for usage.");
    }
}
