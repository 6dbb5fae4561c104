using System.CommandLine;
using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.Export;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf export --model DIR --out DIR [--merge-lora [--base DIR]] [--dtype f32|f16|bf16] [--format hf|gguf] [--max-shard-size SIZE] [--force]</c>:
/// a model folder (or a LoRA adapter folded into its base) as a Hugging Face folder or one GGUF
/// file for llama.cpp.
/// </summary>
public sealed class ExportCommand : IVerb
{
    public Command CreateCommand()
    {
        var model = new Option<string>("--model")
        {
            Description = "The model folder to export; with --merge-lora, the LoRA adapter folder (e.g. RUN/adapter of a run with lora_rank > 0)",
            HelpName = "DIR",
            Required = true,
        };
        var output = new Option<string>("--out")
        {
            Description = "The folder to write (created; a non-empty folder only with --force)",
            HelpName = "DIR",
            Required = true,
        };
        var mergeLora = new Option<bool>("--merge-lora", "--merge_lora") { Description = "Fold the adapter in --model into its base model's weights (W + α/r·B·A)" };
        var baseModel = new Option<string>("--base")
        {
            Description = "The adapter's base model folder (default: the adapter's base_model_name_or_path)",
            HelpName = "DIR",
        };
        var dtype = new Option<string>("--dtype")
        {
            Description = "Weight element type: f32, f16 or bf16 (GGUF keeps norms and biases f32)",
            HelpName = "f32|f16|bf16",
            DefaultValueFactory = _ => "f32",
        };
        dtype.AcceptOnlyFromAmong("f32", "f16", "bf16");
        var format = new Option<string>("--format")
        {
            Description = "hf: config.json, model.safetensors and tokenizer files; gguf: one model.gguf for llama.cpp (Llama family)",
            HelpName = "hf|gguf",
            DefaultValueFactory = _ => "hf",
        };
        format.AcceptOnlyFromAmong("hf", "gguf");
        var shardSize = new Option<string>("--max-shard-size", "--max_shard_size")
        {
            Description = "Largest safetensors file of an HF export; a larger model is split into shards with an index (e.g. 2GB, 500MB)",
            HelpName = "SIZE",
            DefaultValueFactory = _ => "2GB",
        };
        var force = new Option<bool>("--force") { Description = "Replace the contents of a non-empty --out" };
        var command = new Command("export", "Write a model (or a LoRA adapter merged into its base) as a Hugging Face folder or a GGUF file")
        {
            model,
            output,
            mergeLora,
            baseModel,
            dtype,
            format,
            shardSize,
            force,
        };
        command.SetAction(parseResult =>
        {
            var options = new ExportOptions
            {
                Model = parseResult.GetValue(model)!,
                Out = parseResult.GetValue(output)!,
                MergeLora = parseResult.GetValue(mergeLora),
                BaseModel = parseResult.GetValue(baseModel),
                DType = parseResult.GetValue(dtype) switch
                {
                    "f16" => ExportDType.F16,
                    "bf16" => ExportDType.BF16,
                    _ => ExportDType.F32,
                },
                Format = parseResult.GetValue(format) == "gguf" ? ExportFormat.Gguf : ExportFormat.Hf,
                Force = parseResult.GetValue(force),
                MaxShardBytes = ShardSize.Parse(parseResult.GetValue(shardSize)!, "--max-shard-size"),
            };
            var files = ModelExporter.Export(options);
            var writer = parseResult.InvocationConfiguration.Output;
            foreach (var f in files)
                writer.WriteLine($"wrote {f}");
            return ExitCodes.Success;
        });
        return command;
    }
}
