package dev.bulkhead.router.ipc;

/**
 * One frame read from the socket. The payload is only valid until the next read on the same channel.
 *
 * @param type    what it is
 * @param payload its fields
 * @param bytes   its size on the wire, header included
 */
public record Frame(FrameType type, WireIn payload, int bytes) {
}
