using RlhfSharp.Fuzz;
using SharpFuzz;

// rlhf-fuzz <target>                 run under afl-fuzz (scripts/fuzz.sh starts it so)
// rlhf-fuzz <target> <file>...       run each file once and say how the parser took it
// rlhf-fuzz --list                   the targets
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: RlhfSharp.Fuzz <target> [input files...] | --list");
    return 2;
}
if (args[0] == "--list")
{
    foreach (var t in Targets.All)
        Console.WriteLine($"{t.Name}\t{t.What}");
    return 0;
}
FuzzTarget target;
try
{
    target = Targets.Get(args[0]);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
using var scratch = new Scratch();
if (args.Length > 1)
{
    foreach (var file in args.Skip(1))
    {
        var outcome = Harness.Run(target, File.ReadAllBytes(file), scratch, out string? refusal);
        Console.WriteLine(refusal is null ? $"{file}: {outcome}" : $"{file}: {outcome}: {refusal}");
    }
    return 0;
}
Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    Harness.Run(target, buffer.ToArray(), scratch);
});
return 0;
