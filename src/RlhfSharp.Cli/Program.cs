using RlhfSharp.Cli;
using RlhfSharp.Tensors.Distributed;

// Under mpirun every rank runs the same command; see RlhfCli.RunRank.
var world = World.Initialize();
return world.Size == 1 ? RlhfCli.Run(args) : RlhfCli.RunRank(args, world);
