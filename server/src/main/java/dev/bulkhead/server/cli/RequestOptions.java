package dev.bulkhead.server.cli;

import dev.bulkhead.server.http.BrowserAccess;
import dev.bulkhead.server.http.CpuPoolConfig;
import picocli.CommandLine.Option;

/** {@code serve}'s request-level settings: which web pages may use it ({@link BrowserAccess}) and its CPU pool. */
final class RequestOptions {

    @Option(names = "--allowed-origins", paramLabel = "ORIGIN[,ORIGIN...]",
            defaultValue = "${env:BULKHEAD_ALLOWED_ORIGINS}",
            description = "Web origins (scheme://host[:port], or *) allowed to call the API from a browser; they get CORS "
                    + "answers. Without API keys any other Origin is refused (default: none, CORS off; "
                    + "BULKHEAD_ALLOWED_ORIGINS).")
    String allowedOrigins;

    @Option(names = "--allowed-hosts", paramLabel = "NAME[,NAME...]", defaultValue = "${env:BULKHEAD_ALLOWED_HOSTS}",
            description = "Host names (or *.suffix, or * for any) accepted without API keys besides localhost and loopback "
                    + "addresses, which alone are by default (against DNS rebinding; BULKHEAD_ALLOWED_HOSTS).")
    String allowedHosts;

    @Option(names = "--request-threads", paramLabel = "N", defaultValue = "0",
            description = "Platform threads that parse, render and tokenize requests off the HTTP threads (default: 0 = "
                    + "one per processor).")
    int requestThreads;

    @Option(names = "--request-queue", paramLabel = "N", defaultValue = "" + CpuPoolConfig.DEFAULT_QUEUE_BOUND,
            description = "Requests that may wait for those threads; past it a 429 (default: ${DEFAULT-VALUE}).")
    int requestQueue;

    BrowserAccess browserAccess() {
        return BrowserAccess.parse(allowedHosts, allowedOrigins);
    }

    CpuPoolConfig cpuPool() {
        return new CpuPoolConfig(requestThreads == 0 ? Runtime.getRuntime().availableProcessors() : requestThreads,
                requestQueue);
    }
}
