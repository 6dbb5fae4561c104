using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RlhfSharp.Serving.Tests;

/// <summary>
/// A deliberately bad HTTP server on a loopback port, built on a bare <see cref="TcpListener"/>:
/// it reads each request and writes whatever raw bytes the test's function returns for it (null:
/// never answer, keep the connection open). One request per connection.
/// </summary>
internal sealed class FakeHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<int, string, string, string?> _answer;
    private readonly CancellationTokenSource _stop = new();
    private int _connections;
    private int _requests;

    /// <param name="answer">(request number from 1, request head, request body) -> the raw HTTP response, or null for none.</param>
    public FakeHttpServer(Func<int, string, string, string?> answer)
    {
        _answer = answer;
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public int Connections => Volatile.Read(ref _connections);

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Each request's head (request line and headers), in arrival order.</summary>
    public ConcurrentQueue<string> Heads { get; } = new();

    public static string Response(int status, string body, string contentType = "application/json")
    {
        int length = Encoding.UTF8.GetByteCount(body);
        return $"HTTP/1.1 {status} {(status == 200 ? "OK" : "Status")}\r\nContent-Type: {contentType}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{body}";
    }

    public static string Completion(string content) => Response(200,
        $"{{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":{System.Text.Json.JsonSerializer.Serialize(content)}}},\"finish_reason\":\"stop\"}}]}}");

    /// <summary>Waits (at most 10 s) until at least <paramref name="count"/> connections were accepted.</summary>
    public int WaitForConnections(int count)
    {
        SpinWait.SpinUntil(() => Connections >= count, TimeSpan.FromSeconds(10));
        return Connections;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                _ = ServeAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // stopped
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var (head, body) = await ReadRequestAsync(stream);
                Heads.Enqueue(head);
                int n = Interlocked.Increment(ref _requests);
                string? response = _answer(n, head, body);
                if (response is null)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                    return;
                }
                await stream.WriteAsync(Encoding.UTF8.GetBytes(response), _stop.Token);
                await stream.FlushAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // the client or the test went away
            }
        }
    }

    private async Task<(string Head, string Body)> ReadRequestAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var buffer = new byte[4096];
        int headEnd = -1;
        while (headEnd < 0)
        {
            int read = await stream.ReadAsync(buffer, _stop.Token);
            if (read == 0)
                throw new IOException("the client closed the connection before its request was complete");
            bytes.AddRange(buffer.AsSpan(0, read));
            headEnd = IndexOf(bytes, "\r\n\r\n"u8);
        }
        string head = Encoding.ASCII.GetString(bytes.GetRange(0, headEnd).ToArray());
        int length = head.Split("\r\n").Where(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            .Select(l => int.Parse(l["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        while (bytes.Count - headEnd - 4 < length)
        {
            int read = await stream.ReadAsync(buffer, _stop.Token);
            if (read == 0)
                throw new IOException("the client closed the connection before its request body was complete");
            bytes.AddRange(buffer.AsSpan(0, read));
        }
        return (head, Encoding.UTF8.GetString(bytes.GetRange(headEnd + 4, length).ToArray()));
    }

    private static int IndexOf(List<byte> bytes, ReadOnlySpan<byte> pattern)
    {
        for (int i = 0; i + pattern.Length <= bytes.Count; i++)
        {
            int j = 0;
            while (j < pattern.Length && bytes[i + j] == pattern[j])
                j++;
            if (j == pattern.Length)
                return i;
        }
        return -1;
    }
}
