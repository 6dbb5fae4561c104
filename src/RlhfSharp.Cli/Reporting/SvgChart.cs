using System.Globalization;
using System.Text;

namespace RlhfSharp.Cli.Reporting;

/// <summary>
/// A line chart as inline SVG, with no script and no external resource: a legend (each series'
/// colour, name and latest value), a main panel and an optional lower panel that share the step
/// axis, each with its own value axis, ticks at 1-2-5 steps and grid lines. Non-finite values
/// break a line; series with few points also get a dot per point. The output depends only on the
/// data (fixed layout, invariant culture), so the same data always gives the same bytes.
/// </summary>
internal static class SvgChart
{
    private const double Width = 600, Left = 64, Right = 16, MainHeight = 190, LowerHeight = 70, PanelGap = 22, AxisHeight = 36;
    private const double LegendRow = 17, CharWidth = 6.8, SwatchWidth = 22;
    private const int MarkerLimit = 40;

    /// <summary>Fixed colours, chosen to stay apart for colour-blind readers (Okabe–Ito and Tableau).</summary>
    private static readonly string[] Palette = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#7f7f7f", "#8c564b"];

    /// <param name="title">Read by screen readers (SVG &lt;title&gt;).</param>
    /// <param name="main">Series of the main panel.</param>
    /// <param name="lower">Series of the lower panel (empty: no lower panel).</param>
    public static string Render(string title, IReadOnlyList<MetricSeries> main, IReadOnlyList<MetricSeries> lower)
    {
        var all = main.Concat(lower).ToList();
        var legend = LegendLayout(main, lower);
        double legendHeight = (legend.Count == 0 ? 0 : legend[^1].Row + 1) * LegendRow;
        double mainTop = legendHeight + 14;
        double lowerTop = mainTop + MainHeight + PanelGap;
        double bottom = lower.Count > 0 ? lowerTop + LowerHeight : mainTop + MainHeight;
        double height = bottom + AxisHeight;
        double plotRight = Width - Right;

        var steps = all.SelectMany(s => s.Points).Select(p => (double)p.Step).ToList();
        var x = Axis.ForSteps(steps.Count == 0 ? 0 : steps.Min(), steps.Count == 0 ? 1 : steps.Max());
        double X(double step) => Left + ((step - x.Low) / (x.High - x.Low) * (plotRight - Left));

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Html.Coord(Width)} {Html.Coord(height)}\" width=\"{Html.Coord(Width)}\" height=\"{Html.Coord(height)}\" role=\"img\">");
        svg.Append("<title>").Append(Html.Escape(title)).Append("</title>");

        foreach (var item in legend)
        {
            double ly = 4 + (item.Row * LegendRow);
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"legend-item\"><line x1=\"{Html.Coord(item.X)}\" y1=\"{Html.Coord(ly + 8)}\" x2=\"{Html.Coord(item.X + 16)}\" y2=\"{Html.Coord(ly + 8)}\" stroke=\"{item.Color}\" stroke-width=\"3\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Html.Coord(item.X + SwatchWidth)}\" y=\"{Html.Coord(ly + 12)}\">{Html.Escape(item.Label)}</text></g>");
        }

        int colour = 0;
        Panel(svg, main, mainTop, MainHeight, X, x, plotRight, ref colour, showStepLabels: lower.Count == 0);
        if (lower.Count > 0)
            Panel(svg, lower, lowerTop, LowerHeight, X, x, plotRight, ref colour, showStepLabels: true);
        svg.Append(CultureInfo.InvariantCulture, $"<text class=\"axis-label\" x=\"{Html.Coord((Left + plotRight) / 2)}\" y=\"{Html.Coord(height - 4)}\" text-anchor=\"middle\">step</text>");
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void Panel(StringBuilder svg, IReadOnlyList<MetricSeries> series, double top, double panelHeight, Func<double, double> xOf, Axis x,
        double plotRight, ref int colour, bool showStepLabels)
    {
        double bottom = top + panelHeight;
        var values = series.SelectMany(s => s.Points).Select(p => p.Value).Where(double.IsFinite).ToList();
        var y = values.Count == 0 ? Axis.ForValues(0, 1, 3) : Axis.ForValues(values.Min(), values.Max(), panelHeight < 100 ? 3 : 5);
        double Y(double v) => bottom - ((v - y.Low) / (y.High - y.Low) * panelHeight);

        svg.Append("<g class=\"panel\">");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Html.Coord(Left)}\" y=\"{Html.Coord(top)}\" width=\"{Html.Coord(plotRight - Left)}\" height=\"{Html.Coord(panelHeight)}\" fill=\"#fff\" stroke=\"#999\"/>");
        foreach (var tick in y.Ticks)
        {
            double ty = Y(tick);
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Html.Coord(Left)}\" y1=\"{Html.Coord(ty)}\" x2=\"{Html.Coord(plotRight)}\" y2=\"{Html.Coord(ty)}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"tick\" x=\"{Html.Coord(Left - 6)}\" y=\"{Html.Coord(ty + 4)}\" text-anchor=\"end\">{y.Label(tick)}</text>");
        }
        foreach (var tick in x.Ticks)
        {
            double tx = xOf(tick);
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Html.Coord(tx)}\" y1=\"{Html.Coord(top)}\" x2=\"{Html.Coord(tx)}\" y2=\"{Html.Coord(bottom)}\"/>");
            if (showStepLabels)
                svg.Append(CultureInfo.InvariantCulture, $"<text class=\"tick\" x=\"{Html.Coord(tx)}\" y=\"{Html.Coord(bottom + 15)}\" text-anchor=\"middle\">{x.Label(tick)}</text>");
        }
        if (values.Count == 0)
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"empty\" x=\"{Html.Coord((Left + plotRight) / 2)}\" y=\"{Html.Coord(top + (panelHeight / 2))}\" text-anchor=\"middle\">no finite values yet</text>");

        foreach (var s in series)
        {
            string color = Palette[colour++ % Palette.Length];
            var points = s.Points.OrderBy(p => p.Step).ToList(); // stable: points logged at one step keep their order
            var d = new StringBuilder();
            bool pen = false;
            foreach (var (step, value) in points)
            {
                if (!double.IsFinite(value))
                {
                    pen = false; // a gap
                    continue;
                }
                d.Append(pen ? " L" : (d.Length == 0 ? "M" : " M")).Append(Html.Coord(xOf(step))).Append(' ').Append(Html.Coord(Y(value)));
                pen = true;
            }
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"series\" data-metric=\"{Html.Escape(s.Name)}\">");
            if (d.Length > 0)
                svg.Append(CultureInfo.InvariantCulture, $"<path d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-linejoin=\"round\"/>");
            if (points.Count <= MarkerLimit)
            {
                foreach (var (step, value) in points.Where(p => double.IsFinite(p.Value)))
                    svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{Html.Coord(xOf(step))}\" cy=\"{Html.Coord(Y(value))}\" r=\"2.5\" fill=\"{color}\"/>");
            }
            svg.Append("</g>");
        }
        svg.Append("</g>");
    }

    private sealed record LegendItem(string Label, string Color, double X, int Row);

    // Legend entries left to right, wrapping to a new row when the next one would not fit.
    private static List<LegendItem> LegendLayout(IReadOnlyList<MetricSeries> main, IReadOnlyList<MetricSeries> lower)
    {
        var items = new List<LegendItem>();
        double pos = Left;
        int row = 0, colour = 0;
        foreach (var (s, isLower) in main.Select(s => (s, false)).Concat(lower.Select(s => (s, true))))
        {
            var (step, value) = s.Latest;
            string label = $"{s.Name}{(isLower ? " (below)" : "")}: {Html.Value(value)} @ {Html.Int(step)}";
            double width = SwatchWidth + (label.Length * CharWidth) + 14;
            if (pos + width > Width - Right && pos > Left)
            {
                row++;
                pos = Left;
            }
            items.Add(new LegendItem(label, Palette[colour++ % Palette.Length], pos, row));
            pos += width;
        }
        return items;
    }

    /// <summary>An axis range widened to whole ticks, with ticks at 1, 2 or 5 times a power of ten.</summary>
    internal sealed record Axis(double Low, double High, double Step, bool Integers)
    {
        public IEnumerable<double> Ticks
        {
            get
            {
                long n = (long)Math.Round((High - Low) / Step);
                for (long i = 0; i <= n; i++)
                    yield return Low + (i * Step);
            }
        }

        public static Axis ForSteps(double min, double max)
        {
            if (max <= min)
                max = min + 1;
            double step = Math.Max(1, NiceStep((max - min) / 6));
            return new Axis(Math.Floor(min / step) * step, Math.Ceiling(max / step) * step, step, Integers: true);
        }

        public static Axis ForValues(double min, double max, int ticks)
        {
            if (max <= min)
            {
                double pad = min == 0 ? 1 : Math.Abs(min) * 0.1;
                min -= pad;
                max += pad;
            }
            double step = NiceStep((max - min) / (ticks - 1));
            return new Axis(Math.Floor(min / step) * step, Math.Ceiling(max / step) * step, step, Integers: false);
        }

        public string Label(double v)
        {
            if (Math.Abs(v) < Step * 1e-9)
                v = 0; // no "-0"
            if (Integers || Step >= 1)
                return Math.Abs(v) >= 1e7 ? v.ToString("G3", CultureInfo.InvariantCulture) : v.ToString("F0", CultureInfo.InvariantCulture);
            int decimals = (int)Math.Ceiling(-Math.Log10(Step) - 1e-9);
            return decimals > 6 ? v.ToString("G3", CultureInfo.InvariantCulture) : v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        }

        // 1, 2 or 5 × 10^k, the smallest such at least `raw`.
        private static double NiceStep(double raw)
        {
            if (!(raw > 0) || !double.IsFinite(raw))
                return 1;
            double power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
            double fraction = raw / power;
            double nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
            return nice * power;
        }
    }
}
