using System.Globalization;
using System.Text.Json.Nodes;
using RlhfSharp.Models.IO;
using RlhfSharp.Models.Lora;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// <c>keep_best: true</c>: after each held-out evaluation whose eval/gold_score beats every earlier
/// one (the starting policy's included), the policy is saved to <see cref="FolderName"/> in the run
/// folder (a model folder with its tokenizer, or with LoRA the adapter alone, as <c>adapter</c>
/// beside the final model), with <see cref="InfoFile"/> naming the step and the score. Where
/// over-optimisation sets in, this is the policy to keep. A resumed run reads the best so far back.
/// </summary>
public sealed class BestGoldKeeper(TrainingSession session, CausalLM policy, TrainerInputs inputs, LoraConfig? lora, string? baseModel)
{
    public const string FolderName = "best_model", InfoFile = "best.json";

    private (long Step, double Gold)? _best = Read(Path.Combine(session.Folder.Path, FolderName, InfoFile));

    private string Folder => Path.Combine(session.Folder.Path, FolderName);

    /// <summary>Saves the policy when the evaluation at <paramref name="step"/> has the best gold score so far.</summary>
    public void Check(long step, IReadOnlyDictionary<string, double> metrics)
    {
        if (!metrics.TryGetValue("eval/gold_score", out var gold) || !double.IsFinite(gold) || (_best is { } b && gold <= b.Gold))
            return;
        _best = (step, gold);
        if (!session.IsMain)
            return;
        Directory.CreateDirectory(Folder);
        if (lora is not null)
            PeftIO.Save(policy, lora, Folder, baseModel);
        else
        {
            PretrainedIO.Save(policy, Folder);
            TrainerSetup.SaveTokenizer(inputs.Tokenizer, Folder, inputs.TokenizerDir);
        }
        AtomicFile.WriteAllText(Path.Combine(Folder, InfoFile), new JsonObject { ["step"] = step, ["eval/gold_score"] = gold }.ToJsonString());
        session.Logger.LogText(step, "best_model", string.Create(CultureInfo.InvariantCulture, $"best held-out gold score so far, {gold:F3} at step {step}: saved to {Folder}"));
    }

    /// <summary>summary.json's <c>best_model</c>: the step, gold score and folder of the best evaluation.</summary>
    public void AddSummary(JsonObject summary)
    {
        if (_best is { } b)
            summary[FolderName] = new JsonObject { ["step"] = b.Step, ["eval/gold_score"] = b.Gold, ["path"] = Folder };
    }

    private static (long, double)? Read(string path)
    {
        if (!File.Exists(path))
            return null;
        JsonObject? o = null;
        try
        {
            o = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
        }
        if (o?["step"] is JsonValue s && s.TryGetValue<long>(out var step) && o["eval/gold_score"] is JsonValue g && g.TryGetValue<double>(out var gold))
            return (step, gold);
        throw new TrainingSetupException($"{path}: not the {InfoFile} keep_best writes, an object such as {{\"step\": 10, \"eval/gold_score\": 0.5}}; delete the {FolderName} folder to start keeping afresh");
    }
}
