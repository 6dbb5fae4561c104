using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Cli.Reporting;

/// <summary>One held-out evaluation of an RL stage: √KL to the reference, the proxy reward (eval/score) and the gold score.</summary>
public sealed record OverOptimisationPoint(long Step, double SqrtKl, double Proxy, double Gold);

/// <summary>
/// An RL stage's over-optimisation curve (Gao et al. 2022, "Scaling Laws for Reward Model
/// Overoptimization", fig. 1): the gold score (left axis) and the proxy reward (right axis) of each
/// held-out evaluation against d = √KL(π‖π_ref), one point per evaluation joined in step order, a
/// dashed line where gold peaked and a sentence saying where; and the banner of the reward-hacking
/// alarm when it fired. Inline SVG with no script; the same data gives the same bytes.
/// </summary>
public static class OverOptimisationChart
{
    public const string SqrtKl = "eval/sqrt_kl", Proxy = "eval/score", Gold = "eval/gold_score";

    private const double Width = 600, Left = 64, Right = 64, Top = 30, PlotHeight = 210, AxisHeight = 40;
    private const string GoldColor = "#009e73", ProxyColor = "#d55e00";

    /// <summary>The evaluations that logged √KL, proxy and gold at one step, in step order (finite values only).</summary>
    public static List<OverOptimisationPoint> Points(StageMetrics metrics)
    {
        if (!metrics.TryGet(SqrtKl, out var kl) || !metrics.TryGet(Proxy, out var proxy) || !metrics.TryGet(Gold, out var gold))
            return [];
        var proxyAt = Last(proxy);
        var goldAt = Last(gold);
        return [.. Last(kl).OrderBy(p => p.Key)
            .Where(p => proxyAt.ContainsKey(p.Key) && goldAt.ContainsKey(p.Key))
            .Select(p => new OverOptimisationPoint(p.Key, p.Value, proxyAt[p.Key], goldAt[p.Key]))
            .Where(p => double.IsFinite(p.SqrtKl) && double.IsFinite(p.Proxy) && double.IsFinite(p.Gold))];
    }

    /// <summary>The evaluation with the highest gold score (the earliest of equals).</summary>
    public static OverOptimisationPoint Peak(IReadOnlyList<OverOptimisationPoint> points) =>
        points.Aggregate((best, p) => p.Gold > best.Gold ? p : best);

