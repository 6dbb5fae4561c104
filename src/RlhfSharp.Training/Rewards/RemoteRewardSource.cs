using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Rewards;

/// <summary>
/// Rewards from an HTTP server speaking OpenRLHF's remote reward protocol
/// (<see cref="RemoteRewardProtocol"/>): each prompt is rendered with the run's chat template as the
/// policy sees it (with the generation prompt), the query is that prompt followed by the response,
/// and the label is the prompt row's <c>label</c> field, else its <c>answer</c> (or the field
/// <see cref="RemoteRewardOptions.LabelField"/> names), else null. Pairs are sent in requests of at
/// most <see cref="RemoteRewardOptions.BatchSize"/>; a request that fails to connect, times out or
/// gets a 5xx answer is sent again after a doubling wait, up to
/// <see cref="RemoteRewardOptions.Retries"/> times; a 4xx answer or a malformed answer ends the run
/// with a <see cref="RemoteRewardException"/> naming the URL.
/// </summary>
public sealed class RemoteRewardSource : IRewardSource, IDisposable
{
    private static readonly string[] DefaultLabelFields = ["label", "answer"];

    private readonly RemoteRewardOptions _options;
    private readonly ChatTemplate _template;
    private readonly HttpClient _http;
    private readonly string[] _labelFields;

    /// <param name="handler">The HTTP handler (tests); null = a new <see cref="SocketsHttpHandler"/>.</param>
    public RemoteRewardSource(RemoteRewardOptions options, ChatTemplate template, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(template);
        if (options.Errors().FirstOrDefault() is { } error)
            throw new ArgumentException(error, nameof(options));
        _options = options;
        _template = template;
        _http = new HttpClient(handler ?? new SocketsHttpHandler(), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _labelFields = options.LabelField is { } field ? [field] : DefaultLabelFields;
    }

    public string Name => _options.Name;

    public RemoteRewardOptions Options => _options;

    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        return ScoreExamples([.. prompts.Select((p, i) => new PromptExample([ChatMessage.User(p)], "prompts", i + 1))], responses);
    }

    public double[] ScoreDialogues(IReadOnlyList<IReadOnlyList<ChatMessage>> prompts, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        return ScoreExamples([.. prompts.Select((p, i) => new PromptExample(p, "prompts", i + 1))], responses);
    }

    public double[] ScoreExamples(IReadOnlyList<PromptExample> prompts, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(responses);
        if (prompts.Count != responses.Count)
            throw new ArgumentException($"{prompts.Count} prompts but {responses.Count} responses; expected one response per prompt.", nameof(responses));
        var rewards = new double[prompts.Count];
        for (int start = 0; start < prompts.Count; start += _options.BatchSize)
        {
            int n = Math.Min(_options.BatchSize, prompts.Count - start);
            var rendered = new string[n];
            var queries = new string[n];
            var labels = new JsonElement?[n];
            for (int i = 0; i < n; i++)
            {
                var row = prompts[start + i];
                rendered[i] = _template.Render(row.Messages, addGenerationPrompt: true).Text;
                queries[i] = rendered[i] + responses[start + i];
                labels[i] = Label(row);
            }
            var body = RemoteRewardProtocol.WriteRequest(queries, rendered, labels);
            Send(body, n).CopyTo(rewards, start);
        }
        return rewards;
    }

    private JsonElement? Label(PromptExample row)
    {
        foreach (var field in _labelFields)
            if (row.Extra.TryGetValue(field, out var value) && value.ValueKind != JsonValueKind.Undefined)
                return value;
        return null;
    }

    // One request, sent again on connection errors, timeouts and 5xx answers.
    private double[] Send(byte[] body, int expected)
    {
        var url = _options.Url;
        for (int attempt = 0; ; attempt++)
        {
            string failure;
            Exception? cause = null;
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            if (_options.Token is { } token)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var timeout = new CancellationTokenSource(_options.Timeout);
            try
            {
                using var response = _http.Send(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
                string text = ReadBody(response, timeout.Token);
                int status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode)
                    return RemoteRewardProtocol.ReadAnswer(text, expected, url);
                failure = $"HTTP {status} {response.ReasonPhrase}: {RemoteRewardProtocol.Start(text)}";
                if (status < 500)
                {
                    string hint = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                        ? " (check the token: reward_token_env names the environment variable that holds it)"
                        : "";
                    throw new RemoteRewardException($"reward server {url} refused the request: {failure}{hint}");
                }
            }
            catch (OperationCanceledException e) when (timeout.IsCancellationRequested)
            {
                failure = $"no answer within {_options.Timeout.TotalSeconds:0.###} s (reward_timeout)";
                cause = e;
            }
            catch (HttpRequestException e)
            {
                failure = $"cannot connect: {e.Message}";
                cause = e;
            }
            if (attempt >= _options.Retries)
                throw new RemoteRewardException($"reward server {url}: {failure}; gave up after {attempt + 1} attempt(s) (reward_retries: {_options.Retries}). Check that the server runs and answers POST {url.AbsolutePath}.", cause);
            Thread.Sleep(_options.Backoff * Math.Pow(2, attempt));
        }
    }

    private static string ReadBody(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var stream = response.Content.ReadAsStream(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    public void Dispose() => _http.Dispose();
}
