namespace RlhfSharp.Serving;

/// <summary>What a request's row of a batch reports to, and listens to, while it is generated.</summary>
/// <param name="OnText">Called on the worker thread with each new piece of the answer's text (streaming); null: not streamed.</param>
/// <param name="Aborted">Fires when the client went away: the row stops, and a batch whose rows have all stopped ends.</param>
internal sealed record RowWatcher(Action<string>? OnText, CancellationToken Aborted);
