package dev.tandem.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.harness.JitActivity;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The JIT warm-up's measure, on this JVM (a HotSpot with its compiler threads) and on a process that is gone. */
class JitActivityTest {
    @Test
    void thisJvmsCompilersHaveWorkedAndTheirTimeOnlyGrows() throws Exception {
        long pid = ProcessHandle.current().pid();
        long first = JitActivity.compilerMillis(pid);
        assertThat(first).as("a JVM that loaded JUnit has compiled something").isPositive();
        assertThat(JitActivity.compilerMillis(pid)).isGreaterThanOrEqualTo(first);
    }

    @Test
    void aProcessThatIsGoneIsAClearError() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        assertThatThrownBy(() -> JitActivity.compilerMillis(p.pid())).isInstanceOf(IOException.class).hasMessageContaining("no process " + p.pid());
    }

    @Test
    void warmUpStopsWhenQuietOrAtItsLimit() throws Exception {
        long pid = ProcessHandle.current().pid();
        AtomicInteger rounds = new AtomicInteger();
        // a round that compiles nothing new: quiet at the first look (a share of a whole core is always reached)
        JitActivity.Warmup w = JitActivity.warmUp(List.of(pid), () -> rounds.incrementAndGet(), Duration.ofSeconds(60), 1.0 * Runtime.getRuntime().availableProcessors() * 4);
        assertThat(w.quiet()).isTrue();
        assertThat(rounds).hasValue(1);
        assertThat(w.describe()).startsWith("warmed up 0 s, until the JIT compilers were quiet");
        // a share nobody can be under (negative): runs until the limit, then says the figures may be low
        rounds.set(0);
        JitActivity.Warmup busy = JitActivity.warmUp(List.of(pid), () -> {
            rounds.incrementAndGet();
            Thread.sleep(20);
        }, Duration.ofMillis(100), -1);
        assertThat(busy.quiet()).isFalse();
        assertThat(rounds.get()).isBetween(2, 1000);
        assertThat(busy.describe()).contains("still busy").contains("figures may be low");
    }
}
