package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Chunked framing undone whatever the pieces it arrives in, extensions and trailers included. */
class ChunkedDecoderTest {

    private static final String FRAMED = "5;name=value\r\nhello\r\n1a\r\n, world, in chunks of any \r\n"
            + "3\r\nsiz\r\n1\r\ne\r\n0\r\nX-Trailer: t\r\n\r\nafter the end";

    @Test
    void everySplitGivesTheSameData() {
        byte[] in = FRAMED.getBytes(StandardCharsets.US_ASCII);
        SplittableRandom random = new SplittableRandom(13);
        for (int round = 0; round < 200; round++) {
            ChunkedDecoder decoder = new ChunkedDecoder();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int i = 0;
            while (i < in.length) {
                int n = round == 0 ? 1 : 1 + random.nextInt(in.length - i);
                out.writeBytes(decoder.decode(in, i, n));
                i += n;
            }
            assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("hello, world, in chunks of any size");
            assertThat(decoder.done()).isTrue();
        }
    }

    @Test
    void badFramingIsAnError() {
        byte[] in = "zz\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> new ChunkedDecoder().decode(in, 0, in.length))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("malformed");
    }
}
