package dev.bulkhead.bench.serving;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** A {@link ThroughputReport} as a PNG: tok/s (decode and total) against concurrency, both axes logarithmic. */
public final class ThroughputPlot {

    private ThroughputPlot() {
    }

    /** Writes the best run of each level, and the ideal of linear scaling from the lowest level. */
    public static void write(ThroughputReport report, Path file, String title) {
        XYSeries decode = new XYSeries("decode-only aggregate tok/s");
        XYSeries total = new XYSeries("total aggregate tok/s (prefill included)");
        XYSeries linear = new XYSeries("ideal (c x single-request decode)");
        int lowest = report.levels().getFirst();
        double single = report.best(lowest).decodeTokensPerSecond() / lowest;
        for (int c : report.levels()) {
            ThroughputRun b = report.best(c);
            if (!Double.isNaN(b.decodeTokensPerSecond())) {
                decode.add(c, b.decodeTokensPerSecond());
            }
            total.add(c, b.totalTokensPerSecond());
            linear.add(c, single * c);
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(decode);
        data.addSeries(total);
        data.addSeries(linear);
        JFreeChart chart = ChartFactory.createXYLineChart(title, "concurrent requests", "tokens / s", data,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setRenderer(new XYLineAndShapeRenderer(true, true));
        plot.setDomainAxis(logAxis("concurrent requests"));
        plot.setRangeAxis(logAxis("tokens / s"));
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        try {
            if (file.toAbsolutePath().getParent() != null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
            }
            ChartUtils.saveChartAsPNG(file.toFile(), chart, 900, 600);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** A log axis labelled 1, 10, 100 rather than 10^x. */
    private static LogarithmicAxis logAxis(String label) {
        LogarithmicAxis axis = new LogarithmicAxis(label);
        axis.setStrictValuesFlag(false);
        axis.setAutoRangeNextLogFlag(true);
        return axis;
    }
}
