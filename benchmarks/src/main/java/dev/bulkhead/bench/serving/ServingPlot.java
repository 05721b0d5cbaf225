package dev.bulkhead.bench.serving;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * PNG plots of serving runs, drawn headless with JFreeChart: per run, the CDFs of TTFT, TPOT and ITL and each
 * request's TTFT and end-to-end latency against its arrival time (queueing shows as a rising line); across
 * runs, the TTFT and ITL CDFs of every rate overlaid.
 */
public final class ServingPlot {

    private static final int PANEL_WIDTH = 800;
    private static final int PANEL_HEIGHT = 560;

    private ServingPlot() {
    }

    /** One labelled replay to plot. */
    public record Run(String label, TraceReplayer.Result result) {
    }

    /** Writes the four-panel plot of one run to {@code png}. */
    public static void writeRun(Path png, String title, TraceReplayer.Result result) {
        List<RequestTiming> ok = result.requests().stream().filter(RequestTiming::succeeded).toList();
        List<Run> one = List.of(new Run(title, result));
        JFreeChart ttft = cdf(title + ": TTFT", "TTFT (ms)", one, RequestTiming::ttftMillis);
        JFreeChart tpot = cdf(title + ": TPOT", "TPOT (ms)", one, RequestTiming::tpotMillis);
        JFreeChart itl = cdfOf(title + ": ITL", "inter-token latency (ms)", one);
        XYSeries ttftByArrival = new XYSeries("TTFT");
        XYSeries e2eByArrival = new XYSeries("end-to-end");
        for (RequestTiming r : ok) {
            double arrival = (r.scheduledNanos() - result.startNanos()) / 1e9;
            ttftByArrival.add(arrival, r.ttftMillis());
            e2eByArrival.add(arrival, r.e2eMillis());
        }
        XYSeriesCollection timeline = new XYSeriesCollection();
        timeline.addSeries(ttftByArrival);
        timeline.addSeries(e2eByArrival);
        JFreeChart overTime = ChartFactory.createScatterPlot(title + ": latency by arrival", "arrival (s)",
                "latency (ms)", timeline, PlotOrientation.VERTICAL, true, false, false);
        overTime.getXYPlot().setBackgroundPaint(Color.WHITE);
        overTime.getXYPlot().setDomainGridlinePaint(Color.LIGHT_GRAY);
        overTime.getXYPlot().setRangeGridlinePaint(Color.LIGHT_GRAY);
        write(png, 2, ttft, tpot, itl, overTime);
    }

    /** Writes TTFT and ITL CDFs of several runs (one line per run) side by side to {@code png}. */
    public static void writeComparison(Path png, String title, List<Run> runs) {
        JFreeChart ttft = cdf(title + ": TTFT by request rate", "TTFT (ms)", runs, RequestTiming::ttftMillis);
        JFreeChart itl = cdfOf(title + ": ITL by request rate", "inter-token latency (ms)", runs);
        write(png, 2, ttft, itl);
    }

    private static JFreeChart cdf(String title, String xLabel, List<Run> runs, Function<RequestTiming, Double> metric) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Run run : runs) {
            double[] values = run.result().requests().stream().filter(RequestTiming::succeeded).map(metric)
                    .mapToDouble(Double::doubleValue).filter(v -> !Double.isNaN(v)).toArray();
            data.addSeries(cdfSeries(run.label(), values));
        }
        return lineChart(title, xLabel, data);
    }

    private static JFreeChart cdfOf(String title, String xLabel, List<Run> runs) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Run run : runs) {
            double[] values = run.result().requests().stream().filter(RequestTiming::succeeded)
                    .flatMapToDouble(r -> Arrays.stream(r.itlMillis())).toArray();
            data.addSeries(cdfSeries(run.label(), values));
        }
        return lineChart(title, xLabel, data);
    }

    /** The empirical CDF of {@code values}: the i-th smallest value at height (i + 1) / n. */
    static XYSeries cdfSeries(String key, double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        XYSeries s = new XYSeries(key, true, true);
        // NOTE: thousands of ITL points would make a heavy PNG and an unreadable line; 400 quantiles suffice.
        int step = Math.max(1, sorted.length / 400);
        for (int i = 0; i < sorted.length; i += step) {
            s.add(sorted[i], (i + 1.0) / sorted.length);
        }
        if (sorted.length > 0) {
            s.addOrUpdate(sorted[sorted.length - 1], 1.0);
        }
        return s;
    }

    private static JFreeChart lineChart(String title, String xLabel, XYSeriesCollection data) {
        JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, "fraction of samples", data,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setRenderer(new XYLineAndShapeRenderer(true, false));
        // NOTE: latencies span orders of magnitude (a 17 ms decode step, a 1 s step that carries a prefill
        // chunk), so the x axis is logarithmic whenever every value allows it.
        if (data.getSeriesCount() > 0 && data.getDomainLowerBound(false) > 0) {
            LogarithmicAxis x = new LogarithmicAxis(xLabel + ", log scale");
            x.setStrictValuesFlag(false);
            plot.setDomainAxis(x);
        }
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        return chart;
    }

    private static void write(Path png, int columns, JFreeChart... charts) {
        int rows = (charts.length + columns - 1) / columns;
        BufferedImage image = new BufferedImage(columns * PANEL_WIDTH, rows * PANEL_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            for (int i = 0; i < charts.length; i++) {
                charts[i].draw(g, new Rectangle2D.Double((i % columns) * PANEL_WIDTH, (i / columns) * PANEL_HEIGHT,
                        PANEL_WIDTH, PANEL_HEIGHT));
            }
        } finally {
            g.dispose();
        }
        try {
            if (png.toAbsolutePath().getParent() != null) {
                Files.createDirectories(png.toAbsolutePath().getParent());
            }
            try (OutputStream out = Files.newOutputStream(png)) {
                ChartUtils.writeBufferedImageAsPNG(out, image);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the plot " + png + ": " + e.getMessage(), e);
        }
    }

    /** A rate as it appears in labels and file names: 0.5, 1, 2, inf. */
    public static String rateLabel(double rate) {
        if (Double.isInfinite(rate)) {
            return "inf";
        }
        return rate == Math.rint(rate) ? String.valueOf((long) rate) : String.format(Locale.ROOT, "%s", rate);
    }
}
