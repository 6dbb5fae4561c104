
namespace RlhfSharp.Serving;

/// <summary>The server could not start for a reason the user can fix (a port in use, a bad address).</summary>
public sealed class ServeException(string message, Exception? inner = null) : Exception(message, inner), IUserError;
