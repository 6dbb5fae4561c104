using System.Globalization;
using System.Text;

namespace RlhfSharp.Training.BuiltinTask;

/// <summary>Writes the data folder's README.md, with this folder's numbers filled in.</summary>
internal static class BuiltinTaskReadme
{
    public static string Write(BuiltinTaskData data, int vocabSize)
    {
        var o = data.Options;
        var sb = new StringBuilder();
        void L(string line = "") => sb.Append(line).Append('\n');
        string P(double x) => (100 * x).ToString("0.#", CultureInfo.InvariantCulture) + " %";
        string F(double x) => x.ToString("0.###", CultureInfo.InvariantCulture);

        L("# RlhfSharp built-in task");
        L();
        L("A small, fully synthetic question-answering task on which the whole RLHF pipeline (SFT, reward model,");
        L("PPO/DPO/GRPO) runs offline on a CPU in minutes, with a gold scorer that plays the human labeller, so the");
        L("improvement RLHF brings can be measured. Everything here was generated from seed " + o.Seed.ToString(CultureInfo.InvariantCulture) + "; the same options give byte-identical files.");
        L();
        L("## Skills");
        L();
        L("| skill | example prompt | answer |");
        L("|---|---|---|");
        L("| arithmetic (+ − on 0–10, × on 0–5) | What is 7 + 5? | 12 |");
        L("| reversal (120-word list) | Reverse the word cat. | tac |");
        L("| comparison (0–30) | Which is larger, 14 or 9? | 14 |");
        L("| counting | How many times does the letter a appear in banana? | 3 |");
        L("| sorting (3 numbers 0–9) | Sort these numbers: 5 2 9. | 2 5 9 |");
        L("| parity (0–99) | Is 8 even? | yes |");
        L();
        L("Four phrasings per skill. The train and held-out prompts share no prompt text. " + (data.Options.DisjointProblems
            ? "They share no underlying problem either (7 + 5 and 5 plus 7 are one problem; a held-out reversal word is never reversed in train)."
            : "A held-out prompt may ask, in other words, a problem the train prompts ask (7 + 5 and 5 plus 7 are one problem), as a pretrained model knows facts before it is aligned; `--disjoint_problems` keeps whole problems out of train."));
        L();
        L("## Responses and the gold score");
        L();
        L("A response is an optional opener, the answer sentence (\"12.\" or \"The answer is 12.\") and an optional closer.");
        L("The noisy labeller writes four styles:");
        L();
        L("| style | share | example | mean gold (sft_train) |");
        L("|---|---|---|---|");
        string[] examples =
        [
            "The answer is 12.",
            "Well, let me think about this for a moment. The answer is 12.",
            "Obviously, the answer is 12. Idiot.",
            "13. / The answer is 13. I hope this helps you. / Duh, 13.",
        ];
        foreach (var s in Enum.GetValues<ResponseStyle>())
            L($"| {BuiltinTaskStats.Name(s)} | {P(o.StyleFractions[(int)s])} | {examples[(int)s]} | {F(data.AverageGold(s))} |");
        L();
        L("A wrong answer takes the form of one of the other three styles, in their proportions, so length or tone never tells right from wrong.");
        L();
        L("Gold score (in [−2.5, 1]): `" + BuiltinTaskStats.GoldFormula + "`.");
        L("Banned words (matched as word prefixes): " + string.Join(", ", ResponsePhrases.BannedWords) + ".");
        L("The answer is read as the last number (sorting: the last list of numbers, which must be exactly the sorted list;");
        L("reversal: the last anagram of the word; parity: yes/no). Hedging is wrong: a number that is neither the answer");
        L("nor in the prompt, a second anagram, or both yes and no. Nothing earns more than a concise correct answer.");
        L();
        L("## Preferences");
        L();
        L($"Each train pair has two different responses to one train prompt, styles drawn independently from the mixture above.");
        L($"The label is Bradley–Terry noise on the gold scores: P(A chosen) = σ((gold_A − gold_B)/τ) with τ = {F(o.Tau)}.");
        L($"The labels agree with the noise-free gold preference on {P(data.MeasuredAgreement)} of the train pairs");
        L($"({P(data.ExpectedAgreement)} expected; InstructGPT's labellers agreed with each other about 73 %). Pairs with equal");
        L($"gold scores or identical texts are redrawn ({data.TiesRedrawn} redrawn). The held-out pairs are labelled by the noise-free gold preference.");
        L();
        L("## Files");
        L();
        L("| file | lines | fields |");
        L("|---|---|---|");
        L($"| {BuiltinTaskGenerator.SftTrainFileName} | {data.SftTrain.Count} | prompt, completion: one noisy demonstration per train prompt |");
        L($"| {BuiltinTaskGenerator.SftEvalFileName} | {data.SftEval.Count} | prompt, completion: the same mixture on the held-out prompts |");
        L($"| {BuiltinTaskGenerator.PrefsTrainFileName} | {data.PrefsTrain.Count} | prompt, chosen, rejected: noisy labels, on the SFT train prompts (each once) |");
        L($"| {BuiltinTaskGenerator.PrefsEvalFileName} | {data.PrefsEval.Count} | prompt, chosen, rejected: gold labels, held-out prompts |");
        L($"| {BuiltinTaskGenerator.PromptsTrainFileName} | {data.TrainPrompts.Count} | prompt, answer, skill: the train prompts, for RL, with the reference answer the gold scorer accepts |");
        L($"| {BuiltinTaskGenerator.PromptsEvalFileName} | {data.EvalPrompts.Count} | prompt, answer, skill: the held-out prompts, for evaluation |");
        L($"| {BuiltinTaskGenerator.ArithmeticTrainFileName} | {BuiltinTaskGenerator.ArithmeticOnly(data.TrainPrompts).Count} | prompt, answer, skill: the arithmetic train prompts alone, for verifiable-reward RL (`reward_funcs: [accuracy]`) |");
        L($"| {BuiltinTaskGenerator.ArithmeticEvalFileName} | {BuiltinTaskGenerator.ArithmeticOnly(data.EvalPrompts).Count} | prompt, answer, skill: the arithmetic held-out prompts |");
        L($"| {BuiltinTaskGenerator.StatsFileName} | | counts, fractions, τ, agreement, mean gold per style |");
        L($"| {BuiltinTaskGenerator.ConstitutionFileName} | | the AI labeller's principles for `rlhf label --judge constitution` (style only: it cannot check answers) |");
        L($"| {BuiltinTaskGenerator.TokenizerFolderName}/ | | tokenizer.json + tokenizer_config.json |");
        L();
        L("## Tokenizer and chat template");
        L();
        L($"Byte-level BPE with {vocabSize} tokens, digits split one by one, (target {o.TokenizerVocabSize}), trained on the train conversations rendered with");
        L($"the ChatML template: `<|im_start|>user\\n{{prompt}}<|im_end|>\\n<|im_start|>assistant\\n{{completion}}<|im_end|>\\n`.");
        L($"Special tokens: {string.Join(", ", BuiltinTaskTokenizer.SpecialTokens.Select(t => "`" + t + "`"))} (ids 0–3);");
        L($"EOS is `{BuiltinTaskTokenizer.EosToken}`, so generation stops at the end of the assistant turn; PAD is `{BuiltinTaskTokenizer.PadToken}`.");
        return sb.ToString();
    }
}
