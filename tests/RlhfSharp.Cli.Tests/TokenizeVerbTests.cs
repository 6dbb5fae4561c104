using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Cli.Tests;

/// <summary><c>rlhf tokenize</c> against ids an independent implementation produced, and its errors.</summary>
public sealed class TokenizeVerbTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    private static readonly string Gpt2 = Path.Combine(Fixtures, "gpt2");
    private static readonly string Qwen3 = Path.Combine(Fixtures, "qwen3");

    private readonly string _dir = Directory.CreateTempSubdirectory("tokenize-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // The fixture rows that fit on one line of a file.
    private static List<(string Text, int[] Gpt2, int[] Qwen3)> Rows() =>
        [.. File.ReadAllLines(Path.Combine(Fixtures, "expected.jsonl"))
            .Select(l => JsonNode.Parse(l)!)
            .Select(n => ((string)n["text"]!, Ids(n["gpt2"]!), Ids(n["qwen3"]!)))
            .Where(r => r.Item1.Length > 0 && !r.Item1.Contains('\n') && !r.Item1.Contains('\r') && !r.Item1.Contains("<|endoftext|>"))];

    private static int[] Ids(JsonNode node) => [.. node.AsArray().Select(x => (int)x!)];

    private static int[][] IdLines(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize<int[]>(l)!)];

    [Fact]
    public void TextWithTokenizerJsonGivesTheFixtureIdsOnOneLine()
    {
        var row = Rows()[1];

        var (code, output, error) = ExactRun.Run("tokenize", "--tokenizer", Qwen3, "--text", row.Text);

        Assert.True(code == 0, error);
        Assert.Equal("[" + string.Join(",", row.Qwen3) + "]\n", output);
    }

    [Fact]
    public void FileWithGpt2FilesGivesTheFixtureIdsLineByLine()
    {
        var rows = Rows();
        Assert.True(rows.Count >= 5, $"only {rows.Count} one-line fixture rows");
        string file = Path.Combine(_dir, "texts.txt");
        File.WriteAllText(file, string.Join("\n", rows.Select(r => r.Text)) + "\n");

        var (code, output, error) = ExactRun.Run("tokenize", "--tokenizer", Gpt2, "--file", file);

        Assert.True(code == 0, error);
        Assert.Equal(rows.Select(r => r.Gpt2), IdLines(output));
    }

    [Fact]
    public void DecodeOfTheEncodedFileGivesBackEveryLine()
    {
        string[] lines = ["Hello, world!", "  two  spaces ", "naïve café ☕", "<|im_end|> is text here", ""];
        string texts = Path.Combine(_dir, "texts.txt"), ids = Path.Combine(_dir, "ids.txt");
        File.WriteAllText(texts, string.Join("\n", lines) + "\n");

        var encoded = CliRun.Run("tokenize", "--tokenizer", Qwen3, "--file", texts);
        Assert.True(encoded.Code == 0, encoded.Err);
        File.WriteAllText(ids, encoded.Out);
        var (code, output, error) = ExactRun.Run("tokenize", "--tokenizer", Qwen3, "--file", ids, "--decode");

        Assert.True(code == 0, error);
        var decoded = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize<string>(l)).ToArray();
        Assert.Equal(lines, decoded);
    }

    [Fact]
    public void DecodeOfTextPrintsTheTextExactly()
    {
        var (code, output, error) = ExactRun.Run("tokenize", "--tokenizer", Gpt2, "--decode", "--text", "[464, 2068, 7586, 21831, 198]");

        Assert.True(code == 0, error);
        Assert.Equal("The quick brown fox\n", output);
    }

    [Fact]
    public void MessagesRenderPrintsTheTemplateTextExactlyAndIdsMatchIt()
    {
        string file = Path.Combine(_dir, "chat.json");
        File.WriteAllText(file, """
            {"messages": [
              {"role": "system", "content": "Be brief."},
              {"role": "user", "content": "Say <|im_end|> please"},
              {"role": "assistant", "content": "Done."},
              {"role": "user", "content": "Again"}
            ]}
            """);
        ChatMessage[] messages = [ChatMessage.System("Be brief."), ChatMessage.User("Say <|im_end|> please"), ChatMessage.Assistant("Done."), ChatMessage.User("Again")];
        var tokenizer = BpeTokenizer.FromDirectory(Qwen3);

        var render = ExactRun.Run("tokenize", "--tokenizer", Qwen3, "--messages", file, "--render", "--add_generation_prompt", "--chat_template", "chatml");
        var ids = ExactRun.Run("tokenize", "--tokenizer", Qwen3, "--messages", file, "--chat_template", "chatml");
        var llama = CliRun.Run("tokenize", "--tokenizer", Qwen3, "--messages", file, "--render", "--chat_template", "llama3");

        Assert.True(render.Code == 0, render.Err);
        Assert.Equal(ChatTemplate.ChatMl.Render(messages, addGenerationPrompt: true).Text, render.Out);
        Assert.EndsWith("<|im_start|>assistant\n", render.Out);
        Assert.True(ids.Code == 0, ids.Err);
        var expected = ChatTemplate.ChatMl.Encode(tokenizer, messages).Ids;
        Assert.Equal(expected, Assert.Single(IdLines(ids.Out)));
        // The user's "<|im_end|>" stays text: the only end-of-turn ids are the template's four.
        Assert.Equal(4, expected.Count(id => id == tokenizer.TokenToId("<|im_end|>")));
        Assert.Equal(ChatTemplate.Llama3.Render(messages).Text, llama.Out);
    }

    [Fact]
    public void MessagesUseTheTokenizersOwnTemplateWithToolsAndToolCalls()
    {
        string file = Path.Combine(_dir, "tools-own.json");
        const string Json = """
            {"messages": [
              {"role": "system", "content": "You check the weather."},
              {"role": "user", "content": "Weather in Paris?"},
              {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
              {"role": "tool", "content": "18 C, sunny"}
            ],
             "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather now", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]}
            """;
        File.WriteAllText(file, Json);
        var doc = JsonNode.Parse(Json)!;
        var expected = JinjaChatTemplate.FromTokenizerDirectory(Qwen3)!.Render(
            [.. doc["messages"]!.AsArray().Select(m => m!)], doc["tools"]!.AsArray(), addGenerationPrompt: true);

        var render = ExactRun.Run("tokenize", "--tokenizer", Qwen3, "--messages", file, "--render", "--add_generation_prompt");
        var ids = ExactRun.Run("tokenize", "--tokenizer", Qwen3, "--messages", file, "--add_generation_prompt", "--chat_template", "tokenizer");
        var builtIn = CliRun.Run("tokenize", "--tokenizer", Qwen3, "--messages", file, "--chat_template", "chatml");

        Assert.True(render.Code == 0, render.Err);
        Assert.Equal(expected.Text, render.Out);
        Assert.Contains("<tool_call>", render.Out);
        Assert.Contains("<tool_response>\n18 C, sunny\n</tool_response>", render.Out);
        Assert.True(ids.Code == 0, ids.Err);
        Assert.Equal(expected.Encode(BpeTokenizer.FromDirectory(Qwen3)).Ids, Assert.Single(IdLines(ids.Out)));
        Assert.Equal(2, builtIn.Code);
        Assert.Contains("field \"messages[2].tool_calls\": unknown key", builtIn.Err);
    }

    [Fact]
    public void ToolsWithABuiltInTemplateAreAClearError()
    {
        string file = Path.Combine(_dir, "tools.json");
        File.WriteAllText(file, """{"messages": [{"role": "user", "content": "weather?"}], "tools": [{"type": "function", "function": {"name": "get_weather"}}]}""");

        var (code, _, error) = CliRun.Run("tokenize", "--tokenizer", Gpt2, "--messages", file);

        Assert.Equal(2, code);
        Assert.Contains("built-in template 'chatml' cannot render tools", error);
    }

    [Theory]
    [InlineData("{\"messages\": [{\"role\": \"user\",\n  \"content\": \"hi\"]}", "line 2, column 18: invalid JSON")]
    [InlineData("{\"messages\": [{\"role\": \"user\",\n  \"content\": 5}]}", "line 2, column 14: field \"messages[0].content\": expected a string, found a number")]
    [InlineData("{\"messages\": [\n {\"role\": \"user\"}]}", "line 2, column 2: field \"messages[0]\": missing \"content\"")]
    [InlineData("{\"messages\": []}", "field \"messages\": the list is empty")]
    [InlineData("{\"turns\": []}", "line 1, column 2: field \"turns\": unknown key")]
    [InlineData("[1, 2]", "line 1, column 1: field \"(root)\": expected a JSON object")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"a\", \"tool_calls\": []}]}", "field \"messages[0].tool_calls\": unknown key")]
    public void MalformedMessagesNameLineColumnAndField(string json, string expected)
    {
        string file = Path.Combine(_dir, "bad.json");
        File.WriteAllText(file, json);

        var (code, output, error) = CliRun.Run("tokenize", "--tokenizer", Gpt2, "--messages", file);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains($"{file}: ", error);
        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData("[15496, \"x\"]", "--text: item 1 is \"x\", not a token id")]
    [InlineData("[15496, 50257]", "--text: item 1 is id 50257, which is not in the tokenizer's vocabulary; ids run from 0 to 50256")]
    [InlineData("[-1]", "item 0 is id -1, which is not in the tokenizer's vocabulary")]
    [InlineData("[1.5]", "item 0 is 1.5, not a token id")]
    [InlineData("15496", "--text: expected a JSON array of token ids")]
    [InlineData("[15496,", "--text, column 7: not a JSON array of token ids")]
    public void BadIdsForDecodeAreClearErrors(string ids, string expected)
    {
        var (code, output, error) = CliRun.Run("tokenize", "--tokenizer", Gpt2, "--decode", "--text", ids);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void BadIdsInAFileNameTheLine()
    {
        string file = Path.Combine(_dir, "ids.txt");
        File.WriteAllText(file, "[15496]\n[11]\n[995, 99999999]\n");

        var (code, _, error) = CliRun.Run("tokenize", "--tokenizer", Gpt2, "--decode", "--file", file);

        Assert.Equal(2, code);
        Assert.Contains($"{file}: line 3: item 1 is id 99999999", error);
    }

    [Theory]
    [InlineData(new[] { "--txt", "a" }, "Did you mean '--text'?")]
    [InlineData(new string[0], "give exactly one of --text TEXT, --file FILE or --messages FILE (none given)")]
    [InlineData(new[] { "--text", "a", "--file", "b" }, "(several given)")]
    [InlineData(new[] { "--text", "a", "--render" }, "apply to --messages FILE only")]
    [InlineData(new[] { "--text", "a", "--chat_template", "zephyr" }, "apply to --messages FILE only")]
    public void BadOptionsAreUsageErrors(string[] args, string expected)
    {
        var (code, _, error) = CliRun.Run(["tokenize", "--tokenizer", Gpt2, .. args]);

        Assert.Equal(2, code);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void AnUnknownTemplateNamesTheBuiltInOnes()
    {
        string file = Path.Combine(_dir, "chat.json");
        File.WriteAllText(file, """{"messages": [{"role": "user", "content": "hi"}]}""");

        var (code, _, error) = CliRun.Run("tokenize", "--tokenizer", Gpt2, "--messages", file, "--chat_template", "zephyr");

        Assert.Equal(2, code);
        Assert.Contains("chat template 'zephyr' is unknown; use auto (the tokenizer's own chat_template when it has one, else chatml)", error);
        Assert.Contains("or a built-in template: chatml, llama3, plain", error);
    }

    [Fact]
    public void AFolderWithoutATokenizerIsAClearError()
    {
        var (code, _, error) = CliRun.Run("tokenize", "--tokenizer", _dir, "--text", "hi");

        Assert.Equal(2, code);
        Assert.Contains("expected tokenizer.json (or the GPT-2 pair encoder.json + vocab.bpe)", error);
    }
}
