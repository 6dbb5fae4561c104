if (args.Length > 0 && args[0] == "ops")
    return RlhfSharp.Bench.OpsBench.Run(args[1..]);
Console.WriteLine("{}");
return 0;
