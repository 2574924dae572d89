package dev.tandem.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LoginLimiterTest {
    final AtomicLong now = new AtomicLong(1_000_000);
    final LoginLimiter limiter = new LoginLimiter(now::get);

    @Test
    void aFewAttemptsAreFree_thenEachWaitDoublesUpToAMinute() {
        for (int i = 1; i < LoginLimiter.USER_FREE; i++) assertThat(limiter.admit("ops", "10.0.0.1")).as("attempt " + i).isZero();
        assertThat(limiter.admit("ops", "10.0.0.1")).isZero(); // the 5th is admitted and opens a 1 s wait
        assertThat(limiter.admit("ops", "10.0.0.2")).as("the wait is per user, from any address").isEqualTo(1000);
        now.addAndGet(1000);
        assertThat(limiter.admit("ops", "10.0.0.1")).isZero();
        assertThat(limiter.admit("ops", "10.0.0.1")).isEqualTo(2000);
        for (int i = 0; i < 20; i++) {
            now.addAndGet(LoginLimiter.MAX_WAIT_MS);
            assertThat(limiter.admit("ops", "10.0.0." + (10 + i))).isZero();
        }
        assertThat(limiter.admit("ops", "10.0.0.1")).isEqualTo(LoginLimiter.MAX_WAIT_MS);
        assertThat(limiter.admit("dev", "10.0.0.99")).as("other users are not held up").isZero();
    }

    @Test
    void aSuccessClearsTheUser_andQuietClearsEverything() {
        for (int i = 0; i < LoginLimiter.USER_FREE - 1; i++) limiter.admit("ops", "10.0.0.1");
        limiter.succeeded("ops", "10.0.0.1");
        for (int i = 0; i < LoginLimiter.USER_FREE - 1; i++) assertThat(limiter.admit("ops", "10.0.0.1")).isZero();
        now.addAndGet(LoginLimiter.FORGET_MS + 1);
        for (int i = 0; i < LoginLimiter.USER_FREE - 1; i++) assertThat(limiter.admit("ops", "10.0.0.1")).isZero();
    }

    @Test
    void oneAddressTryingManyUsersIsHeldUpToo() {
        for (int i = 0; i < LoginLimiter.ADDRESS_FREE; i++) assertThat(limiter.admit("user" + i, "10.9.9.9")).isZero();
        assertThat(limiter.admit("someone-else", "10.9.9.9")).isPositive();
        assertThat(limiter.admit("someone-else", "10.9.9.8")).isZero();
    }
}
