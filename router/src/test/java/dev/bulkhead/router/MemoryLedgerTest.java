package dev.bulkhead.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MemoryLedgerTest {

    @Test
    void aModelOverItsOwnBudgetFailsPermanentlyWithTheNumbers() {
        MemoryLedger ledger = new MemoryLedger(1_000);
        assertThatThrownBy(() -> ledger.reserve("big", 300, 300, 500))
                .isInstanceOfSatisfying(ModelLoadException.class, e -> assertThat(e.permanent()).isTrue())
                .hasMessage("model big needs 600 bytes (weights 300 + KV pool 300) but its memoryBudgetBytes is 500");
        assertThat(ledger.report().freeBytes()).isEqualTo(1_000);
    }

    @Test
    void aModelOverTheNodesFreeMemoryFailsAloneAndTakesNothingFromOthers() {
        MemoryLedger ledger = new MemoryLedger(1_000);
        MemoryLedger.Reservation a = ledger.reserve("a", 100, 500, 0);
        assertThatThrownBy(() -> ledger.reserve("b", 200, 300, 0)).isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("model b needs 500 bytes").hasMessageContaining("the node has 400 of 1000 bytes left");
        assertThat(ledger.reservedBy("a")).isEqualTo(600);
        assertThat(ledger.reservedBy("b")).isZero();
        ledger.release(a);
        assertThat(ledger.report().freeBytes()).isEqualTo(1_000);
        assertThat(ledger.report().reservedByModel()).isEmpty();
    }
}
