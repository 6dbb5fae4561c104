using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Training.Rl;

/// <summary>The keys of the <c>remote</c> reward function: a reward server speaking OpenRLHF's protocol.</summary>
public abstract partial class RlConfig
{
    [ConfigKey("reward_url", "With reward_funcs: [remote], the reward server's URL (absolute http:// or https://, e.g. http://127.0.0.1:5000/get_reward); it is POSTed {query, prompts, labels} and answers {rewards}")]
    public string? RewardUrl { get; set; }

    [ConfigKey("reward_timeout", "Seconds one request to the reward server may take before it is retried")]
    public double RewardTimeout { get; set; } = 60;

    [ConfigKey("reward_retries", "Times a request to the reward server is sent again after a connection error, timeout or 5xx answer (never after a 4xx), waiting 1 s, 2 s, 4 s...")]
    public int RewardRetries { get; set; } = 3;

    [ConfigKey("reward_batch_size", "Most (prompt, response) pairs sent to the reward server in one request")]
    public int RewardBatchSize { get; set; } = 64;

    [ConfigKey("reward_token_env", "Name of the environment variable holding the reward server's access token, sent as Authorization: Bearer (the token itself is never written to the config); unset = no token")]
    public string? RewardTokenEnv { get; set; }

    [ConfigKey("reward_label_field", "The prompt row's field sent to the reward server as its label; unset = label, else answer, else null")]
    public string? RewardLabelField { get; set; }

    /// <summary>What is wrong with the remote reward keys.</summary>
    internal IEnumerable<string> RemoteRewardErrors()
    {
        bool remote = RewardFuncs.Contains(RewardFunctions.Remote);
        if (remote && string.IsNullOrWhiteSpace(RewardUrl))
            yield return "reward_url is required with reward_funcs: [remote]: the reward server's URL, e.g. http://127.0.0.1:5000/get_reward";
        if (RewardUrl is { } url && !IsHttpUrl(url))
            yield return $"reward_url must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:5000/get_reward; got '{url}'";
        if (!(RewardTimeout > 0) || !double.IsFinite(RewardTimeout))
            yield return $"reward_timeout must be a positive number of seconds, got {RewardTimeout}";
        if (RewardRetries < 0)
            yield return $"reward_retries must be >= 0, got {RewardRetries}";
        if (RewardBatchSize <= 0)
            yield return $"reward_batch_size must be positive, got {RewardBatchSize}";
        if (RewardTokenEnv is { } env && (env.Length == 0 || env.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '_'))))
            yield return $"reward_token_env must name an environment variable (letters, digits, _), got '{env}'";
        if (RewardLabelField is { } field && string.IsNullOrWhiteSpace(field))
            yield return "reward_label_field must not be blank";
    }

    /// <summary>The remote reward source these keys describe; the token is read from the environment now.</summary>
    internal RemoteRewardSource BuildRemoteReward(ChatTemplate template)
    {
        if (RewardUrl is not { } url || !IsHttpUrl(url))
            throw new TrainingSetupException($"reward_funcs: remote needs reward_url, an absolute http:// or https:// URL (got '{RewardUrl ?? "not set"}')");
        string? token = null;
        if (RewardTokenEnv is { } env)
        {
            token = Environment.GetEnvironmentVariable(env);
            if (string.IsNullOrEmpty(token))
                throw new TrainingSetupException($"reward_token_env: the environment variable {env} is not set or empty; set it to the reward server's access token, or unset reward_token_env");
        }
        return new RemoteRewardSource(new RemoteRewardOptions
        {
            Url = new Uri(url),
            Timeout = TimeSpan.FromSeconds(RewardTimeout),
            Retries = RewardRetries,
            BatchSize = RewardBatchSize,
            Token = token,
            LabelField = RewardLabelField,
            Name = RewardFunctions.Remote,
        }, template);
    }

    private static bool IsHttpUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0;
}
