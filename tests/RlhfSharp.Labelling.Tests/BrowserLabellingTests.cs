using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Playwright;
using RlhfSharp.Cli;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Judges.Human;

namespace RlhfSharp.Labelling.Tests;

/// <summary>
/// People's side of <c>rlhf label --judge human</c>: the real process, driven by keyboard in
/// headless chromium.
/// </summary>
public sealed class BrowserLabellingTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("label-browser-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Prefs => Path.Combine(_dir, "prefs.jsonl");

    private string NoPrefs => Path.Combine(_dir, "prefs.no_preference.jsonl");

    private string[] Args(IEnumerable<PairItem> items, string port = "0") =>
        ["--pairs_file", TestPairs.Write(Path.Combine(_dir, "pairs.jsonl"), items), "--out", Prefs, "--port", port];

    [Fact]
    public async Task KeyboardLabellingSurvivesASigkillResumesAndTheFileTrainsARewardModel()
    {
        var items = TestPairs.Arithmetic(6);
        var expected = new Dictionary<string, (string Chosen, string Rejected)>();
        var server = LabelProcess.Start(Args(items));
        try
        {
            var page = await LabelPage.OpenAsync(browser.Chromium, server.Address, "ana");

            // 1: left is better (arrow key); 2: right is better ("2").
            var id1 = (await LabelPage.NextItemAsync(page, null))!;
            var (l, r) = await LabelPage.TextsAsync(page);
            expected[id1] = (l, r);
            await page.Keyboard.PressAsync("ArrowLeft");
            var id2 = (await LabelPage.NextItemAsync(page, id1))!;
            (l, r) = await LabelPage.TextsAsync(page);
            expected[id2] = (r, l);
            await page.Keyboard.PressAsync("2");

            // 3: a tie, undone at once ("u") and relabelled "right is better".
            var id3 = (await LabelPage.NextItemAsync(page, id2))!;
            (l, r) = await LabelPage.TextsAsync(page);
            await page.Keyboard.PressAsync("t");
            var id4 = (await LabelPage.NextItemAsync(page, id3))!;
            Assert.Single(File.ReadAllLines(NoPrefs));
            await page.Keyboard.PressAsync("u");
            Assert.Equal(id3, await LabelPage.NextItemAsync(page, id4));
            Assert.Equal((l, r), await LabelPage.TextsAsync(page)); // the same sides as before
            Assert.Contains("Undone", await page.TextContentAsync("#message"));
            Assert.Empty(File.ReadAllLines(NoPrefs));
            expected[id3] = (r, l);
            await page.Keyboard.PressAsync("ArrowRight");

            // 4: a rating and a note, then "1" (left) once the note is left with Escape.
            Assert.Equal(id4, await LabelPage.NextItemAsync(page, id3));
            (l, r) = await LabelPage.TextsAsync(page);
            expected[id4] = (l, r);
            await page.SelectOptionAsync(".ratings[data-side=left] select[data-axis=helpful]", "6");
            await page.Keyboard.PressAsync("Escape");
            await page.Keyboard.PressAsync("n");
            await page.Keyboard.TypeAsync("the <b>right</b> one is off by one");
            await page.Keyboard.PressAsync("Escape");
            await page.Keyboard.PressAsync("1");

            // 5 is on screen when the server is killed: its label waits on the page until a new server answers.
            var id5 = (await LabelPage.NextItemAsync(page, id4))!;
            Assert.Equal("4 / 6 pairs labelled", await page.TextContentAsync("#progress"));
            Assert.Equal(4, File.ReadAllLines(Prefs).Length);
            (l, r) = await LabelPage.TextsAsync(page);
            expected[id5] = (l, r);
            int port = server.Address.Port;
            server.Kill();
            server.Dispose();
            await page.Keyboard.PressAsync("ArrowLeft");
            await page.WaitForSelectorAsync("body[data-state=offline]");

            server = LabelProcess.Start(Args(items, port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Contains("resuming: 4 labels already saved", server.Stdout);
            var id6 = (await LabelPage.NextItemAsync(page, id5))!;

            // A reload (or a new browser) resumes at the first pair not yet labelled.
            await page.ReloadAsync();
            Assert.Equal(id6, await LabelPage.NextItemAsync(page, null));
            Assert.Equal("5 / 6 pairs labelled", await page.TextContentAsync("#progress"));
            await page.Keyboard.PressAsync("s");
            Assert.Null(await LabelPage.NextItemAsync(page, id6));
            Assert.Equal("done", await LabelPage.StateAsync(page));
            Assert.Equal("6 / 6 pairs labelled", await page.TextContentAsync("#progress"));
        }
        finally
        {
            server.Dispose();
        }

        // Every label once, as it was given; the skip is in the side file, not the training file.
        var lines = File.ReadAllLines(Prefs).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(5, lines.Count);
        foreach (var line in lines)
        {
            var id = line.GetProperty("item").GetString()!;
            Assert.Equal(expected[id], (line.GetProperty("chosen").GetString()!, line.GetProperty("rejected").GetString()!));
            Assert.Equal("ana", line.GetProperty("labeller").GetString());
        }
        Assert.Equal(expected.Keys.Order(), lines.Select(l => l.GetProperty("item").GetString()!).Order());
        var rated = lines.Single(l => l.TryGetProperty("note", out _));
        Assert.Equal("the <b>right</b> one is off by one", rated.GetProperty("note").GetString());
        Assert.Equal(6, rated.GetProperty("ratings").GetProperty("chosen").GetProperty("helpful").GetInt32());
        var skip = JsonDocument.Parse(Assert.Single(File.ReadAllLines(NoPrefs))).RootElement;
        Assert.Equal("skip", skip.GetProperty("label").GetString());

        // rlhf rm trains on the file as it is.
        var tokenizer = Path.Combine(_dir, "tokenizer");
        BuiltinTaskTokenizer.Train(items.SelectMany(i => new[] { (i.Prompt[0].Content, i.A), (i.Prompt[0].Content, i.B) }), vocabSize: 300).Save(tokenizer);
        var output = new StringWriter();
        var error = new StringWriter();
        int code = RlhfCli.Run(["rm", "--train_file", Prefs, "--tokenizer", tokenizer, "--out", Path.Combine(_dir, "rm"),
            "--max_steps", "2", "--batch_size", "2", "--warmup_steps", "0", "--eval_every", "0", "--save_every", "0", "--threads", "1",
            "--max_length", "48", "--model_init.hidden_size", "16", "--model_init.num_layers", "1", "--model_init.num_heads", "2",
            "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "32", "--model_init.max_positions", "64"], output, error);
        Assert.True(code == 0, error.ToString());
        Assert.True(File.Exists(Path.Combine(_dir, "rm", "summary.json")));
        Assert.Equal(5, PreferenceDataset.Load(Prefs).Count);
    }

    [Fact]
    public async Task ScriptAndImageTagsInResponsesRenderAsTextAndRunNothing()
    {
        const string script = "<script>window.__pwned = 'script'; console.log('pwned-script'); alert('script')</script>";
        const string img = "<img src=x onerror=\"window.__pwned = 'img'; console.log('pwned-img'); alert('img')\">";
        const string prompt = "Reply with <b>HTML</b><iframe src=\"javascript:alert('prompt')\"></iframe>";
        using var server = LabelProcess.Start(Args([PairItem.Create([ChatMessage.User(prompt)], script, img)]));

        var context = await browser.Chromium.NewContextAsync();
        context.SetDefaultTimeout(LabelPage.StepTimeoutMs);
        var page = await context.NewPageAsync();
        var sideEffects = new ConcurrentQueue<string>();
        page.Console += (_, m) => sideEffects.Enqueue($"console {m.Type}: {m.Text}");
        page.PageError += (_, e) => sideEffects.Enqueue($"page error: {e}");
        page.Dialog += (_, d) =>
        {
            sideEffects.Enqueue($"dialog: {d.Message}");
            _ = d.DismissAsync();
        };
        await page.GotoAsync(new Uri(server.Address, "/?labeller=ana").ToString());

        var id = await LabelPage.NextItemAsync(page, null);
        Assert.NotNull(id);
        var (left, right) = await LabelPage.TextsAsync(page);
        Assert.Equal([img, script], new[] { left, right }.Order());
        Assert.Equal(prompt, await page.TextContentAsync("#prompt .msg .text"));
        // Nothing the model wrote became an element.
        Assert.Equal(0, await page.EvaluateAsync<int>("() => document.querySelectorAll('#work script, #work img, #work iframe, #work b').length"));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => document.getElementById('left-text').children.length + document.getElementById('right-text').children.length"));

        // Label it and let the page settle: still no script ran.
        await page.Keyboard.PressAsync("ArrowLeft");
        Assert.Null(await LabelPage.NextItemAsync(page, id));
        Assert.True(await page.EvaluateAsync<bool>("() => window.__pwned === undefined"));
        Assert.Empty(sideEffects);
        var line = JsonDocument.Parse(Assert.Single(File.ReadAllLines(Prefs))).RootElement;
        Assert.Equal(left, line.GetProperty("chosen").GetString());
        await context.CloseAsync();
    }

    [Fact]
    public async Task TwoLabellersAtOnceWriteEveryLabelExactlyOnceAsValidJsonLines()
    {
        var items = TestPairs.Arithmetic(12);
        using var server = LabelProcess.Start([.. Args(items), "--overlap", "0.5"]);
        var alice = await LabelPage.OpenAsync(browser.Chromium, server.Address, "alice");
        var bob = await LabelPage.OpenAsync(browser.Chromium, server.Address, "bob");

        var given = await Task.WhenAll(
            LabelAllAsync(alice, ["ArrowLeft", "ArrowRight", "t", "b", "s"]),
            LabelAllAsync(bob, ["2", "1", "ArrowLeft", "t"]));

        var labels = given[0].Select(g => (g.Id, Labeller: "alice", g.Choice)).Concat(given[1].Select(g => (g.Id, Labeller: "bob", g.Choice))).ToList();
        var overlap = LabellingSession.OverlapIndices(items, 0.5, seed: 1).Select(i => items[i].Id).ToHashSet();
        Assert.Equal(12 + overlap.Count, labels.Count);

        // Every line of both files is whole JSON, and each label given is there exactly once.
        var written = new List<(string Item, string Labeller)>();
        foreach (var path in new[] { Prefs, NoPrefs })
        {
            var text = File.ReadAllText(path);
            Assert.EndsWith("\n", text);
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var o = JsonDocument.Parse(line).RootElement;
                written.Add((o.GetProperty("item").GetString()!, o.GetProperty("labeller").GetString()!));
            }
        }
        Assert.Equal(labels.Select(l => (l.Id, l.Labeller)).Order(), written.Order());
        var records = LabelFiles.Read(Prefs).Records.ToDictionary(r => (r.ItemId, r.Labeller));
        foreach (var (id, labeller, choice) in labels)
            Assert.Equal(choice, records[(id, labeller)].Choice);
        // The overlapping pairs were labelled by both; the others by one.
        foreach (var item in items)
            Assert.Equal(overlap.Contains(item.Id) ? 2 : 1, written.Count(w => w.Item == item.Id));
        Assert.True(PreferenceDataset.Load(Prefs).Count > 0);
    }

    private static readonly Dictionary<string, HumanChoice> Keys = new()
    {
        ["ArrowLeft"] = HumanChoice.Left,
        ["1"] = HumanChoice.Left,
        ["ArrowRight"] = HumanChoice.Right,
        ["2"] = HumanChoice.Right,
        ["t"] = HumanChoice.Tie,
        ["b"] = HumanChoice.BothBad,
        ["s"] = HumanChoice.Skip,
    };

    private static async Task<List<(string Id, HumanChoice Choice)>> LabelAllAsync(IPage page, string[] keys)
    {
        var given = new List<(string, HumanChoice)>();
        string? previous = null;
        for (int n = 0; n < 100; n++)
        {
            var id = await LabelPage.NextItemAsync(page, previous);
            if (id is null)
                return given;
            string key = keys[n % keys.Length];
            await page.Keyboard.PressAsync(key);
            given.Add((id, Keys[key]));
            previous = id;
        }
        throw new InvalidOperationException("the page kept offering pairs after 100 labels");
    }
}
