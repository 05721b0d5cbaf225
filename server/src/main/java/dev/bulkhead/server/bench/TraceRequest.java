package dev.bulkhead.server.bench;

/**
 * One request of a serving trace.
 *
 * @param arrivalOffsetMillis when it arrives, from the start of the replay
 * @param promptLen           prompt tokens, >= 1
 * @param outputLen           tokens to generate (EOS ignored), >= 1
 */
public record TraceRequest(double arrivalOffsetMillis, int promptLen, int outputLen) {

    public TraceRequest {
        if (!(arrivalOffsetMillis >= 0) || Double.isInfinite(arrivalOffsetMillis)) {
            throw new IllegalArgumentException("arrivalOffsetMillis must be finite and >= 0, got " + arrivalOffsetMillis);
        }
        if (promptLen < 1) {
            throw new IllegalArgumentException("promptLen must be >= 1, got " + promptLen);
        }
        if (outputLen < 1) {
            throw new IllegalArgumentException("outputLen must be >= 1, got " + outputLen);
        }
    }
}
