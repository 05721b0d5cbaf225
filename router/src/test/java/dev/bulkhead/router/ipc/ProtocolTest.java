package dev.bulkhead.router.ipc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.FinishReason;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.GuidedDecoding;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.internal.sampling.SampleResult;
import java.io.EOFException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The wire protocol over a real Unix domain socket pair: every structured message survives the trip field for
 * field, and what a broken or hostile peer sends (unknown type, a length past the limit, a payload cut short, a
 * stream cut inside a frame) is refused as a protocol violation rather than read as something else.
 */
class ProtocolTest {

    private Path dir;
    private FrameChannel a;
    private FrameChannel b;
    private SocketChannel rawA;

    @BeforeEach
    void connect() throws Exception {
        dir = Files.createTempDirectory("bulkhead-ipc-test");
        Path socket = dir.resolve("t.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            rawA = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            b = new FrameChannel(server.accept());
        }
        a = new FrameChannel(rawA);
    }

    @AfterEach
    void close() throws Exception {
        a.close();
        b.close();
        Files.deleteIfExists(dir.resolve("t.sock"));
        Files.deleteIfExists(dir);
    }

    @Test
    void aRequestWithEverySamplingFieldArrivesEqual() throws Exception {
        SamplingParams p = SamplingParams.builder().temperature(0.7f).topK(40).topP(0.9f).minP(0.05f)
                .repetitionPenalty(1.1f).presencePenalty(-0.5f).frequencyPenalty(0.25f).seed(-42L).maxTokens(33)
                .stopTokenIds(7, 9).stop("The end", "ü\n").ignoreEos(true).includeStopStringInOutput(true)
                .skipSpecialTokens(false).logprobs(5)
                .guidedDecoding(new GuidedDecoding.JsonSchema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}"))
                .build();
        Instant deadline = Instant.ofEpochSecond(1_900_000_000L, 123_456_789);
        GenerateRequest text = new GenerateRequest("req-1", "Once upon a time ☃", null, p, -3, deadline);
        GenerateRequest ids = GenerateRequest.ofTokens(new int[] {1, 2, 511}, SamplingParams.builder()
                .guidedDecoding(new GuidedDecoding.JsonObject()).build()).withRequestId("req-2");
        for (GenerateRequest r : List.of(text, ids)) {
            WireOut out = WireOut.frame(FrameType.SUBMIT, 8).i32(5).u8(1);
            Messages.request(out, r);
            a.write(out.finish());
            Frame f = b.read();
            assertThat(f.type()).isEqualTo(FrameType.SUBMIT);
            assertThat(f.payload().i32()).isEqualTo(5);
            assertThat(f.payload().u8()).isEqualTo(1);
            GenerateRequest back = Messages.request(f.payload());
            assertThat(f.payload().remaining()).as("nothing left over").isZero();
            assertThat(back.requestId()).isEqualTo(r.requestId());
            assertThat(back.prompt()).isEqualTo(r.prompt());
            assertThat(back.promptTokenIds()).isEqualTo(r.promptTokenIds());
            assertThat(back.priority()).isEqualTo(r.priority());
            assertThat(back.deadline()).isEqualTo(r.deadline());
            assertThat(back.sampling()).isEqualTo(r.sampling());
        }
        assertThat(ids.sampling().seed()).isNull();
    }

    @Test
    void deltasAndCompletionsArriveEqual() throws Exception {
        SampleResult lp = new SampleResult(17, -0.25f, List.of(new SampleResult.TokenLogprob(17, -0.25f),
                new SampleResult.TokenLogprob(3, -1.5f)));
        TokenDelta d = new TokenDelta("r", 17, "héllo", 4, null, lp);
        TokenDelta last = new TokenDelta("r", -1, "", 5, FinishReason.ABORT);
        Completion c = new Completion("r", new int[] {1, 2}, new int[] {17, 3}, "héllo wörld", FinishReason.LENGTH,
                12.5, 99.25, List.of(lp, lp));
        for (TokenDelta x : List.of(d, last)) {
            WireOut out = WireOut.frame(FrameType.DELTA, 8).i32(9);
            Messages.delta(out, x, 123L);
            a.write(out.finish());
            Frame f = b.read();
            assertThat(f.payload().i32()).isEqualTo(9);
            assertThat(Messages.delta(f.payload(), "r")).isEqualTo(x);
            assertThat(f.payload().i64()).isEqualTo(123L);
        }
        WireOut out = WireOut.frame(FrameType.DONE, 8).i32(9);
        Messages.completion(out, c);
        a.write(out.finish());
        Completion back = Messages.completion(b.read().payload().skipInt());
        assertThat(back).usingRecursiveComparison().isEqualTo(c);
    }

    @Test
    void aHeartbeatArrivesEqual() throws Exception {
        Heartbeat h = new Heartbeat(7, 1_234_567, 3, 12, 100 << 20, 320 << 20, "lost the device");
        WireOut out = WireOut.frame(FrameType.HEARTBEAT, 8);
        h.write(out);
        a.write(out.finish());
        assertThat(Heartbeat.read(b.read().payload())).isEqualTo(h);
    }

    @Test
    void whatABrokenPeerSendsIsRefused() throws Exception {
        rawA.write(ByteBuffer.wrap(new byte[] {0, 0, 0, 1, 0x7f}));
        assertThatThrownBy(b::read).isInstanceOf(ProtocolException.class).hasMessageContaining("unknown frame type");

        rawA.write(ByteBuffer.allocate(5).putInt(FrameChannel.MAX_FRAME_BYTES + 1).put((byte) 0x85).flip());
        assertThatThrownBy(b::read).isInstanceOf(ProtocolException.class).hasMessageContaining("outside");

        a.write(WireOut.frame(FrameType.HEARTBEAT, 8).i64(1).finish());
        WireIn cut = b.read().payload();
        assertThatThrownBy(() -> Heartbeat.read(cut)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("ends early");

        a.write(WireOut.frame(FrameType.DONE, 8).i32(1).i32(Integer.MAX_VALUE).finish());
        WireIn huge = b.read().payload();
        huge.i32();
        assertThatThrownBy(huge::str).as("a length past the payload, not an allocation")
                .isInstanceOf(ProtocolException.class).hasMessageContaining("past the end");

        rawA.write(ByteBuffer.allocate(7).putInt(10).put((byte) 0x88).putShort((short) 1).flip());
        rawA.close();
        assertThatThrownBy(b::read).isInstanceOf(EOFException.class);
    }
}
