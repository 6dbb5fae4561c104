namespace RlhfSharp.Training.Foundation;

/// <summary>A run that cannot start as configured (existing run folder, missing files…).</summary>
public sealed class TrainingSetupException(string message) : Exception(message), IUserError;
