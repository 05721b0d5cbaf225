package dev.bulkhead.router.worker;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The worker's end of the link to its router (OTP's link): when the router is gone, however it went, the worker
 * exits. Two signs, either enough: end of file on stdin, a pipe whose other end only the router holds (the kernel
 * closes it when the router dies, even by SIGKILL), and the exit of the parent pid.
 */
final class ParentWatch {

    private ParentWatch() {
    }

    /** Runs {@code onGone} once, on a watcher thread, when the parent is gone. */
    static void start(long parentPid, InputStream stdin, Runnable onGone) {
        AtomicBoolean fired = new AtomicBoolean();
        Runnable once = () -> {
            if (fired.compareAndSet(false, true)) {
                onGone.run();
            }
        };
        Thread.ofPlatform().daemon().name("bulkhead-worker-parent-pipe").start(() -> {
            try {
                byte[] sink = new byte[256];
                while (stdin.read(sink) >= 0) {
                    // NOTE: the router never writes; anything read is ignored.
                }
            } catch (IOException e) {
                // a broken pipe is the same news as its end
            }
            once.run();
        });
        ProcessHandle.of(parentPid).ifPresentOrElse(p -> p.onExit().thenRun(once), once);
    }
}
