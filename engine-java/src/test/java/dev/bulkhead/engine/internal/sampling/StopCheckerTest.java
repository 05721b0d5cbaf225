package dev.bulkhead.engine.internal.sampling;

import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.scheduler.FinishReason;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StopCheckerTest {

    private final ByteFallbackTokenizer tok = new ByteFallbackTokenizer("\u2581Hello", "\u2581##", "#",
            "\u2581the", "\u2581end", "<|im_end|>");
    private final int hello = tok.id("\u2581Hello");
    private final int hashes = tok.id("\u2581##");
    private final int hash = tok.id("#");
    private final int the = tok.id("\u2581the");
    private final int end = tok.id("\u2581end");
    private final int imEnd = tok.id("<|im_end|>");

    private StopChecker checker(SamplingParams.Builder params) {
        return StopChecker.create(params.build(), tok, new int[] {ByteFallbackTokenizer.BOS});
    }

    private static List<StopResult> feed(StopChecker c, int... ids) {
        List<StopResult> out = new ArrayList<>();
        for (int id : ids) {
            out.add(c.append(id));
        }
        return out;
    }

    private static List<String> texts(List<StopResult> results) {
        return results.stream().map(StopResult::text).toList();
    }

    @Test
    void stopStringSplitAcrossTokensEndsTheRequestAndIsCut() {
        StopChecker c = checker(SamplingParams.builder().stop("###").maxTokens(50));
        List<StopResult> r = feed(c, hello, hashes, hash);
        // " ##" may start "###": the "##" is withheld until the next token decides.
        assertThat(texts(r)).containsExactly("Hello", " ", "");
        assertThat(r.get(1).finished()).isFalse();
        StopResult last = r.get(2);
        assertThat(last.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(last.stopString()).isEqualTo("###");
        assertThat(last.stopTokenId()).isEqualTo(-1);
        assertThat(c.outputText()).isEqualTo("Hello ");
        assertThat(c.finished()).isTrue();
        assertThatThrownBy(() -> c.append(the)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already finished (STOP)");
    }

    @Test
    void stopStringIsKeptWhenIncluded() {
        StopChecker c = checker(SamplingParams.builder().stop("###").includeStopStringInOutput(true));
        feed(c, hello, hashes, hash);
        assertThat(c.outputText()).isEqualTo("Hello ###");
    }

    @Test
    void withheldTextIsReleasedWhenItTurnsOutNotToBeAStop() {
        StopChecker c = checker(SamplingParams.builder().stop("###", " end."));
        List<StopResult> r = feed(c, hello, hashes, the, end);
        assertThat(texts(r)).containsExactly("Hello", " ", "## the", "");
        assertThat(r).noneMatch(StopResult::finished);
        assertThat(c.outputText()).isEqualTo("Hello ## the");
    }

    @Test
    void stopStringInsideAMultiByteCharacter() {
        StopChecker c = checker(SamplingParams.builder().stop("é!"));
        int[] e = ByteFallbackTokenizer.byteIds("é");
        List<StopResult> r = feed(c, hello, e[0], e[1], ByteFallbackTokenizer.byteId('!'));
        assertThat(texts(r)).containsExactly("Hello", "", "", "");
        assertThat(r.get(3).stopString()).isEqualTo("é!");
        assertThat(c.outputText()).isEqualTo("Hello");
    }

    @Test
    void eosStopsWithoutItsTextAndReleasesWithheldText() {
        StopChecker c = checker(SamplingParams.builder().stop("###").skipSpecialTokens(false));
        List<StopResult> r = feed(c, hello, hashes, ByteFallbackTokenizer.EOS);
        StopResult last = r.get(2);
        assertThat(last.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(last.stopTokenId()).isEqualTo(ByteFallbackTokenizer.EOS);
        assertThat(last.stopString()).isNull();
        assertThat(last.text()).isEqualTo("##");
        // NOTE: with special tokens shown, the prompt's "<s>" precedes "▁Hello", so its space stays.
        assertThat(c.outputText()).isEqualTo(" Hello ##");
    }

    @Test
    void ignoreEosKeepsGoingButStopTokenIdsStillStop() {
        StopChecker c = checker(SamplingParams.builder().ignoreEos(true).stopTokenIds(imEnd));
        List<StopResult> r = feed(c, hello, ByteFallbackTokenizer.EOS, the, imEnd);
        assertThat(r.subList(0, 3)).noneMatch(StopResult::finished);
        assertThat(r.get(3).finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(r.get(3).stopTokenId()).isEqualTo(imEnd);
        assertThat(c.outputText()).isEqualTo("Hello the");
    }

    @Test
    void includedStopTokenKeepsItsText() {
        StopChecker c = checker(SamplingParams.builder().stopTokenIds(imEnd).includeStopStringInOutput(true));
        feed(c, hello, imEnd);
        assertThat(c.outputText()).isEqualTo("Hello<|im_end|>");
    }

    @Test
    void severalEosIdsFromTheModel() {
        StopChecker c = new StopChecker(SamplingParams.defaults(), new int[] {ByteFallbackTokenizer.EOS, imEnd},
                new IncrementalDetokenizer(tok, new int[0], true));
        assertThat(c.append(hello).finished()).isFalse();
        assertThat(c.append(imEnd).finishReason()).isEqualTo(FinishReason.STOP);
    }

    @Test
    void maxTokensEndsWithLengthAndFlushesEverything() {
        StopChecker c = checker(SamplingParams.builder().maxTokens(3).stop("###"));
        int[] euro = ByteFallbackTokenizer.byteIds("€");
        List<StopResult> r = feed(c, hashes, euro[0], euro[1]);
        assertThat(r.subList(0, 2)).noneMatch(StopResult::finished);
        StopResult last = r.get(2);
        assertThat(last.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(last.stopTokenId()).isEqualTo(-1);
        assertThat(c.generatedTokens()).isEqualTo(3);
        // The withheld "##" (no stop followed) and the unfinished euro sign both come out at the end.
        assertThat(c.outputText()).isEqualTo("##\uFFFD");
    }

    @Test
    void precedenceIsStopStringThenStopTokenThenLength() {
        StopChecker byString = checker(SamplingParams.builder().maxTokens(3).stop("###"));
        StopResult r = feed(byString, hello, hashes, hash).get(2);
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(r.stopString()).isEqualTo("###");

        StopChecker byToken = checker(SamplingParams.builder().maxTokens(2));
        StopResult t = feed(byToken, hello, ByteFallbackTokenizer.EOS).get(1);
        assertThat(t.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(t.stopTokenId()).isEqualTo(ByteFallbackTokenizer.EOS);
    }

    @Test
    void maxTokensOfOneFinishesOnTheFirstToken() {
        StopResult r = checker(SamplingParams.greedy(1).toBuilder()).append(hello);
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(r.text()).isEqualTo("Hello");
    }

    @Test
    void resultRejectsStopDetailsWithoutAFinishReason() {
        assertThatThrownBy(() -> new StopResult("", null, "x", -1)).isInstanceOf(IllegalArgumentException.class);
    }
}
