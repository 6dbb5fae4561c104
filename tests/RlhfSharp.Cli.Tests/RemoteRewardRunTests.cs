using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// <c>rlhf grpo</c> with <c>reward_funcs: [remote]</c> against real reward server processes: a
/// Python one that is not our code (its rewards are the run's rewards), and <c>rlhf serve-rm</c>
/// (its rewards are the local reward model's).
/// </summary>
public sealed class RemoteRewardRunTests : IDisposable
{
    private const int Steps = 2, BatchSize = 2, Generations = 4;

    private readonly string _dir = Directory.CreateTempSubdirectory("remote-reward-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (string Data, string Sft, string Rm, string Prompts) Setup()
    {
        var data = Path.Combine(_dir, "data");
        BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = 16, EvalPrompts = 4, PreferencePairs = 8, TokenizerVocabSize = 300 });
        var (sft, rm) = TinyModels.Write(_dir, data);
        // Prompt rows with labels, as OpenRLHF's prompt files carry them.
        var prompts = Path.Combine(_dir, "prompts.jsonl");
        File.WriteAllLines(prompts, Enumerable.Range(0, 8).Select(i => JsonSerializer.Serialize(new { prompt = $"Compute {i} + 1.", label = (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) })));
        return (data, sft, rm, prompts);
    }

    private static string[] Grpo(string data, string sft, string prompts, string run, params string[] reward) =>
    [
        "grpo", "--data", data, "--train_file", prompts, "--model", sft, "--out", run, "--max_steps", Steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--batch_size", BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture), "--num_generations", Generations.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--mini_batch_size", "8", "--response_length", "4", "--max_prompt_length", "24", "--eval_prompts", "2", "--eval_every", "0", "--save_every", "0", "--seed", "3",
        .. reward,
    ];

    // The training steps' lines of metrics.jsonl (the evaluation at step 0 has its own line).
    private static List<JsonObject> StepMetrics(string run, string rewardKey) =>
        [.. File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).Where(m => m.ContainsKey(rewardKey))];

    [Fact]
    public void GrpoIsRewardedByAPythonServerMixedWithTheRewardModelAndLogsWhatItReturned()
    {
        var (data, sft, rm, prompts) = Setup();
        using var server = PythonRewardServer.Start(_dir);
        var run = Path.Combine(_dir, "grpo");

        // Mixed with the local reward model: reward = 0.5 · reward_model + 1 · remote.
        var (code, _, err) = RlhfProcess.Run(Grpo(data, sft, prompts, run, "--reward_model", rm, "--reward_funcs", "remote", "--reward_weights", "[0.5, 1]",
            "--reward_url", server.Address + "get_reward", "--reward_batch_size", "64"));

        Assert.True(code == 0, $"exit {code}: {err}");
        var requests = server.Requests();
        // The training requests carry the whole step's rollouts; the held-out evaluation's are smaller.
        var training = requests.Where(r => r["query"]!.AsArray().Count == BatchSize * Generations).ToList();
        Assert.Equal(Steps, training.Count);
        var labels = Enumerable.Range(1, 8).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        foreach (var r in training)
        {
            Assert.All(r["labels"]!.AsArray(), l => Assert.Contains(l!.GetValue<string>(), labels));
            Assert.All(r["prompts"]!.AsArray(), p => Assert.EndsWith("<|im_start|>assistant\n", p!.GetValue<string>()));
        }
        var steps = StepMetrics(run, "reward/remote");
        Assert.Equal(Steps, steps.Count);
        for (int s = 0; s < Steps; s++)
        {
            double served = training[s]["rewards"]!.AsArray().Average(x => x!.GetValue<double>());
            Assert.Equal(served, steps[s]["reward/remote"]!.GetValue<double>(), 9);
            double mixed = 0.5 * steps[s]["reward/reward_model"]!.GetValue<double>() + served;
            Assert.Equal(mixed, steps[s]["reward"]!.GetValue<double>(), 9);
        }
        Assert.True(requests.Count > Steps, "the held-out evaluation is scored by the server too");
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!.AsObject();
        Assert.True(summary.ContainsKey("eval/score"));
    }

    [Fact]
    public void GrpoAgainstServeRmIsRewardedAsByTheLocalRewardModel()
    {
        var (data, sft, rm, prompts) = Setup();
        const string token = "serve-rm-test-token-0123456789";
        const string variable = "RLHFSHARP_TEST_REMOTE_RM_TOKEN";
        Environment.SetEnvironmentVariable(variable, token); // inherited by the rlhf grpo process
        // The run's reward_model truncates to max_prompt_length 24 and 24 + 4 + 8 tokens; the server is told the same.
        using var server = RlhfProcess.StartServer("serve-rm", "--model", rm, "--port", "0", "--token", token, "--max_length", "36", "--max_prompt_length", "24", "--threads", "1");

        var local = Path.Combine(_dir, "local");
        var (code, _, err) = RlhfProcess.Run(Grpo(data, sft, prompts, local, "--reward_model", rm));
        Assert.True(code == 0, $"exit {code}: {err}");
        var remote = Path.Combine(_dir, "remote");
        (code, _, err) = RlhfProcess.Run(Grpo(data, sft, prompts, remote, "--reward_funcs", "remote", "--reward_url", server.Address + "get_reward", "--reward_token_env", variable, "--reward_batch_size", "3"));
        Assert.True(code == 0, $"exit {code}: {err}");

        var localSteps = StepMetrics(local, "reward/reward_model");
        var remoteSteps = StepMetrics(remote, "reward/remote");
        Assert.Equal(Steps, localSteps.Count);
        Assert.Equal(Steps, remoteSteps.Count);
        for (int s = 0; s < Steps; s++)
            Assert.Equal(localSteps[s]["reward/reward_model"]!.GetValue<double>(), remoteSteps[s]["reward/remote"]!.GetValue<double>(), 5);
        Assert.DoesNotContain(token, File.ReadAllText(Path.Combine(remote, "config.resolved.yaml")));

        // The same pairs scored by the served model and by RewardModelSource in this process.
        IReadOnlyList<ChatMessage>[] dialogues = [[ChatMessage.User("Compute 2 + 1.")], [ChatMessage.User("Compute 5 + 1.")]];
        string[] responses = ["3", "It is <|im_end|> 6"];
        using var client = new RemoteRewardSource(new RemoteRewardOptions { Url = new Uri(server.Address + "get_reward"), Token = token }, ChatTemplate.ChatMl);
        var reference = RewardModelSource.Load(rm, ChatTemplate.ChatMl, 36, 24);
        var served = client.ScoreDialogues(dialogues, responses);
        var expected = reference.ScoreDialogues(dialogues, responses);
        for (int i = 0; i < served.Length; i++)
            Assert.Equal(expected[i], served[i], 6);

        // Without the token, or with a wrong one, it refuses.
        using var anonymous = new RemoteRewardSource(new RemoteRewardOptions { Url = new Uri(server.Address + "get_reward") }, ChatTemplate.ChatMl);
        Assert.Contains("HTTP 401", Assert.Throws<RemoteRewardException>(() => anonymous.ScoreDialogues(dialogues, responses)).Message);
        using var wrong = new RemoteRewardSource(new RemoteRewardOptions { Url = new Uri(server.Address + "get_reward"), Token = "wrong-token-0123456789" }, ChatTemplate.ChatMl);
        Assert.Contains("HTTP 401", Assert.Throws<RemoteRewardException>(() => wrong.ScoreDialogues(dialogues, responses)).Message);
    }

    [Fact]
    public void AnUnreachableRewardServerStopsTheRunNamingItsUrl()
    {
        var (data, sft, _, prompts) = Setup();
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var run = Path.Combine(_dir, "grpo");
        string url = $"http://127.0.0.1:{port}/get_reward";
        var (code, _, err) = RlhfProcess.Run(Grpo(data, sft, prompts, run, "--reward_funcs", "remote", "--reward_url", url, "--reward_retries", "0"));
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains(url, err);
        Assert.Contains("cannot connect", err);
        Assert.DoesNotContain("   at ", err);
    }
}