    /// <summary>
    /// The alarm's sentence when the reward-hacking alarm fired in this stage: its text-log line
    /// (live runs), else summary.json's <c>reward_hacking</c>, else the first step that logged the metric; null when it did not fire.
    /// </summary>
    public static string? Alarm(StageRun stage)
    {
        if (stage.TextLog.FirstOrDefault(e => e.Tag == RewardHackingWatch.Tag && e.Text.StartsWith("reward hacking at", StringComparison.Ordinal)) is { } entry)
            return entry.Text;
        if (stage.Summary?[RewardHackingWatch.Tag] is JsonObject s && Num(s["step"]) is { } step)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"reward hacking at step {step:F0}: the proxy reward changed by {Num(s["proxy_change"]) ?? double.NaN:+0.000;-0.000} while the gold score changed by {Num(s["gold_change"]) ?? double.NaN:+0.000;-0.000}");
        }
        if (stage.Metrics.TryGet(RewardHackingWatch.Metric, out var metric) && metric.Points.FirstOrDefault(p => p.Value > 0) is { Step: var at, Value: > 0 })
            return $"reward hacking at step {Html.Int(at)}";
        return null;
    }

    /// <summary>The alarm banner of one stage, when the alarm fired.</summary>
    public static void AppendAlarm(StringBuilder sb, StageRun stage, string id)
    {
        if (Alarm(stage) is { } alarm)
        {
            sb.Append("<div class=\"alarm\" role=\"alert\" id=\"alarm-").Append(id).Append("\"><strong>Reward-hacking alarm.</strong> ").Append(Html.Escape(alarm))
                .Append(". The policy is raising the reward it is trained on while the gold score falls: see the over-optimisation curve.</div>\n");
        }
    }

    /// <summary>The curve of one stage, when it logged √KL, proxy and gold at some evaluation.</summary>
    public static void AppendCurve(StringBuilder sb, StageRun stage, string id)
    {
        var points = Points(stage.Metrics);
        if (points.Count == 0)
            return;
        var peak = Peak(points);
        var last = points[^1];
        sb.Append("<figure id=\"chart-").Append(id).Append("-overoptimisation\"><figcaption>Over-optimisation: gold score and proxy reward vs √KL to the reference</figcaption>");
        sb.Append(Svg(points, peak));
        sb.Append("<p class=\"peak\">").Append(Html.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Gold peaked at √KL {peak.SqrtKl:F2} (step {peak.Step}): gold {peak.Gold:F3}, proxy {peak.Proxy:F3}; latest (step {last.Step}, √KL {last.SqrtKl:F2}): gold {last.Gold:F3}, proxy {last.Proxy:F3}.")))
            .Append("</p></figure>\n");
    }

    private static string Svg(IReadOnlyList<OverOptimisationPoint> points, OverOptimisationPoint peak)
    {
        double plotRight = Width - Right, bottom = Top + PlotHeight, height = bottom + AxisHeight;
        var x = SvgChart.Axis.ForValues(Math.Min(0, points.Min(p => p.SqrtKl)), points.Max(p => p.SqrtKl), 6);
        var gold = SvgChart.Axis.ForValues(points.Min(p => p.Gold), points.Max(p => p.Gold), 5);
        var proxy = SvgChart.Axis.ForValues(points.Min(p => p.Proxy), points.Max(p => p.Proxy), 5);
        double X(double v) => Left + ((v - x.Low) / (x.High - x.Low) * (plotRight - Left));
        static double Y(SvgChart.Axis a, double v) => Top + PlotHeight - ((v - a.Low) / (a.High - a.Low) * PlotHeight);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Html.Coord(Width)} {Html.Coord(height)}\" width=\"{Html.Coord(Width)}\" height=\"{Html.Coord(height)}\" role=\"img\">");
        svg.Append("<title>Gold score and proxy reward against the square root of the KL to the reference</title>");
        Legend(svg, 4, GoldColor, $"{Gold} (left axis)");
        Legend(svg, 300, ProxyColor, $"{Proxy}, the proxy (right axis)");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Html.Coord(Left)}\" y=\"{Html.Coord(Top)}\" width=\"{Html.Coord(plotRight - Left)}\" height=\"{Html.Coord(PlotHeight)}\" fill=\"#fff\" stroke=\"#999\"/>");
        foreach (var t in x.Ticks)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Html.Coord(X(t))}\" y1=\"{Html.Coord(Top)}\" x2=\"{Html.Coord(X(t))}\" y2=\"{Html.Coord(bottom)}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"tick\" x=\"{Html.Coord(X(t))}\" y=\"{Html.Coord(bottom + 15)}\" text-anchor=\"middle\">{x.Label(t)}</text>");
        }
        foreach (var t in gold.Ticks)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Html.Coord(Left)}\" y1=\"{Html.Coord(Y(gold, t))}\" x2=\"{Html.Coord(plotRight)}\" y2=\"{Html.Coord(Y(gold, t))}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"tick\" x=\"{Html.Coord(Left - 6)}\" y=\"{Html.Coord(Y(gold, t) + 4)}\" text-anchor=\"end\" fill=\"{GoldColor}\">{gold.Label(t)}</text>");
        }
        foreach (var t in proxy.Ticks)
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"tick\" x=\"{Html.Coord(plotRight + 6)}\" y=\"{Html.Coord(Y(proxy, t) + 4)}\" text-anchor=\"start\" fill=\"{ProxyColor}\">{proxy.Label(t)}</text>");
        double px = X(peak.SqrtKl);
        svg.Append(CultureInfo.InvariantCulture, $"<line class=\"peak\" x1=\"{Html.Coord(px)}\" y1=\"{Html.Coord(Top)}\" x2=\"{Html.Coord(px)}\" y2=\"{Html.Coord(bottom)}\" stroke=\"{GoldColor}\" stroke-dasharray=\"4 3\"/>");
        Series(svg, Gold, GoldColor, points, p => X(p.SqrtKl), p => Y(gold, p.Gold));
        Series(svg, Proxy, ProxyColor, points, p => X(p.SqrtKl), p => Y(proxy, p.Proxy));
        svg.Append(CultureInfo.InvariantCulture, $"<text class=\"axis-label\" x=\"{Html.Coord((Left + plotRight) / 2)}\" y=\"{Html.Coord(height - 4)}\" text-anchor=\"middle\">√KL to the reference (eval/sqrt_kl)</text>");
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void Legend(StringBuilder svg, double at, string color, string label)
    {
        double lx = Left + at - 4;
        svg.Append(CultureInfo.InvariantCulture, $"<g class=\"legend-item\"><line x1=\"{Html.Coord(lx)}\" y1=\"12\" x2=\"{Html.Coord(lx + 16)}\" y2=\"12\" stroke=\"{color}\" stroke-width=\"3\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Html.Coord(lx + 22)}\" y=\"16\">{Html.Escape(label)}</text></g>");
    }

    // One series joined in step order, a dot per evaluation with its step as a tooltip.
    private static void Series(StringBuilder svg, string name, string color, IReadOnlyList<OverOptimisationPoint> points,
        Func<OverOptimisationPoint, double> x, Func<OverOptimisationPoint, double> y)
    {
        svg.Append(CultureInfo.InvariantCulture, $"<g class=\"series\" data-metric=\"{Html.Escape(name)}\">");
        var d = string.Join(" L", points.Select(p => Html.Coord(x(p)) + " " + Html.Coord(y(p))));
        svg.Append(CultureInfo.InvariantCulture, $"<path d=\"M{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-linejoin=\"round\"/>");
        foreach (var p in points)
            svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{Html.Coord(x(p))}\" cy=\"{Html.Coord(y(p))}\" r=\"3\" fill=\"{color}\"><title>step {Html.Int(p.Step)}</title></circle>");
        svg.Append("</g>");
    }

    // The last value logged at each step.
    private static Dictionary<long, double> Last(MetricSeries series)
    {
        var at = new Dictionary<long, double>();
        foreach (var (step, value) in series.Points)
            at[step] = value;
        return at;
    }

    private static double? Num(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;
}
