package dev.tandem.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RecentChangesTest {
    static Change c(long lsn, String ops) {
        return new Change(lsn, 1, 1000 + lsn, ops);
    }

    @Test
    void answersOnlyWhenItHoldsTheChangeRightAfter() {
        RecentChanges r = new RecentChanges(100, 1000);
        assertThat(r.after(0, 10)).as("empty").isNull();
        for (long l = 5; l <= 9; l++) r.add(c(l, "[]"));
        assertThat(r.after(3, 10)).as("4 is not held: read the log").isNull();
        assertThat(r.after(4, 10)).containsExactly(c(5, "[]"), c(6, "[]"), c(7, "[]"), c(8, "[]"), c(9, "[]"));
        assertThat(r.after(6, 2)).containsExactly(c(7, "[]"), c(8, "[]"));
        assertThat(r.after(9, 10)).as("nothing newer yet").isNull();
        assertThat(r.after(4, 0)).isNull();
    }

    @Test
    void keepsTheNewestWithinItsBounds() {
        RecentChanges byCount = new RecentChanges(3, 1000);
        for (long l = 1; l <= 5; l++) byCount.add(c(l, "[]"));
        assertThat(byCount.after(1, 10)).isNull();
        assertThat(byCount.after(2, 10)).extracting(Change::lsn).containsExactly(3L, 4L, 5L);

        RecentChanges byChars = new RecentChanges(100, 10);
        byChars.add(c(1, "aaaa"));
        byChars.add(c(2, "bbbb"));
        byChars.add(c(3, "cccc"));
        assertThat(byChars.after(0, 10)).as("12 characters do not fit in 10: the oldest went").isNull();
        assertThat(byChars.after(1, 10)).extracting(Change::lsn).containsExactly(2L, 3L);
        byChars.add(c(4, "x".repeat(11)));
        assertThat(byChars.after(3, 10)).as("a change larger than the budget is read from the log").isNull();
        byChars.add(c(5, "e"));
        assertThat(byChars.after(4, 10)).extracting(Change::lsn).containsExactly(5L);
    }

    @Test
    void aChangeThatDoesNotFollowStartsAfresh() {
        RecentChanges r = new RecentChanges(100, 1000);
        r.add(c(1, "[]"));
        r.add(c(2, "[]"));
        r.add(c(10, "[]"));
        assertThat(r.after(0, 10)).isNull();
        assertThat(r.after(9, 10)).containsExactly(c(10, "[]"));
        r.clear();
        assertThat(r.after(9, 10)).isNull();
    }
}
