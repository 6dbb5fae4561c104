namespace RlhfSharp.Training.Checkpointing;

/// <summary>A run cannot resume: the checkpoint asked for is damaged, or none in the run folder is whole.</summary>
public sealed class CheckpointException(string message) : Exception(message), IUserError;
