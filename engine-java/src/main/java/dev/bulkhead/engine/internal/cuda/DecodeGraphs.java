package dev.bulkhead.engine.internal.cuda;

import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.Handles.Graph;
import dev.bulkhead.ffi.Handles.GraphExec;
import dev.bulkhead.ffi.Handles.Stream;
import java.util.HashMap;
import java.util.Map;

/**
 * CUDA graphs of pure-decode steps, one per batch-size bucket and output (see {@link Output}), captured the
 * first time a bucket is needed and replayed after: a decode step then costs the host one graph launch instead
 * of about ten calls per layer. Buckets are vLLM's: 1, 2, 4, then every multiple of 8; a step is padded up to
 * its bucket (see {@link StepPlan#padDecode}).
 *
 * <p>Everything a graph's kernels take is fixed when it is captured: buffer addresses (all made at load), the
 * bucket's token count, the block-table stride (the pool's longest table) and the split-K partitioning (for the
 * longest context the pool holds; shorter contexts leave partitions empty). What changes from step to step is
 * read at replay from the device index buffer, which the step's upload (and, scheduled ahead, the feed of the
 * previous step's sampled ids) fills just before the launch, outside the graph: the pinned buffer it is copied
 * from alternates between steps, which a captured copy could not. A replay can never see a stale shape: a step
 * that does not fit a captured shape is simply run eagerly.
 */
final class DecodeGraphs {

    /**
     * Where a graph leaves its output: the logits or the greedy ids in the pinned output buffer, or the logits on
     * the device for the sampling kernel queued after the replay ({@code DEVICE_LOGITS}).
     */
    enum Output { LOGITS, GREEDY_IDS, DEVICE_LOGITS }

    private record Key(int bucket, Output output) {
    }

    private final Stream stream;
    private final int largest;
    private final boolean replay;
    private final Map<Key, GraphExec> graphs = new HashMap<>();
    private long replays;

    /**
     * Graphs on {@code stream} for buckets up to {@code largest} tokens; with {@code replay} false every step is
     * queued eagerly in the same padded shape instead (what a replay must equal, bit for bit).
     */
    DecodeGraphs(Stream stream, int largest, boolean replay) {
        this.stream = stream;
        this.largest = largest;
        this.replay = replay;
    }

    /** The bucket a step of {@code n} decode tokens pads to, or 0 when no graph may run it. */
    int bucket(int n) {
        int b = n <= 1 ? 1 : n <= 2 ? 2 : n <= 4 ? 4 : (n + 7) / 8 * 8;
        return b <= largest ? b : 0;
    }

    /**
     * Launches the graph of {@code bucket} and {@code output}, capturing it first (after one eager run, which
     * warms cuBLAS up outside the capture) when it does not exist yet. {@code enqueue} queues the step's
     * launch sequence; its inputs are already queued for upload.
     */
    void launch(int bucket, Output output, Runnable enqueue) {
        if (!replay) {
            enqueue.run();
            return;
        }
        Key key = new Key(bucket, output);
        GraphExec exec = graphs.get(key);
        if (exec == null) {
            enqueue.run();
            CudaDriver.streamSynchronize(stream);
            CudaDriver.streamBeginCapture(stream, CudaDriver.CAPTURE_MODE_THREAD_LOCAL);
            try {
                enqueue.run();
            } catch (RuntimeException e) {
                // NOTE: ends the capture so the stream is usable again; the queueing error is the one to report.
                try {
                    CudaDriver.graphDestroy(CudaDriver.streamEndCapture(stream));
                } catch (RuntimeException ended) {
                    e.addSuppressed(ended);
                }
                throw e;
            }
            Graph g = CudaDriver.streamEndCapture(stream);
            try {
                exec = CudaDriver.graphInstantiate(g);
            } finally {
                CudaDriver.graphDestroy(g);
            }
            graphs.put(key, exec);
        }
        CudaDriver.graphLaunch(exec, stream);
        replays++;
    }

    /** Graphs captured so far. */
    int captured() {
        return graphs.size();
    }

    /** Graph launches so far. */
    long replays() {
        return replays;
    }

    /** Destroys every graph (before the context that holds them is released). */
    void destroy() {
        for (GraphExec e : graphs.values()) {
            CudaDriver.graphExecDestroy(e);
        }
        graphs.clear();
    }
}
