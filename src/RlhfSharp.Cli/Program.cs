using RlhfSharp.Cli;

return RlhfCli.Run(args);
