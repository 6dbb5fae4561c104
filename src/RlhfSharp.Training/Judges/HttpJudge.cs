using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Judges;

/// <summary>
/// A judge behind any OpenAI-compatible <c>/v1/chat/completions</c> server (<c>rlhf serve</c>,
/// vLLM, a hosted API), asked the <see cref="LocalLmJudge"/>'s question. Each pair is asked twice,
/// greedy (temperature 0), once as (A, B) and once as (B, A), and the verdict stands only when both
/// answers pick the same response; otherwise, or when an answer names neither, it is a tie. This
/// is the position swap of Zheng et al. 2023 ("Judging LLM-as-a-Judge with MT-Bench and Chatbot
/// Arena"): it cancels a judge's preference for a position.
/// </summary>
/// <remarks>
/// Every request has a timeout; transient failures (no connection, timeout, HTTP 5xx or 429) are
/// retried up to <see cref="HttpJudgeOptions.MaxRetries"/> times with exponential backoff, any
/// other failure ends the call at once. Failures are <see cref="JudgeHttpException"/>s. The API
/// key is read from the environment once and only ever put in the Authorization header.
/// </remarks>
public sealed partial class HttpJudge : IPreferenceJudge, IDisposable
{
    private const int MaxAnswerBytes = 4 << 20;
    private const int SnippetChars = 200;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);

    private readonly HttpJudgeOptions _options;
    private readonly HttpClient _http;
    private readonly string? _apiKey;

    public HttpJudge(HttpJudgeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        Endpoint = ChatCompletionsUrl(options.BaseUrl);
        if (options.ApiKeyEnvironmentVariable is { Length: > 0 } variable)
        {
            _apiKey = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(_apiKey))
                throw new TrainingSetupException($"HTTP judge: environment variable {variable} (the API key) is not set; set it, or name no API key variable for a server without one");
        }
        var handler = new SocketsHttpHandler { ConnectTimeout = options.Timeout, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        _http = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan, MaxResponseContentBufferSize = MaxAnswerBytes };
    }

    public string Name => $"http:{_options.Model}";

    /// <summary>The URL every request goes to.</summary>
    public string Endpoint { get; }

    public IReadOnlyList<Verdict> Judge(IReadOnlyList<JudgeItem> items) => JudgeAsync(items).GetAwaiter().GetResult();

    /// <summary>Asks about every item in both orders, at most <see cref="HttpJudgeOptions.MaxConcurrency"/> requests at once.</summary>
    public async Task<IReadOnlyList<Verdict>> JudgeAsync(IReadOnlyList<JudgeItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var answers = new string[items.Count * 2];
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var gate = new SemaphoreSlim(_options.MaxConcurrency);
        async Task AskAsync(int slot)
        {
            var item = items[slot / 2];
            string prompt = slot % 2 == 0 ? LocalLmJudge.Prompt(item.PromptText, item.A, item.B) : LocalLmJudge.Prompt(item.PromptText, item.B, item.A);
            await gate.WaitAsync(failed.Token).ConfigureAwait(false);
            try
            {
                failed.Token.ThrowIfCancellationRequested();
                answers[slot] = await CompleteAsync(prompt, failed.Token).ConfigureAwait(false);
            }
            catch (JudgeHttpException)
            {
                failed.Cancel(); // the call has failed: send nothing more
                throw;
            }
            finally
            {
                gate.Release();
            }
        }
        var tasks = Enumerable.Range(0, answers.Length).Select(AskAsync).ToList();
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch when (!cancellationToken.IsCancellationRequested
            && tasks.Select(t => t.Exception?.InnerException).OfType<JudgeHttpException>().FirstOrDefault() is { } first)
        {
            ExceptionDispatchInfo.Throw(first); // the failure itself, not a sibling's cancellation
        }
        var verdicts = new Verdict[items.Count];
        for (int i = 0; i < items.Count; i++)
        {
            // Each answer mapped back to the item's labels; an answer that names neither letter is a tie.
            Verdict? asked = ReadChoice(answers[2 * i]) switch { 'A' => Verdict.A, 'B' => Verdict.B, _ => null };
            Verdict? swapped = ReadChoice(answers[(2 * i) + 1]) switch { 'A' => Verdict.B, 'B' => Verdict.A, _ => null };
            verdicts[i] = asked is { } x && swapped is { } y ? LocalLmJudge.Combine(x, y) : Verdict.Tie;
        }
        return verdicts;
    }

    /// <summary>The first standalone capital A or B in a judge's answer; null when there is none.</summary>
    public static char? ReadChoice(string answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var match = Choice().Match(answer);
        return match.Success ? match.Value[0] : null;
    }

    /// <summary>One greedy chat completion of a single user message, with retries; returns the answer's text.</summary>
    public async Task<string> CompleteAsync(string userMessage, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject
        {
            ["model"] = _options.Model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = userMessage }),
            ["max_tokens"] = _options.MaxTokens,
            ["temperature"] = 0,
        }.ToJsonString();
        for (int attempt = 1; ; attempt++)
        {
            JudgeHttpException failure;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_options.Timeout);
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, Endpoint) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                    if (_apiKey is not null)
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                    string text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                    if (response.StatusCode == HttpStatusCode.OK)
                        return ReadAnswer(text, attempt);
                    failure = StatusFailure(response, text, attempt);
                    if (!IsTransient(response.StatusCode))
                        throw failure;
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = new JudgeHttpException(JudgeHttpErrorKind.Timeout, Endpoint, attempt,
                        $"HTTP judge: {Endpoint} gave no complete answer within {_options.Timeout.TotalSeconds:0.###} s {Tries(attempt)}; " +
                        "expected a chat completion within the timeout: raise the timeout or check that the server is not stuck.", inner: e);
                }
                catch (HttpRequestException e) when (IsConnectionFailure(e))
                {
                    failure = new JudgeHttpException(JudgeHttpErrorKind.ServerUnreachable, Endpoint, attempt,
                        $"HTTP judge: could not reach {Endpoint} {Tries(attempt)} ({Redact(e.Message)}); " +
                        "expected an OpenAI-compatible server there: is it running, and are the host and port right?", inner: e);
                }
                catch (HttpRequestException e)
                {
                    throw Malformed($"the answer is not valid HTTP ({Redact(e.Message)})", attempt, e);
                }
            }
            if (attempt > _options.MaxRetries)
                throw failure;
            await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _http.Dispose();

    public override string ToString() => $"HttpJudge({Endpoint}, model {_options.Model})";

    private string ReadAnswer(string body, int attempt)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            throw Malformed($"the body is not JSON; it starts: {Snippet(body)}", attempt);
        }
        if (root is not JsonObject obj || obj["choices"] is not JsonArray { Count: > 0 } choices
            || choices[0]?["message"]?["content"] is not JsonValue content || !content.TryGetValue(out string? text))
        {
            throw Malformed($"the JSON has no choices[0].message.content string; it starts: {Snippet(body)}", attempt);
        }
        return text;
    }

    private JudgeHttpException Malformed(string what, int attempt, Exception? inner = null) =>
        new(JudgeHttpErrorKind.MalformedResponse, Endpoint, attempt,
            $"HTTP judge: {Endpoint} answered something other than a chat completion {Tries(attempt)}: {what}. " +
            "Expected HTTP 200 with OpenAI chat completion JSON (choices[0].message.content); is the base URL an OpenAI-compatible server?",
            inner: inner);

    private JudgeHttpException StatusFailure(HttpResponseMessage response, string body, int attempt)
    {
        int code = (int)response.StatusCode;
        string hint = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
            ? $" Check the API key in {(_options.ApiKeyEnvironmentVariable is { } v ? $"environment variable {v}" : "an environment variable (none is set)")}."
            : response.StatusCode == HttpStatusCode.NotFound ? " Check the base URL and the model name." : "";
        return new JudgeHttpException(JudgeHttpErrorKind.HttpStatus, Endpoint, attempt,
            $"HTTP judge: {Endpoint} answered HTTP {code} {response.ReasonPhrase} {Tries(attempt)}; expected 200 with a chat completion. " +
            $"The body starts: {Snippet(body)}.{hint}", statusCode: code);
    }

    private static bool IsTransient(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests || (int)status >= 500;

    // Failures before any answer arrived; an answer that breaks the protocol is malformed instead.
    private static bool IsConnectionFailure(HttpRequestException e) => e.HttpRequestError switch
    {
        HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError
            or HttpRequestError.SecureConnectionError or HttpRequestError.ResponseEnded => true,
        HttpRequestError.Unknown => e.InnerException is SocketException or IOException,
        _ => false,
    };

    private TimeSpan Backoff(int attempt)
    {
        double ms = _options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1);
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxBackoff.TotalMilliseconds));
    }

    private static string Tries(int attempts) => attempts == 1 ? "on the first attempt" : $"after {attempts} attempts";

    private string Snippet(string body)
    {
        string s = Redact(body);
        s = s.Length > SnippetChars ? s[..SnippetChars] + "..." : s;
        return string.IsNullOrWhiteSpace(s) ? "(empty)" : JsonSerializer.Serialize(s);
    }

    // A server could echo the request headers back; the key must not reach a message through it.
    private string Redact(string text) => string.IsNullOrEmpty(_apiKey) ? text : text.Replace(_apiKey, "[api key]", StringComparison.Ordinal);

    [GeneratedRegex(@"(?<![\p{L}\p{N}])[AB](?![\p{L}\p{N}])")]
    private static partial Regex Choice();

    private static string ChatCompletionsUrl(string baseUrl)
    {
        string trimmed = baseUrl.TrimEnd('/');
        return trimmed.EndsWith("/v1", StringComparison.Ordinal) ? trimmed + "/chat/completions" : trimmed + "/v1/chat/completions";
    }
}
