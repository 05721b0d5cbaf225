package dev.bulkhead.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** Questions to a worker: answered by their own number, forgotten when they time out, failed when it is lost. */
class PendingRepliesTest {

    @Test
    void anAnswerGoesToItsQuestionAndATimedOutOneLeavesNothingBehind() throws Exception {
        PendingReplies<String> replies = new PendingReplies<>();
        List<Integer> sent = new ArrayList<>();
        CompletableFuture<String> first = replies.ask(sent::add, 5_000);
        CompletableFuture<String> second = replies.ask(sent::add, 50);
        assertThat(sent).hasSize(2).doesNotHaveDuplicates();
        replies.answer(sent.get(0), "one");
        assertThat(first.get(1, TimeUnit.SECONDS)).isEqualTo("one");
        assertThatThrownBy(() -> second.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(TimeoutException.class);
        assertThat(replies.waiting()).as("nothing waits after its timeout").isZero();
        replies.answer(sent.get(1), "late");
        assertThat(replies.waiting()).isZero();

        CompletableFuture<String> third = replies.ask(sent::add, 5_000);
        replies.failAll(new WorkerLostException("worker of w exited"));
        assertThatThrownBy(() -> third.get(1, TimeUnit.SECONDS)).cause().isInstanceOf(WorkerLostException.class);
        assertThat(replies.waiting()).isZero();
    }
}
