using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Models.IO;

namespace RlhfSharp.Models.Config;

public sealed partial record ModelConfig
{
    /// <summary>
    /// The config as Hugging Face writes it for this family, starting from the JSON it was read
    /// from (so unknown keys survive) and overwriting the keys this project owns.
    /// </summary>
    public JsonObject ToJson()
    {
        var o = Raw?.DeepClone().AsObject() ?? new JsonObject();
        o["model_type"] = ModelType;
        o["vocab_size"] = VocabSize;
        if (Family == ModelFamily.Gpt2)
        {
            o["n_embd"] = HiddenSize;
            o["n_layer"] = NumLayers;
            o["n_head"] = NumHeads;
            o["n_inner"] = IntermediateSize;
            o["n_positions"] = MaxPositions;
            o["n_ctx"] = MaxPositions;
            o["layer_norm_epsilon"] = NormEps;
            o["activation_function"] = HiddenAct;
        }
        else
        {
            o["hidden_size"] = HiddenSize;
            o["num_hidden_layers"] = NumLayers;
            o["num_attention_heads"] = NumHeads;
            o["num_key_value_heads"] = NumKeyValueHeads;
            o["intermediate_size"] = IntermediateSize;
            o["max_position_embeddings"] = MaxPositions;
            o["rms_norm_eps"] = NormEps;
            o["rope_theta"] = RopeTheta;
            o["attention_bias"] = AttentionBias;
            o["mlp_bias"] = MlpBias;
            o["hidden_act"] = HiddenAct;
        }
        o["tie_word_embeddings"] = TieWordEmbeddings;
        SetOrRemove(o, "bos_token_id", BosTokenId);
        SetOrRemove(o, "eos_token_id", EosTokenId);
        SetOrRemove(o, "pad_token_id", PadTokenId);
        if (NumLabels is int labels)
        {
            o["num_labels"] = labels;
            var id2label = new JsonObject();
            var label2id = new JsonObject();
            for (int i = 0; i < labels; i++)
            {
                id2label[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = $"LABEL_{i}";
                label2id[$"LABEL_{i}"] = i;
            }
            o["id2label"] = id2label;
            o["label2id"] = label2id;
        }
        if (Architectures.Count > 0)
            o["architectures"] = new JsonArray(Architectures.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray());
        o["torch_dtype"] ??= "float32";
        return o;
    }

    private static void SetOrRemove(JsonObject o, string key, int? value)
    {
        if (value is int v)
            o[key] = v;
        else
            o.Remove(key);
    }

    /// <summary>Writes config.json atomically.</summary>
    public void Save(string path) =>
        AtomicFile.WriteAllText(path, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
}
