package dev.bulkhead.server.http;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Linux's {@code NETLINK_SOCK_DIAG} (what {@code ss} uses), through FFM: the kernel looks up one TCP connection by
 * its endpoints and answers its state, so asking costs one round trip per watched connection however many other
 * connections the host has ({@code /proc/net/tcp} prints every one of them on each read).
 *
 * <p>An exact lookup ({@code SOCK_DIAG_BY_FAMILY} without {@code NLM_F_DUMP}) falls back to the listening socket of
 * the port once the connection is gone, so an answer whose remote port is not the one asked for means gone; and once
 * a connection has been seen, its cookie (the kernel's id for that socket) is sent along, which the kernel answers
 * with {@code ENOENT} when that socket no longer exists. One instance is used by one thread at a time.
 */
final class SockDiag implements AutoCloseable {

    /** The kernel's answer about one connection. */
    sealed interface Answer {
        /** The connection exists, in {@code state}; pass {@code cookie} to later lookups. */
        record Found(TcpConnectionTable.State state, long cookie) implements Answer {
        }

        /** No such connection (any more). */
        record Gone() implements Answer {
        }

        /** The kernel could not be asked; nothing is known. */
        record Unknown(String why) implements Answer {
        }
    }

    /** Sent as the cookie of a connection not seen yet: any socket with these endpoints. */
    static final long NO_COOKIE = -1L;

    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int AF_NETLINK = 16;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int NETLINK_SOCK_DIAG = 4;
    private static final byte IPPROTO_TCP = 6;
    private static final short SOCK_DIAG_BY_FAMILY = 20;
    private static final short NLM_F_REQUEST = 1;
    private static final short NLMSG_ERROR = 2;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int ENOENT = 2;
    private static final int ALL_STATES = -1;
    // struct nlmsghdr (16 bytes) + struct inet_diag_req_v2 (56 bytes: family, protocol, ext, pad, states,
    // inet_diag_sockid {sport, dport, src[4], dst[4], if, cookie[2]}).
    private static final int HEADER_BYTES = 16;
    private static final int REQUEST_BYTES = HEADER_BYTES + 56;
    // Offsets of inet_diag_msg's fields in a reply, after its nlmsghdr: family, state, timer, retrans, then the id.
    private static final int REPLY_STATE = HEADER_BYTES + 1;
    private static final int REPLY_SPORT = HEADER_BYTES + 4;
    private static final int REPLY_DPORT = HEADER_BYTES + 6;
    private static final int REPLY_COOKIE = HEADER_BYTES + 4 + 4 + 32 + 4;
    private static final int REPLY_BYTES = 8192;
    private static final int MAX_STALE_REPLIES = 16;
    private static final ValueLayout.OfShort BE16 = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN).withByteAlignment(1);
    private static final ValueLayout.OfInt U32 = JAVA_INT.withByteAlignment(1);
    private static final ValueLayout.OfShort U16 = JAVA_SHORT.withByteAlignment(1);

    private final int fd;
    private final Arena arena;
    private final MemorySegment request;
    private final MemorySegment reply;
    private final MemorySegment errno;
    private int seq;

    private SockDiag(int fd, Arena arena) {
        this.fd = fd;
        this.arena = arena;
        this.request = arena.allocate(REQUEST_BYTES, 8);
        this.reply = arena.allocate(REPLY_BYTES, 8);
        this.errno = arena.allocate(Libc.CAPTURE);
    }

    /**
     * Opens a netlink socket and checks that the kernel answers a lookup.
     *
     * @throws IllegalStateException naming the reason where that is not possible: not Linux, no native access, a
     *                               sandbox without netlink
     */
    static SockDiag open() {
        MethodHandle socket;
        try {
            socket = Libc.SOCKET;
        } catch (Throwable t) {
            // NOTE: Libc's handles fail to link off Linux or without --enable-native-access; both mean "use /proc".
            throw new IllegalStateException(t.toString(), t);
        }
        Arena arena = Arena.ofShared();
        int fd;
        try {
            MemorySegment capture = arena.allocate(Libc.CAPTURE);
            fd = (int) socket.invokeExact(capture, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
            if (fd < 0) {
                throw new IllegalStateException("socket(AF_NETLINK, NETLINK_SOCK_DIAG) failed with errno "
                        + (int) Libc.ERRNO.get(capture, 0L));
            }
        } catch (Throwable t) {
            arena.close();
            throw t instanceof IllegalStateException e ? e : new IllegalStateException(t.toString(), t);
        }
        SockDiag d = new SockDiag(fd, arena);
        // NOTE: port 0 to port 0 exists nowhere; a working kernel answers ENOENT.
        Answer probe = d.lookup(new TcpConnectionTable.Endpoints(mapped(), 0, mapped(), 0), NO_COOKIE);
        if (probe instanceof Answer.Unknown(String why)) {
            d.close();
            throw new IllegalStateException(why);
        }
        return d;
    }

    private static byte[] mapped() {
        byte[] a = new byte[16];
        a[10] = (byte) 0xFF;
        a[11] = (byte) 0xFF;
        a[12] = 127;
        a[15] = 1;
        return a;
    }

    /** Asks the kernel about the connection {@code e}; {@code cookie} is its last {@link Answer.Found#cookie()}. */
    Answer lookup(TcpConnectionTable.Endpoints e, long cookie) {
        int s = ++seq;
        writeRequest(e, cookie, s);
        try {
            long sent = (long) Libc.SEND.invokeExact(errno, fd, request, (long) REQUEST_BYTES, 0);
            if (sent != REQUEST_BYTES) {
                return new Answer.Unknown("netlink send failed with errno " + (int) Libc.ERRNO.get(errno, 0L));
            }
            for (int i = 0; i < MAX_STALE_REPLIES; i++) {
                long got = (long) Libc.RECV.invokeExact(errno, fd, reply, (long) REPLY_BYTES, MSG_DONTWAIT);
                if (got < HEADER_BYTES) {
                    return new Answer.Unknown("netlink recv failed with errno " + (int) Libc.ERRNO.get(errno, 0L));
                }
                if (reply.get(U32, 8) == s) {
                    return answer(e, got);
                }
            }
            return new Answer.Unknown("no netlink reply for request " + s);
        } catch (Throwable t) {
            return new Answer.Unknown(t.toString());
        }
    }

    private void writeRequest(TcpConnectionTable.Endpoints e, long cookie, int s) {
        request.fill((byte) 0);
        request.set(U32, 0, REQUEST_BYTES);
        request.set(U16, 4, SOCK_DIAG_BY_FAMILY);
        request.set(U16, 6, NLM_F_REQUEST);
        request.set(U32, 8, s);
        boolean v4 = isMapped(e.local()) && isMapped(e.remote());
        long r = HEADER_BYTES;
        request.set(JAVA_BYTE, r, (byte) (v4 ? AF_INET : AF_INET6));
        request.set(JAVA_BYTE, r + 1, IPPROTO_TCP);
        request.set(U32, r + 4, ALL_STATES);
        request.set(BE16, r + 8, (short) e.localPort());
        request.set(BE16, r + 10, (short) e.remotePort());
        MemorySegment.copy(e.local(), v4 ? 12 : 0, request, JAVA_BYTE, r + 12, v4 ? 4 : 16);
        MemorySegment.copy(e.remote(), v4 ? 12 : 0, request, JAVA_BYTE, r + 28, v4 ? 4 : 16);
        request.set(U32, r + 48, (int) cookie);
        request.set(U32, r + 52, (int) (cookie >>> 32));
    }

    private Answer answer(TcpConnectionTable.Endpoints e, long length) {
        short type = reply.get(U16, 4);
        if (type == NLMSG_ERROR) {
            int err = -reply.get(U32, HEADER_BYTES);
            return err == ENOENT ? new Answer.Gone() : new Answer.Unknown("sock_diag answered errno " + err);
        }
        if (type != SOCK_DIAG_BY_FAMILY || length < REPLY_COOKIE + 8) {
            return new Answer.Unknown("unexpected netlink reply type " + type);
        }
        int sport = Short.toUnsignedInt(reply.get(BE16, REPLY_SPORT));
        int dport = Short.toUnsignedInt(reply.get(BE16, REPLY_DPORT));
        if (sport != e.localPort() || dport != e.remotePort()) {
            // NOTE: the lookup fell back to the port's listener: the connection itself is gone.
            return new Answer.Gone();
        }
        long cookie = Integer.toUnsignedLong(reply.get(U32, REPLY_COOKIE))
                | (Integer.toUnsignedLong(reply.get(U32, REPLY_COOKIE + 4)) << 32);
        return new Answer.Found(TcpConnectionTable.State.of(Byte.toUnsignedInt(reply.get(JAVA_BYTE, REPLY_STATE))),
                cookie);
    }

    private static boolean isMapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xFF && a[11] == (byte) 0xFF;
    }

    @Override
    public void close() {
        try {
            int ignored = (int) Libc.CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            // nothing left to do with a descriptor that will not close
        }
        arena.close();
    }

    /** libc's socket calls, linked once; linking fails off Linux-like systems or without native access. */
    private static final class Libc {
        static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        static final MethodHandle SOCKET;
        static final MethodHandle SEND;
        static final MethodHandle RECV;
        static final MethodHandle CLOSE;

        static {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            Linker.Option errno = Linker.Option.captureCallState("errno");
            SOCKET = linker.downcallHandle(libc.find("socket").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), errno);
            SEND = linker.downcallHandle(libc.find("send").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), errno);
            RECV = linker.downcallHandle(libc.find("recv").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), errno);
            CLOSE = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        }

        private Libc() {
        }
    }
}
