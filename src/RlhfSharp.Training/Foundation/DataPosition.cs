using System.Text.Json;
using RlhfSharp.Training.Checkpointing;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Foundation;

/// <summary>A data loader's position in a checkpoint, so a resumed run reads the same examples next.</summary>
public static class DataPosition
{
    /// <summary>Stores <paramref name="loader"/>'s position under <paramref name="key"/>.</summary>
    public static void SetPosition<T>(this TrainerState state, DataLoader<T> loader, string key = "data") =>
        state.Set(key, JsonSerializer.Serialize(loader.GetState()));

    /// <summary>Moves <paramref name="loader"/> to the position stored under <paramref name="key"/>.</summary>
    public static void RestorePosition<T>(this TrainerState state, DataLoader<T> loader, string key = "data") =>
        loader.SetState(JsonSerializer.Deserialize<DataLoaderState>(state.GetString(key))!);
}
