namespace RlhfSharp.Training.Rewards;

/// <summary>
/// A remote reward server that could not be reached, refused a request, or answered something
/// that is not one finite reward per query. The message names the server's URL and what went wrong.
/// </summary>
public sealed class RemoteRewardException(string message, Exception? inner = null) : Exception(message, inner), IUserError;
