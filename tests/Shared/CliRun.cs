using RlhfSharp.Cli;

namespace RlhfSharp.TestSupport;

/// <summary>The <c>rlhf</c> command line run inside the test process, with what it printed captured.</summary>
public static class CliRun
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = RlhfCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
