package dev.tandem.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommonPointTest {
    static JsonArray ranges(long[]... r) {
        JsonArray a = new JsonArray();
        for (long[] x : r) a.add(new JsonArray().add(x[0]).add(x[1]).add(x[2]));
        return a;
    }

    @Test
    void theHistoriesMeetWhereTheirTermsLastAgree() {
        // old primary wrote 1..10 in term 1 and 11..15 in term 2; the group went on with term 3 from 11
        List<long[]> mine = List.of(new long[] {1, 1, 10}, new long[] {2, 11, 15});
        assertThat(SecondarySide.commonPoint(mine, ranges(new long[] {1, 1, 10}, new long[] {3, 11, 40}))).isEqualTo(10);
        // the group had only reached 8 of term 1 when it moved on
        assertThat(SecondarySide.commonPoint(mine, ranges(new long[] {1, 1, 8}, new long[] {3, 9, 40}))).isEqualTo(8);
        // nothing in common
        assertThat(SecondarySide.commonPoint(mine, ranges(new long[] {4, 1, 3}))).isZero();
    }
}
