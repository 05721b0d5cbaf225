package dev.bulkhead.server.http;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataWriter;
import io.helidon.common.socket.SocketWriterException;
import io.helidon.webserver.ServerConnectionException;
import java.io.UncheckedIOException;

/**
 * A connection's Helidon {@code DataWriter}: writes to the socket on the calling thread, telling the
 * {@link ConnectionGuard} while a write blocks, so a client that stops reading (its window full) is dropped after
 * the stream-stall timeout; the response's {@link ResponseBodyFilter}, when there is one, drops a HEAD answer's
 * body or strips chunked framing for an HTTP/1.0 client.
 */
final class GuardedWriter implements DataWriter {

    private final DataWriter socket;
    private final ConnectionGuard guard;
    private final Exchange exchange;

    GuardedWriter(DataWriter socket, ConnectionGuard guard, Exchange exchange) {
        this.socket = socket;
        this.guard = guard;
        this.exchange = exchange;
    }

    @Override
    public void write(BufferData... buffers) {
        write(BufferData.create(buffers));
    }

    @Override
    public void write(BufferData buffer) {
        send(filtered(buffer), false);
    }

    @Override
    public void writeNow(BufferData... buffers) {
        writeNow(BufferData.create(buffers));
    }

    @Override
    public void writeNow(BufferData buffer) {
        send(filtered(buffer), true);
    }

    @Override
    public void flush() {
        socket.flush();
    }

    @Override
    public void close() {
        socket.close();
    }

    private BufferData filtered(BufferData buffer) {
        ResponseBodyFilter filter = exchange.bodyFilter;
        return filter == null ? buffer : BufferData.create(filter.apply(buffer.readBytes()));
    }

    private void send(BufferData buffer, boolean now) {
        if (buffer.available() == 0) {
            return;
        }
        guard.writeBlocked(System.nanoTime());
        try {
            if (now) {
                socket.writeNow(buffer);
            } else {
                socket.write(buffer);
            }
        } catch (UncheckedIOException | SocketWriterException e) {
            ConnectionGuard.Reason reason = guard.closedFor();
            if (reason == null) {
                throw e;
            }
            throw new ServerConnectionException(reason.message, e);
        } finally {
            guard.writeDone();
        }
    }
}
