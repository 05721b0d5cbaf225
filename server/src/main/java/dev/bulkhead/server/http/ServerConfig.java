package dev.bulkhead.server.http;

import java.util.Objects;

/**
 * HTTP server settings.
 *
 * @param host                       address to bind ({@code 127.0.0.1} keeps it local)
 * @param port                       port to bind; 0 picks a free one
 * @param maxBodyBytes               largest request body accepted (413 past it)
 * @param logPrompts                 log prompts at INFO (off by default: prompts are user data)
 * @param apiKeys                    bearer keys every {@code /v1/} request must carry; {@link ApiKeys#none()} for an
 *                                   open server
 * @param allowUnauthenticatedRemote bind a non-loopback address without keys; off by default, so that an open
 *                                   server is never reachable from the network by accident
 * @param browserAccess              Host names and web origins accepted without keys, and CORS;
 *                                   {@link BrowserAccess#loopbackOnly()} when null
 * @param requestCpu                 the platform threads that parse, render and tokenize requests;
 *                                   {@link CpuPoolConfig#defaults()} when null
 * @param connections                connection cap and timeouts; {@link ConnectionLimits#defaults()} when null
 */
public record ServerConfig(String host, int port, long maxBodyBytes, boolean logPrompts, ApiKeys apiKeys,
                           boolean allowUnauthenticatedRemote, BrowserAccess browserAccess, CpuPoolConfig requestCpu,
                           ConnectionLimits connections) {

    /** 1 MiB, enough for long prompts and chat histories. */
    public static final long DEFAULT_MAX_BODY_BYTES = 1 << 20;

    public ServerConfig {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host must be non-blank");
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        }
        if (maxBodyBytes < 1 || maxBodyBytes > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("maxBodyBytes must be in [1, 2^31 - 17], got " + maxBodyBytes);
        }
        apiKeys = Objects.requireNonNullElse(apiKeys, ApiKeys.none());
        browserAccess = Objects.requireNonNullElseGet(browserAccess, BrowserAccess::loopbackOnly);
        requestCpu = Objects.requireNonNullElseGet(requestCpu, CpuPoolConfig::defaults);
        connections = Objects.requireNonNullElseGet(connections, ConnectionLimits::defaults);
    }

    /** With the default browser access, request CPU pool and connection limits. */
    public ServerConfig(String host, int port, long maxBodyBytes, boolean logPrompts, ApiKeys apiKeys,
                        boolean allowUnauthenticatedRemote) {
        this(host, port, maxBodyBytes, logPrompts, apiKeys, allowUnauthenticatedRemote, null, null, null);
    }

    /** Without keys, and refusing non-loopback hosts. */
    public ServerConfig(String host, int port, long maxBodyBytes, boolean logPrompts) {
        this(host, port, maxBodyBytes, logPrompts, ApiKeys.none(), false);
    }

    /** Loopback on {@code port} with default limits. */
    public static ServerConfig local(int port) {
        return new ServerConfig("127.0.0.1", port, DEFAULT_MAX_BODY_BYTES, false);
    }

    public ServerConfig withMaxBodyBytes(long bytes) {
        return new ServerConfig(host, port, bytes, logPrompts, apiKeys, allowUnauthenticatedRemote, browserAccess,
                requestCpu, connections);
    }

    public ServerConfig withHost(String h) {
        return new ServerConfig(h, port, maxBodyBytes, logPrompts, apiKeys, allowUnauthenticatedRemote, browserAccess,
                requestCpu, connections);
    }

    public ServerConfig withApiKeys(ApiKeys keys) {
        return new ServerConfig(host, port, maxBodyBytes, logPrompts, keys, allowUnauthenticatedRemote, browserAccess,
                requestCpu, connections);
    }

    public ServerConfig withAllowUnauthenticatedRemote(boolean allow) {
        return new ServerConfig(host, port, maxBodyBytes, logPrompts, apiKeys, allow, browserAccess,
                requestCpu, connections);
    }

    public ServerConfig withBrowserAccess(BrowserAccess access) {
        return new ServerConfig(host, port, maxBodyBytes, logPrompts, apiKeys, allowUnauthenticatedRemote, access,
                requestCpu, connections);
    }

    public ServerConfig withRequestCpu(CpuPoolConfig pool) {
        return new ServerConfig(host, port, maxBodyBytes, logPrompts, apiKeys, allowUnauthenticatedRemote,
                browserAccess, pool, connections);
    }

    public ServerConfig withConnections(ConnectionLimits limits) {
        return new ServerConfig(host, port, maxBodyBytes, logPrompts, apiKeys, allowUnauthenticatedRemote,
                browserAccess, requestCpu, limits);
    }
}
